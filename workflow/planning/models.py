"""The annual investment plan (年度投资计划): a year's compilation with the city's targets, the units'
proposals of reserve cases, the published versions of the key list with their entries, and the
process of a unit's "propose projects" task."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process

MONEY = {"max_digits": 16, "decimal_places": 2}
NON_NEGATIVE = [MinValueValidator(Decimal("0"))]


class PlanCompilation(models.Model):
    """The compilation of year ``year``'s plan: open for proposals until the deadline, then published."""

    class State(models.TextChoices):
        OPEN = "open", _("Open for proposals")
        PUBLISHED = "published", _("Published")

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    deadline = models.DateField(_("deadline for proposals"))
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.OPEN)
    target_total = models.DecimalField(_("city's target (yuan)"), validators=NON_NEGATIVE, **MONEY)
    adjust_from = models.DateField(_("adjustments from"), null=True, blank=True)
    adjust_to = models.DateField(_("adjustments until"), null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("opened by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        app_label = "workflow"
        verbose_name = _("annual plan compilation")
        verbose_name_plural = _("annual plan compilations")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(condition=Q(target_total__gte=0), name="plan_target_total_non_negative"),
            models.CheckConstraint(
                condition=Q(adjust_from__isnull=True) | Q(adjust_to__isnull=True) | Q(adjust_to__gte=models.F("adjust_from")),
                name="plan_adjust_window_ordered",
            ),
        ]

    def __str__(self):
        return str(self.year)

    def adjustable_on(self, day):
        return (
            self.state == self.State.PUBLISHED
            and self.adjust_from is not None
            and self.adjust_from <= day <= self.adjust_to
        )


class PlanTarget(models.Model):
    """The city's target for one unit group or one industry in a compilation."""

    class Kind(models.TextChoices):
        GROUP = "group", _("Unit group")
        INDUSTRY = "industry", _("Industry")

    compilation = models.ForeignKey(
        PlanCompilation, verbose_name=_("compilation"), on_delete=models.CASCADE, related_name="targets"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    key = models.CharField(_("group or industry"), max_length=30)
    amount = models.DecimalField(_("target (yuan)"), validators=NON_NEGATIVE, **MONEY)

    class Meta:
        app_label = "workflow"
        verbose_name = _("plan target")
        verbose_name_plural = _("plan targets")
        ordering = ["compilation", "kind", "key"]
        constraints = [
            models.UniqueConstraint(fields=["compilation", "kind", "key"], name="uniq_plan_target"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="plan_target_non_negative"),
        ]

    def __str__(self):
        return f"{self.compilation} {self.kind} {self.key}"


class PlanProposal(models.Model):
    """A unit's proposal of one of its reserve cases for the year, with the three-year rolling plan."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Not submitted")
        SUBMITTED = "submitted", _("Submitted")
        RETURNED = "returned", _("Sent back")
        ACCEPTED = "accepted", _("Accepted")

    compilation = models.ForeignKey(
        PlanCompilation, verbose_name=_("compilation"), on_delete=models.CASCADE, related_name="proposals"
    )
    project = models.ForeignKey(
        "cases.KeyProject", verbose_name=_("key project"), on_delete=models.PROTECT, related_name="plan_proposals"
    )
    unit = models.ForeignKey("cases.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    planned_year = models.DecimalField(_("planned investment of the year (yuan)"), validators=NON_NEGATIVE, **MONEY)
    planned_next = models.DecimalField(_("planned investment of the next year (yuan)"), validators=NON_NEGATIVE, **MONEY)
    planned_after = models.DecimalField(_("planned investment of the year after (yuan)"), validators=NON_NEGATIVE, **MONEY)
    planned_start = models.DateField(_("planned start"))
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.DRAFT)
    return_reason = models.CharField(_("why it was sent back"), max_length=500, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("proposed by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        app_label = "workflow"
        verbose_name = _("plan proposal")
        verbose_name_plural = _("plan proposals")
        ordering = ["compilation", "unit", "project"]
        constraints = [
            models.UniqueConstraint(fields=["compilation", "project"], name="uniq_plan_proposal"),
            models.CheckConstraint(
                condition=Q(planned_year__gte=0) & Q(planned_next__gte=0) & Q(planned_after__gte=0),
                name="plan_proposal_non_negative",
            ),
        ]
        indexes = [models.Index(fields=["compilation", "unit", "state"], name="plan_proposal_unit")]

    def __str__(self):
        return f"{self.compilation} {self.project_id}"


class PlanVersion(models.Model):
    """A frozen version of the year's key list: 1 when published, N+1 for each adjustment."""

    class Change(models.TextChoices):
        PUBLISHED = "published", _("Published")
        ADDED = "added", _("Case added")
        DROPPED = "dropped", _("Case dropped")
        REPLANNED = "replanned", _("Case re-planned")

    compilation = models.ForeignKey(
        PlanCompilation, verbose_name=_("compilation"), on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    change = models.CharField(_("change"), max_length=12, choices=Change.choices)
    project = models.ForeignKey(
        "cases.KeyProject", verbose_name=_("key project"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("made by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("made at"), default=timezone.now)

    class Meta:
        app_label = "workflow"
        verbose_name = _("plan version")
        verbose_name_plural = _("plan versions")
        ordering = ["compilation", "number"]
        constraints = [models.UniqueConstraint(fields=["compilation", "number"], name="uniq_plan_version")]

    def __str__(self):
        return f"{self.compilation} v{self.number}"


class PlanEntry(models.Model):
    """A case on one version of the key list, with its planned investment over three years."""

    version = models.ForeignKey(PlanVersion, verbose_name=_("version"), on_delete=models.CASCADE, related_name="entries")
    project = models.ForeignKey("cases.KeyProject", verbose_name=_("key project"), on_delete=models.PROTECT, related_name="+")
    planned_year = models.DecimalField(_("planned investment of the year (yuan)"), validators=NON_NEGATIVE, **MONEY)
    planned_next = models.DecimalField(_("planned investment of the next year (yuan)"), validators=NON_NEGATIVE, **MONEY)
    planned_after = models.DecimalField(_("planned investment of the year after (yuan)"), validators=NON_NEGATIVE, **MONEY)
    planned_start = models.DateField(_("planned start"))

    class Meta:
        app_label = "workflow"
        verbose_name = _("plan entry")
        verbose_name_plural = _("plan entries")
        ordering = ["version", "project"]
        constraints = [models.UniqueConstraint(fields=["version", "project"], name="uniq_plan_entry")]

    def __str__(self):
        return f"{self.version} {self.project_id}"


class ProposeProcess(Process):
    """A unit's task of proposing its reserve cases for a compilation (again, when one was sent back)."""

    compilation = models.ForeignKey(
        PlanCompilation, verbose_name=_("compilation"), on_delete=models.PROTECT, related_name="processes"
    )
    unit = models.ForeignKey("cases.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        app_label = "workflow"
        verbose_name = _("plan proposal process")
        verbose_name_plural = _("plan proposal processes")
