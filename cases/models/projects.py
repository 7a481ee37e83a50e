"""Key projects (cases) and their annual plans."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_fsm import GET_STATE, FSMField, transition

from .. import guards
from .base import VersionedModel, transition_permission
from .choices import (
    ACTIVE_STAGES,
    WITHDRAWABLE_STAGES,
    Industry,
    Level,
    ProjectType,
    Stage,
)
from .org import Person, Unit
from .pipeline import IndustryCluster
from .regions import validate_project_code

MONEY = {"max_digits": 16, "decimal_places": 2}
# Units that work on cases: not the banks and enterprises outside government.
GOVERNMENT_UNITS = ~Q(kind__in=["institution", "enterprise"])
NON_NEGATIVE = [MinValueValidator(Decimal("0"))]

PROJECT_CODE_VALIDATOR = RegexValidator(
    r"^\d{4}-[A-Z]{2,4}-\d{4}$",
    _("A project code looks like 2026-GX-0012: year, two to four capital letters, four digits."),
)


class KeyProject(VersionedModel):
    code = models.CharField(
        _("code"), max_length=16, unique=True, validators=[PROJECT_CODE_VALIDATOR]
    )
    project_code = models.CharField(
        _("project code (national platform)"),
        max_length=24,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_project_code],
        help_text=_(
            "The 24-character code of the national online approval and supervision platform "
            "(项目代码), like 2603-369902-04-01-583921; empty until the project is registered there."
        ),
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    industry = models.CharField(_("industry"), max_length=30, choices=Industry.choices)
    industry_cluster = models.ForeignKey(
        IndustryCluster,
        verbose_name=_("industrial cluster"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="projects",
    )
    project_type = models.CharField(
        _("project type"),
        max_length=20,
        choices=ProjectType.choices,
        default=ProjectType.INDUSTRIAL,
        help_text=_("Sets the reserve pool's entry threshold and the readiness checklist."),
    )
    land_area_mu = models.DecimalField(
        _("land area (mu)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=NON_NEGATIVE,
        help_text=_("The land the project needs, in mu (亩); 0 when it needs no new land."),
    )
    region = models.ForeignKey(
        Unit,
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="projects_in_region",
        limit_choices_to={"kind": "district"},
    )
    owner = models.ForeignKey(
        Unit,
        verbose_name=_("owner enterprise"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_projects",
        limit_choices_to={"kind": "enterprise"},
    )
    level = models.CharField(_("level"), max_length=20, choices=Level.choices, default=Level.MUNICIPAL)
    lead_unit = models.ForeignKey(
        Unit,
        verbose_name=_("lead unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_projects",
        limit_choices_to=GOVERNMENT_UNITS,
    )
    cooperating_units = models.ManyToManyField(
        Unit,
        verbose_name=_("cooperating units"),
        blank=True,
        related_name="cooperating_projects",
        limit_choices_to=GOVERNMENT_UNITS,
    )
    responsible_leader = models.ForeignKey(
        Person,
        verbose_name=_("responsible leader"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="responsible_projects",
        limit_choices_to={"role": "leader"},
    )
    total_investment = models.DecimalField(
        _("total investment (yuan)"), validators=NON_NEGATIVE, default=Decimal("0"), **MONEY
    )
    investment_completed_total = models.DecimalField(
        _("investment completed, cumulative (yuan)"),
        validators=NON_NEGATIVE,
        default=Decimal("0"),
        **MONEY,
    )
    capital_gap = models.DecimalField(
        _("capital gap (yuan)"), validators=NON_NEGATIVE, default=Decimal("0"), **MONEY
    )
    planned_start = models.DateField(_("planned start"), null=True, blank=True)
    planned_finish = models.DateField(_("planned finish"), null=True, blank=True)
    actual_start = models.DateField(_("actual start"), null=True, blank=True)
    actual_finish = models.DateField(_("actual finish"), null=True, blank=True)
    completion_accepted_on = models.DateField(_("completion accepted on"), null=True, blank=True)
    demonstration = models.BooleanField(_("demonstration project"), default=False)
    financing_waiver_reason = models.TextField(
        _("financing waiver"),
        blank=True,
        help_text=_("Why the secretariat lets construction start before credit covers the gap."),
    )
    stage = FSMField(
        _("stage"), default=Stage.RESERVE, choices=Stage.choices, protected=True, db_index=True
    )
    stage_before_suspension = models.CharField(
        _("stage before suspension"), max_length=20, choices=Stage.choices, blank=True, editable=False
    )
    stage_changed_at = models.DateTimeField(_("stage changed at"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = _("key project")
        verbose_name_plural = _("key projects")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_investment__gte=0), name="keyproject_total_investment_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(investment_completed_total__gte=0)
                & Q(investment_completed_total__lte=F("total_investment")),
                name="keyproject_completed_within_total",
            ),
            models.CheckConstraint(
                condition=Q(capital_gap__gte=0) & Q(capital_gap__lte=F("total_investment")),
                name="keyproject_gap_within_total",
            ),
            models.CheckConstraint(
                condition=Q(land_area_mu__isnull=True) | Q(land_area_mu__gte=0),
                name="keyproject_land_area_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(planned_finish__isnull=True)
                | Q(planned_start__isnull=True)
                | Q(planned_finish__gte=F("planned_start")),
                name="keyproject_planned_finish_after_start",
            ),
            models.CheckConstraint(
                condition=Q(actual_finish__isnull=True)
                | Q(actual_start__isnull=True)
                | Q(actual_finish__gte=F("actual_start")),
                name="keyproject_actual_finish_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["industry"]),
            models.Index(fields=["project_type"]),
            models.Index(fields=["stage", "code"]),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    def get_absolute_url(self):
        return reverse("cases:projects:detail", args=[self.pk])

    def clean(self):
        """The check constraints, said field by field."""
        # No project code is stored as NULL, so that the uniqueness holds between coded cases only.
        self.project_code = (self.project_code or "").strip() or None
        errors = {}
        total = self.total_investment or 0
        if self.investment_completed_total is not None and self.investment_completed_total > total:
            errors["investment_completed_total"] = _(
                "Investment completed cannot exceed the total investment."
            )
        if self.capital_gap is not None and self.capital_gap > total:
            errors["capital_gap"] = _("The capital gap cannot exceed the total investment.")
        if self.planned_start and self.planned_finish and self.planned_finish < self.planned_start:
            errors["planned_finish"] = _("The planned finish cannot be before the planned start.")
        if self.actual_start and self.actual_finish and self.actual_finish < self.actual_start:
            errors["actual_finish"] = _("The actual finish cannot be before the actual start.")
        if self.completion_accepted_on and not self.actual_finish:
            errors["actual_finish"] = _("A completion acceptance needs the actual finish date.")
        if errors:
            raise ValidationError(errors)

    def planned_investment_for(self, year):
        for plan in self.annual_plans.all():
            if plan.year == year:
                return plan.planned_investment
        return None

    # Stage transitions. Their methods change nothing but the state: the service saves,
    # audits and notifies. Guards and permissions live in guards.py and permissions.py.

    @transition(
        field=stage,
        source=Stage.IDEA,
        target=Stage.RESERVE,
        conditions=[guards.passes(guards.enter_reserve)],
        permission=transition_permission("enter_reserve"),
        custom={"label": _("Enter the reserve pool"), "guard": guards.enter_reserve},
    )
    def enter_reserve(self):
        pass

    @transition(
        field=stage,
        source=Stage.RESERVE,
        target=Stage.PREWORK,
        conditions=[guards.passes(guards.select)],
        permission=transition_permission("select"),
        custom={"label": _("Select into the key list"), "guard": guards.select},
    )
    def select(self):
        pass

    @transition(
        field=stage,
        source=Stage.PREWORK,
        target=Stage.DOCKING,
        conditions=[guards.passes(guards.open_docking)],
        permission=transition_permission("open_docking"),
        custom={"label": _("Open financing docking"), "guard": guards.open_docking},
    )
    def open_docking(self):
        pass

    @transition(
        field=stage,
        source=Stage.PREWORK,
        target=Stage.CONSTRUCTION,
        conditions=[guards.passes(guards.start_funded_construction)],
        permission=transition_permission("start_construction"),
        custom={"label": _("Start construction"), "guard": guards.start_funded_construction},
    )
    @transition(
        field=stage,
        source=Stage.FINANCING,
        target=Stage.CONSTRUCTION,
        conditions=[guards.passes(guards.start_financed_construction)],
        permission=transition_permission("start_construction"),
        custom={"label": _("Start construction"), "guard": guards.start_financed_construction},
    )
    def start_construction(self):
        pass

    @transition(
        field=stage,
        source=Stage.DOCKING,
        target=Stage.FINANCING,
        conditions=[guards.passes(guards.secure_financing)],
        permission=transition_permission("secure_financing"),
        custom={"label": _("Move to financing"), "guard": guards.secure_financing},
    )
    def secure_financing(self):
        pass

    @transition(
        field=stage,
        source=Stage.CONSTRUCTION,
        target=Stage.COMPLETED,
        conditions=[guards.passes(guards.complete)],
        permission=transition_permission("complete"),
        custom={"label": _("Complete"), "guard": guards.complete},
    )
    def complete(self):
        pass

    @transition(
        field=stage,
        source=ACTIVE_STAGES,
        target=Stage.SUSPENDED,
        permission=transition_permission("suspend"),
        custom={"label": _("Suspend"), "guard": guards.no_guard, "reason_required": True},
    )
    def suspend(self):
        self.stage_before_suspension = self.stage

    def _stage_to_resume(self):
        return self.stage_before_suspension

    @transition(
        field=stage,
        source=Stage.SUSPENDED,
        target=GET_STATE(_stage_to_resume, states=ACTIVE_STAGES),
        permission=transition_permission("resume"),
        custom={"label": _("Resume"), "guard": guards.no_guard},
    )
    def resume(self):
        pass

    @transition(
        field=stage,
        source=WITHDRAWABLE_STAGES,
        target=Stage.WITHDRAWN,
        permission=transition_permission("withdraw"),
        custom={"label": _("Withdraw"), "guard": guards.no_guard, "reason_required": True},
    )
    def withdraw(self):
        pass


class AnnualPlan(models.Model):
    """A case's planned and completed investment for one calendar year."""

    project = models.ForeignKey(
        KeyProject, verbose_name=_("key project"), on_delete=models.CASCADE, related_name="annual_plans"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    planned_investment = models.DecimalField(
        _("planned investment (yuan)"), validators=NON_NEGATIVE, **MONEY
    )
    completed_investment = models.DecimalField(
        _("investment completed (yuan)"), validators=NON_NEGATIVE, default=Decimal("0"), **MONEY
    )

    class Meta:
        verbose_name = _("annual plan")
        verbose_name_plural = _("annual plans")
        ordering = ["project", "year"]
        constraints = [
            models.UniqueConstraint(fields=["project", "year"], name="uniq_annual_plan_year"),
            models.CheckConstraint(
                condition=Q(planned_investment__gte=0) & Q(completed_investment__gte=0),
                name="annual_plan_non_negative",
            ),
        ]

    def __str__(self):
        return f"{self.project.code} {self.year}"
