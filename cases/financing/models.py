"""Financing docking (DESIGN section 7): the white list of financing needs, institutions' products,
the matches between them, the dockings, matchmaking events, and when a docking counts as stalled.

Institutions are units of kind ``institution`` (their branches are child units); a docking
follows one need with one institution through its funnel. The models belong to the ``cases``
app (``app_label``), as they did before they had a room of their own: their tables and migrations
stay.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import FSMField, transition

from cases import guards
from cases.formatting import format_wan
from cases.models.base import VersionedModel, transition_permission
from cases.models.choices import Industry, Stage

from . import guards as financing_guards
from .choices import DOCKING_CREDIT_REACHED, DOCKING_INTENT_REACHED, DockingState  # noqa: F401 - read from here too

MONEY = {"max_digits": 16, "decimal_places": 2}
POSITIVE_MONEY = [MinValueValidator(Decimal("0.01"))]
NON_NEGATIVE = [MinValueValidator(Decimal("0"))]


class FinancingType(models.TextChoices):
    LOAN = "loan", _("Loan")
    BOND = "bond", _("Bond")
    EQUITY = "equity", _("Equity")
    LEASE = "lease", _("Financial lease")
    GUARANTEE = "guarantee", _("Guarantee")
    INSURANCE = "insurance", _("Insurance")
    COMBINED = "combined", _("Combined product (such as insurance plus R&D loan)")


class SpecialLine(models.TextChoices):
    """Special credit lines named in the seeds."""

    NONE = "", _("None")
    SPECIALIZED_SME = "specialized_sme", _("Loans for specialized and sophisticated SMEs")
    SCI_TECH = "sci_tech", _("Sci-tech achievement conversion loans")
    DIGITAL = "digital", _("Digital transformation loans")
    RELENDING = "relending", _("Re-lending for technological transformation")


class NeedState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for review")
    PUBLISHED = "published", _("Published on the white list")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", pgettext_lazy("financing need", "Withdrawn")


# Bits of the masks products use for their target industries and stages; 0 means any.
INDUSTRY_BITS = {value: 1 << index for index, value in enumerate(Industry.values)}
STAGE_BITS = {value: 1 << index for index, value in enumerate(Stage.values)}


def mask_of(values, bits):
    mask = 0
    for value in values or ():
        mask |= bits[value]
    return mask


def values_of(mask, bits):
    return [value for value, bit in bits.items() if mask & bit]


class FinancingNeed(VersionedModel):
    """A case's financing need; once the secretariat publishes it, it is on the white list."""

    project = models.ForeignKey(
        "cases.KeyProject", verbose_name=_("key project"), on_delete=models.PROTECT, related_name="financing_needs"
    )
    amount = models.DecimalField(_("amount (yuan)"), validators=POSITIVE_MONEY, **MONEY)
    financing_type = models.CharField(_("type"), max_length=20, choices=FinancingType.choices)
    purpose = models.TextField(_("purpose"))
    term_months = models.PositiveSmallIntegerField(
        _("term (months)"), validators=[MinValueValidator(1), MaxValueValidator(600)]
    )
    deadline = models.DateField(_("needed by"))
    collateral = models.TextField(_("collateral or credit enhancement on offer"), blank=True)
    state = FSMField(_("state"), default=NeedState.DRAFT, choices=NeedState.choices, protected=True)
    review_note = models.TextField(_("review note"), blank=True)
    # Copied from the case when the need is published or the case changes, so that matching
    # reads one table with its indexes.
    industry = models.CharField(_("industry"), max_length=30, choices=Industry.choices, blank=True)
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, blank=True)
    region = models.ForeignKey(
        "cases.Unit", verbose_name=_("region"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        app_label = "cases"
        verbose_name = _("financing need")
        verbose_name_plural = _("financing needs")
        ordering = ["-published_at", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="need_amount_positive")]
        indexes = [
            models.Index(fields=["state", "financing_type", "amount"], name="need_match"),
            models.Index(fields=["state", "industry"], name="need_state_industry"),
            models.Index(fields=["state", "published_at"], name="need_white_list"),
        ]

    def __str__(self):
        return f"{self.get_financing_type_display()} · {format_wan(self.amount)}"


class FinancialProduct(VersionedModel):
    """An institution's financing product, maintained by the secretariat or the institution.

    Versioned like the needs: two people changing the same product at once, the second is told.
    """

    institution = models.ForeignKey(
        "cases.Unit", verbose_name=_("institution"), on_delete=models.PROTECT, related_name="products",
        limit_choices_to={"kind": "institution"},
    )
    name = models.CharField(_("name"), max_length=120)
    financing_type = models.CharField(_("type"), max_length=20, choices=FinancingType.choices)
    special_line = models.CharField(_("special line"), max_length=20, choices=SpecialLine.choices, blank=True, default="")
    amount_min = models.DecimalField(_("smallest amount (yuan)"), validators=NON_NEGATIVE, **MONEY)
    amount_max = models.DecimalField(_("largest amount (yuan)"), validators=NON_NEGATIVE, **MONEY)
    rate_min = models.DecimalField(_("lowest rate (% a year)"), max_digits=5, decimal_places=2, validators=NON_NEGATIVE)
    rate_max = models.DecimalField(_("highest rate (% a year)"), max_digits=5, decimal_places=2, validators=NON_NEGATIVE)
    term_months_min = models.PositiveSmallIntegerField(_("shortest term (months)"), default=1)
    term_months_max = models.PositiveSmallIntegerField(_("longest term (months)"), default=360)
    industries_mask = models.BigIntegerField(
        _("target industries"), default=0, help_text=_("Bits of the target industries; 0 for any industry.")
    )
    stages_mask = models.BigIntegerField(
        _("target stages"), default=0, help_text=_("Bits of the target stages; 0 for any stage.")
    )
    regions = models.ManyToManyField(
        "cases.Unit", verbose_name=_("regions"), blank=True, related_name="+", limit_choices_to={"kind": "district"},
        help_text=_("Empty for every region."),
    )
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        app_label = "cases"
        verbose_name = _("financial product")
        verbose_name_plural = _("financial products")
        ordering = ["institution__name", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_max__gte=F("amount_min")), name="product_amount_range"),
            models.CheckConstraint(condition=Q(rate_max__gte=F("rate_min")), name="product_rate_range"),
            models.CheckConstraint(condition=Q(term_months_max__gte=F("term_months_min")), name="product_term_range"),
        ]
        indexes = [models.Index(fields=["is_active", "financing_type", "amount_min", "amount_max"], name="product_match")]

    def __str__(self):
        return f"{self.institution_id} · {self.name}"


