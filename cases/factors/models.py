"""The factor quota ledgers: one per factor and year, kept by a bureau, with its append-only lines
(a cash book of quota in 亩, 吨标准煤 or 吨), and the factor requests of pre-work items."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cases.models import KeyProject, PreworkItem, Unit


class Factor(models.TextChoices):
    LAND = "land", _("Construction land")
    FOREST_LAND = "forest_land", _("Forest land")
    ENERGY = "energy", _("Energy use")
    SO2 = "so2", _("Sulphur dioxide (SO₂) emissions")
    NOX = "nox", _("Nitrogen oxides (NOx) emissions")
    COD = "cod", _("Chemical oxygen demand (COD) emissions")
    NH3N = "nh3n", _("Ammonia nitrogen (NH₃-N) emissions")


EMISSIONS = (Factor.SO2, Factor.NOX, Factor.COD, Factor.NH3N)

# The unit each factor is counted in.
FACTOR_UNIT = {
    Factor.LAND: _("mu"),
    Factor.FOREST_LAND: _("mu"),
    Factor.ENERGY: _("tonnes of standard coal"),
    **{factor: _("tonnes") for factor in EMISSIONS},
}

# The factors a pre-work item of each kind asks the ledgers for.
FACTORS_OF_PREWORK_KIND = {
    "land": (Factor.LAND, Factor.FOREST_LAND),
    "energy": (Factor.ENERGY,),
    "eia": EMISSIONS,
}

# The blocker category a shortfall of each factor is raised in.
BLOCKER_CATEGORY_OF_FACTOR = {
    Factor.LAND: "land",
    Factor.FOREST_LAND: "forestry",
    Factor.ENERGY: "energy",
    **{factor: "environment" for factor in EMISSIONS},
}

QUANTITY = {"max_digits": 14, "decimal_places": 4}
ZERO = Decimal("0")


def unit_of(factor):
    return FACTOR_UNIT[Factor(factor)]


def format_quantity(value):
    """A quantity as people read it: grouped, no trailing zeros (12.5, 1,200)."""
    value = Decimal(value)
    places = max(0, -value.normalize().as_tuple().exponent)
    return number_format(value, decimal_pos=min(places, 4), force_grouping=True)


class FactorLedger(models.Model):
    """A year's quota of one factor, kept by the bureau responsible for it, like a cash book.

    The totals are the sums of its lines, kept by the services under the ledger's row lock:
    balance = received + returned − allocated − reserved (reservations still open)."""

    factor = models.CharField(_("factor"), max_length=20, choices=Factor.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    bureau = models.ForeignKey(
        Unit,
        verbose_name=_("keeping bureau"),
        on_delete=models.PROTECT,
        related_name="factor_ledgers",
        limit_choices_to={"kind": "department"},
    )
    received = models.DecimalField(
        _("received"), default=ZERO, help_text=_("Quota received, in the factor's unit."), **QUANTITY
    )
    reserved = models.DecimalField(
        _("reserved"), default=ZERO, help_text=_("Open reservations, in the factor's unit."), **QUANTITY
    )
    allocated = models.DecimalField(
        _("allocated"), default=ZERO, help_text=_("Quota allocated, in the factor's unit."), **QUANTITY
    )
    returned = models.DecimalField(
        _("returned"), default=ZERO, help_text=_("Quota returned, in the factor's unit."), **QUANTITY
    )
    line_count = models.PositiveIntegerField(_("lines"), default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("factor ledger")
        verbose_name_plural = _("factor ledgers")
        ordering = ["-year", "factor"]
        constraints = [
            models.UniqueConstraint(fields=["factor", "year"], name="uniq_factor_ledger_year"),
            models.CheckConstraint(
                condition=Q(received__gte=0) & Q(reserved__gte=0) & Q(allocated__gte=0) & Q(returned__gte=0),
                name="factor_ledger_totals_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(received__gte=F("allocated") + F("reserved") - F("returned")),
                name="factor_ledger_balance_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.year} · {self.get_factor_display()}"

    @property
    def unit(self):
        return unit_of(self.factor)

    @property
    def balance(self):
        return self.received + self.returned - self.allocated - self.reserved


class LineKind(models.TextChoices):
    RECEIVED = "received", _("Received")
    RESERVED = "reserved", _("Reserved for a project")
    RELEASED = "released", _("Reservation released")
    ALLOCATED = "allocated", _("Allocated")
    RETURNED = "returned", _("Returned")


# How each kind of line moves the balance.
BALANCE_SIGN = {
    LineKind.RECEIVED: 1,
    LineKind.RESERVED: -1,
    LineKind.RELEASED: 1,
    LineKind.ALLOCATED: -1,
    LineKind.RETURNED: 1,
}


class AppendOnly(Exception):
    pass


class FactorLine(models.Model):
    """One line of a ledger's cash book: never changed nor deleted once written."""

    ledger = models.ForeignKey(FactorLedger, verbose_name=_("ledger"), on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveIntegerField(_("line number"))
    kind = models.CharField(_("kind"), max_length=20, choices=LineKind.choices)
    quantity = models.DecimalField(
        _("quantity"), help_text=_("In the factor's unit (mu, tonnes of standard coal or tonnes)."), **QUANTITY
    )
    balance_after = models.DecimalField(
        _("balance after"), help_text=_("The ledger's balance after this line, in the factor's unit."), **QUANTITY
    )
    request = models.ForeignKey(
        "FactorRequest",
        verbose_name=_("factor request"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lines",
    )
    project = models.ForeignKey(
        KeyProject,
        verbose_name=_("key project"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="factor_lines",
    )
    reason = models.TextField(_("reason"))
    document_number = models.CharField(pgettext_lazy("ledger", "document number"), max_length=80, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(_("actor"), max_length=150, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("ledger line")
        verbose_name_plural = _("ledger lines")
        ordering = ["ledger", "position"]
        constraints = [
            models.UniqueConstraint(fields=["ledger", "position"], name="uniq_factor_line_position"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="factor_line_quantity_positive"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="factor_line_balance_not_negative"),
            # A request is reserved at most once and allocated at most once, even in a race.
            models.UniqueConstraint(
                fields=["request"], condition=Q(kind="allocated"), name="uniq_factor_allocation_per_request"
            ),
            models.UniqueConstraint(
                fields=["request"], condition=Q(kind="reserved"), name="uniq_factor_reservation_per_request"
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["reserved", "released", "allocated"]) | Q(request__isnull=False),
                name="factor_line_request_given",
            ),
        ]

    def __str__(self):
        return f"{self.ledger} #{self.position} {self.get_kind_display()} {self.quantity}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnly("A ledger line is never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("A ledger line is never deleted.")

    @property
    def signed_quantity(self):
        return self.quantity * BALANCE_SIGN[LineKind(self.kind)]


class RequestState(models.TextChoices):
    REQUESTED = "requested", pgettext_lazy("factor request", "Requested")
    RESERVED = "reserved", pgettext_lazy("factor request", "Reserved")
    RELEASED = "released", pgettext_lazy("factor request", "Released")
    ALLOCATED = "allocated", pgettext_lazy("factor request", "Allocated")


OPEN_REQUEST_STATES = (RequestState.REQUESTED, RequestState.RESERVED, RequestState.RELEASED)


class FactorRequest(models.Model):
    """What a pre-work item (land, energy review, EIA) asks a ledger for: a quantity of a factor
    in a year; the bureau reserves and allocates it."""

    item = models.ForeignKey(
        PreworkItem, verbose_name=_("pre-work item"), on_delete=models.PROTECT, related_name="factor_requests"
    )
    project = models.ForeignKey(
        KeyProject, verbose_name=_("key project"), on_delete=models.PROTECT, related_name="factor_requests",
        editable=False,
    )
    ledger = models.ForeignKey(
        FactorLedger, verbose_name=_("ledger"), on_delete=models.PROTECT, related_name="requests"
    )
    quantity = models.DecimalField(
        _("quantity"), help_text=_("In the factor's unit (mu, tonnes of standard coal or tonnes)."), **QUANTITY
    )
    state = models.CharField(_("state"), max_length=20, choices=RequestState.choices, default=RequestState.REQUESTED)
    note = models.TextField(_("note"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), null=True, on_delete=models.PROTECT,
        related_name="+", editable=False,
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("factor request")
        verbose_name_plural = _("factor requests")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="factor_request_quantity_positive"),
        ]
        indexes = [models.Index(fields=["ledger", "state"])]

    def __str__(self):
        return f"{self.project.code} · {self.ledger.get_factor_display()} {self.quantity}"

    def clean(self):
        if self.item_id and self.ledger_id:
            allowed = FACTORS_OF_PREWORK_KIND.get(self.item.kind, ())
            if self.ledger.factor not in allowed:
                raise ValidationError(
                    {"ledger": _("A pre-work item of this kind does not ask for this factor.")}
                )

    @property
    def unit(self):
        return self.ledger.unit

    @property
    def is_open(self):
        return self.state in OPEN_REQUEST_STATES