class NeedMatch(models.Model):
    """A product that fits a need, with its score and the reasons it matched; written by matching."""

    need = models.ForeignKey(FinancingNeed, verbose_name=_("financing need"), on_delete=models.CASCADE, related_name="matches")
    product = models.ForeignKey(FinancialProduct, verbose_name=_("product"), on_delete=models.CASCADE, related_name="matches")
    institution = models.ForeignKey("cases.Unit", verbose_name=_("institution"), on_delete=models.CASCADE, related_name="+")
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        app_label = "cases"
        verbose_name = _("match")
        verbose_name_plural = _("matches")
        ordering = ["need", "-score"]
        constraints = [models.UniqueConstraint(fields=["need", "product"], name="uniq_match_need_product")]
        indexes = [
            models.Index(fields=["need", "-score"], name="match_need_score"),
            models.Index(fields=["product", "-score"], name="match_product_score"),
            models.Index(fields=["institution", "-score"], name="match_institution_score"),
        ]

    def __str__(self):
        return f"{self.need_id} ↔ {self.product_id} {self.score}"


class DockingStallRule(models.Model):
    """How many working days without a step make a docking in a state stalled; editable in the admin."""

    state = models.CharField(_("state"), max_length=20, unique=True)
    working_days = models.PositiveSmallIntegerField(
        _("working days without a step"), validators=[MinValueValidator(1), MaxValueValidator(250)]
    )

    class Meta:
        app_label = "cases"
        verbose_name = _("stalled docking rule")
        verbose_name_plural = _("stalled docking rules")
        ordering = ["state"]

    def __str__(self):
        return f"{self.state} · {self.working_days}"


class MatchmakingEvent(VersionedModel):
    """A roadshow or matchmaking event (such as "one month, one industrial chain")."""

    class Kind(models.TextChoices):
        ROADSHOW = "roadshow", _("Roadshow")
        CHAIN_MONTH = "chain_month", _("One month, one industrial chain")
        MATCHMAKING = "matchmaking", _("Matchmaking meeting")

    class State(models.TextChoices):
        PLANNED = "planned", _("Planned")
        INVITED = "invited", _("Invitations sent")
        HELD = "held", pgettext_lazy("event", "Held")
        CLOSED = "closed", _("Closed")

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.ROADSHOW)
    chain = models.CharField(_("industrial chain"), max_length=30, choices=Industry.choices)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    place = models.CharField(_("place"), max_length=200)
    organiser = models.ForeignKey(
        "cases.Unit", verbose_name=_("organiser"), on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    projects = models.ManyToManyField("cases.KeyProject", verbose_name=_("projects pitched"), blank=True, related_name="events")
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.PLANNED)
    summary = models.TextField(_("summary"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )

    class Meta:
        app_label = "cases"
        verbose_name = _("matchmaking event")
        verbose_name_plural = _("matchmaking events")
        ordering = ["-starts_at"]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gte=F("starts_at")), name="event_ends_after_start")]

    def __str__(self):
        return self.title


class EventInvitation(models.Model):
    """An institution invited to an event, and whether it came."""

    event = models.ForeignKey(MatchmakingEvent, verbose_name=_("event"), on_delete=models.CASCADE, related_name="invitations")
    institution = models.ForeignKey(
        "cases.Unit", verbose_name=_("institution"), on_delete=models.PROTECT, related_name="+",
        limit_choices_to={"kind": "institution"},
    )
    invited_at = models.DateTimeField(_("invited at"), null=True, blank=True)
    attended = models.BooleanField(_("attended"), null=True, blank=True)

    class Meta:
        app_label = "cases"
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["event", "institution__name"]
        constraints = [models.UniqueConstraint(fields=["event", "institution"], name="uniq_event_institution")]

    def __str__(self):
        return f"{self.event_id} · {self.institution_id}"



class Docking(VersionedModel):
    """One case followed with one financial institution, from recommended to disbursed.

    The white list, products, matching and the institutions' own pages build on this; the
    stage guards read it.
    """

    project = models.ForeignKey(
        "cases.KeyProject", verbose_name=_("key project"), on_delete=models.PROTECT, related_name="dockings"
    )
    institution = models.ForeignKey(
        "cases.Unit",
        verbose_name=_("institution"),
        on_delete=models.PROTECT,
        related_name="dockings",
        limit_choices_to={"kind": "institution"},
    )
    state = FSMField(
        _("state"), default=DockingState.RECOMMENDED, choices=DockingState.choices, protected=True
    )
    intent_amount = models.DecimalField(
        _("intended amount (yuan)"), null=True, blank=True, validators=NON_NEGATIVE, **MONEY
    )
    credit_approved_amount = models.DecimalField(
        _("credit approved (yuan)"), null=True, blank=True, validators=NON_NEGATIVE, **MONEY
    )
    disbursed_amount = models.DecimalField(
        _("disbursed (yuan)"), null=True, blank=True, validators=NON_NEGATIVE, **MONEY
    )
    disbursed_on = models.DateField(_("disbursed on"), null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    need = models.ForeignKey(
        "cases.FinancingNeed", verbose_name=_("financing need"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="dockings",
    )
    product = models.ForeignKey(
        "cases.FinancialProduct", verbose_name=_("product"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="dockings",
    )
    event = models.ForeignKey(
        "cases.MatchmakingEvent", verbose_name=_("signed at the event"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="dockings",
    )
    source = models.CharField(
        _("opened by"), max_length=20, blank=True, default="",
        choices=[
            ("", _("The secretariat")),
            ("match", _("A recommendation from matching")),
            ("interest", _("The institution's interest")),
            ("event", _("A matchmaking event")),
        ],
    )
    last_step_at = models.DateTimeField(_("last step at"), null=True, blank=True, db_index=True)

    class Meta:
        app_label = "cases"
        verbose_name = _("docking")
        verbose_name_plural = _("dockings")
        ordering = ["project", "institution__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "institution"], condition=Q(need__isnull=True),
                name="uniq_docking_project_institution",
            ),
            models.UniqueConstraint(
                fields=["need", "institution"], condition=Q(need__isnull=False), name="uniq_docking_need_institution"
            ),
        ]
        indexes = [models.Index(fields=["institution", "state"], name="docking_institution_state")]

    def __str__(self):
        return f"{self.project.code} · {self.institution.name}"

    @transition(field=state, source=DockingState.RECOMMENDED, target=DockingState.CONTACTED,
                permission=transition_permission("contact"),
                custom={"label": _("Contacted"), "guard": guards.no_guard})
    def contact(self):
        pass

    @transition(field=state, source=DockingState.CONTACTED, target=DockingState.DUE_DILIGENCE,
                permission=transition_permission("start_due_diligence"),
                custom={"label": _("Start due diligence"), "guard": guards.no_guard})
    def start_due_diligence(self):
        pass

    @transition(field=state, source=[DockingState.CONTACTED, DockingState.DUE_DILIGENCE],
                target=DockingState.INTENT_SIGNED,
                permission=transition_permission("sign_intent"),
                custom={"label": _("Intent signed"), "guard": guards.no_guard})
    def sign_intent(self):
        pass

    @transition(field=state, source=DockingState.INTENT_SIGNED, target=DockingState.CREDIT_APPROVED,
                permission=transition_permission("approve_credit"),
                custom={"label": _("Credit approved"), "guard": financing_guards.docking_credit})
    def approve_credit(self):
        pass

    @transition(field=state, source=DockingState.CREDIT_APPROVED, target=DockingState.DISBURSED,
                permission=transition_permission("disburse"),
                custom={"label": _("Disbursed"), "guard": financing_guards.docking_disbursement})
    def disburse(self):
        pass

    @transition(
        field=state,
        source=[
            DockingState.RECOMMENDED,
            DockingState.CONTACTED,
            DockingState.DUE_DILIGENCE,
            DockingState.INTENT_SIGNED,
            DockingState.CREDIT_APPROVED,
        ],
        target=DockingState.DECLINED,
        permission=transition_permission("decline"),
        custom={"label": _("Decline"), "guard": guards.no_guard, "reason_required": True},
    )
    def decline(self):
        pass
