"""The engine's records: the holiday table, the escalation ladder, each human task's clock and the
rungs that fired.

They belong to the ``workflow`` app (``app_label``), as before the engine had a room of its own:
their tables and migrations stay."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Holiday(models.Model):
    """A day the official calendar gets wrong for us, or does not know yet."""

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(
        _("working day"),
        default=False,
        help_text=_("Ticked for a make-up working day (调休) on a weekend; clear for a day off."),
    )
    name = models.CharField(_("name"), max_length=80, blank=True)

    class Meta:
        app_label = "workflow"
        verbose_name = _("holiday or working day")
        verbose_name_plural = _("holidays and working days")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {self.name}"


class TaskKind(models.TextChoices):
    """Kinds of human task; the ladder is set per kind."""

    DEFAULT = "default", _("Any task")
    BLOCKER_TRIAGE = "blocker_triage", _("Blocker: triage")
    BLOCKER_INPUT = "blocker_input", _("Blocker: cooperating unit's input")
    BLOCKER_RESOLVE = "blocker_resolve", _("Blocker: resolution")
    BLOCKER_VERIFY = "blocker_verify", _("Blocker: verification and close-out")
    PREWORK = "prework", _("Pre-work item")
    SUPERVISION_RESPONSE = "supervision_response", _("Supervision order: rectification plan")
    SUPERVISION_EVALUATE = "supervision_evaluate", _("Supervision order: evaluation")
    INTERVIEW_APPROVE = "interview_approve", _("Interview: approval")
    INTERVIEW_SCHEDULE = "interview_schedule", _("Interview: scheduling")
    INTERVIEW_HOLD = "interview_hold", _("Interview: minutes")
    COMMITMENT = "commitment", _("Interview commitment")
    FOLLOW_UP = "follow_up", _("Interview follow-up")
    REPORT = "report", _("Monthly report")
    REPORT_REVIEW = "report_review", _("Monthly report: review")
    DECISION = "decision", _("Meeting decision")
    DOCKING_FOLLOW_UP = "docking_follow_up", _("Financing docking: follow-up")


class Trigger(models.TextChoices):
    TIME_USED = "time_used", _("Share of the allowed time used")
    DUE_DAY = "due_day", _("On the due day")
    OVERDUE = "overdue", _("Working days overdue")


class Action(models.TextChoices):
    REMIND_OWNER = "remind_owner", _("Remind the owner")
    TELL_UNIT_HEAD = "tell_unit_head", _("Tell the unit head")
    TELL_CASE_LEADER = "tell_case_leader", _("Tell the case's responsible leader; the case is at least yellow")
    SUPERVISION_ORDER = "supervision_order", _("Issue a supervision order to the unit")
    PROPOSE_INTERVIEW = "propose_interview", _("Propose an interview of the unit's responsible leader")


class EscalationStep(models.Model):
    """One rung of the ladder for a kind of task. A kind without rungs of its own uses the default's."""

    kind = models.CharField(_("kind of task"), max_length=40, choices=TaskKind.choices, default=TaskKind.DEFAULT)
    level = models.PositiveSmallIntegerField(pgettext_lazy("escalation", "level"), validators=[MaxValueValidator(9)])
    trigger = models.CharField(_("when"), max_length=20, choices=Trigger.choices)
    amount = models.DecimalField(
        _("amount"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("The share of time used (0.75) or the working days overdue (3); unused on the due day."),
    )
    action = models.CharField(_("what happens"), max_length=30, choices=Action.choices)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        app_label = "workflow"
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation ladder")
        ordering = ["kind", "level", "trigger", "amount"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "level", "trigger", "amount"], name="uniq_ladder_rung"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.level} · {self.get_trigger_display()} {self.amount}"

    def clean(self):
        if self.trigger == Trigger.TIME_USED and not Decimal("0") < self.amount < Decimal("1"):
            raise ValidationError({"amount": _("A share of the time is between 0 and 1, like 0.75.")})
        if self.trigger == Trigger.OVERDUE and (self.amount < 1 or self.amount != self.amount.to_integral_value()):
            raise ValidationError({"amount": _("Working days overdue are a whole number, at least 1.")})


class TaskClock(models.Model):
    """The deadline of one human task: due in working days, pausable, and its next rung of the ladder."""

    task = models.OneToOneField(
        "viewflow.Task", verbose_name=_("task"), on_delete=models.CASCADE, related_name="clock"
    )
    kind = models.CharField(_("kind of task"), max_length=40, choices=TaskKind.choices)
    # Empty for a task about no single case (a meeting decision on a policy): it counts
    # against its unit only, and escalates through the unit's people and leaders.
    project = models.ForeignKey(
        "cases.KeyProject",
        verbose_name=_("key project"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="task_clocks",
    )
    unit = models.ForeignKey(
        "cases.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="task_clocks"
    )
    title = models.CharField(_("subject"), max_length=250, help_text=_("What the task is about."))
    started_at = models.DateTimeField(_("started at"))
    working_days = models.PositiveSmallIntegerField(_("time allowed (working days)"))
    due_at = models.DateTimeField(pgettext_lazy("deadline", "due at"))
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    pause_reason = models.CharField(_("reason for the pause"), max_length=300, blank=True)
    paused_seconds = models.FloatField(_("working time paused (seconds)"), default=0)
    next_step = models.ForeignKey(
        EscalationStep, verbose_name=_("next step of the ladder"), null=True, blank=True, on_delete=models.SET_NULL
    )
    next_fire_at = models.DateTimeField(_("next escalation at"), null=True, blank=True)
    claimed_until = models.DateTimeField(_("claimed by a sweep until"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        app_label = "workflow"
        verbose_name = _("task deadline")
        verbose_name_plural = _("task deadlines")
        ordering = ["due_at"]
        indexes = [
            # The sweep's one query: the open clocks whose next rung is due.
            models.Index(
                fields=["next_fire_at"], name="clock_next_fire", condition=Q(next_fire_at__isnull=False)
            ),
            models.Index(fields=["unit", "closed_at", "due_at"], name="clock_unit_open_due"),
            # The overdue board's: running clocks by deadline, the order of days overdue.
            models.Index(
                fields=["due_at", "id"],
                name="clock_running_due",
                condition=Q(closed_at__isnull=True, paused_at__isnull=True),
            ),
            models.Index(fields=["project", "closed_at"], name="clock_project_open"),
        ]

    def __str__(self):
        return self.display_title

    @property
    def display_title(self):
        """The step's name in the reader's language, and what it is about."""
        return step_and_subject(self.task.flow_task, self.title)


def step_and_subject(flow_task, subject):
    """A task as a row names it: its step (when its flow still has it) and what it is about."""
    return f"{flow_task.task_title}：{subject}" if flow_task is not None else subject


class Escalation(models.Model):
    """A rung of the ladder that fired for a task: once, whatever the sweeps and retries."""

    clock = models.ForeignKey(TaskClock, verbose_name=_("task"), on_delete=models.CASCADE, related_name="escalations")
    step = models.ForeignKey(EscalationStep, verbose_name=_("step"), on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField(pgettext_lazy("escalation", "level"))
    action = models.CharField(_("what happened"), max_length=30, choices=Action.choices)
    fired_at = models.DateTimeField(_("fired at"))
    due_at = models.DateTimeField(_("the task was due at"))
    overdue_days = models.PositiveSmallIntegerField(_("working days overdue"), default=0)
    told = models.JSONField(_("who was told"), default=list, blank=True)
    batch = models.UUIDField(_("batch"), editable=False)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        app_label = "workflow"
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["clock", "fired_at"]
        constraints = [
            models.UniqueConstraint(fields=["clock", "step"], name="uniq_escalation_per_task_and_step"),
        ]
        indexes = [models.Index(fields=["batch"], name="escalation_batch")]

    def __str__(self):
        return f"{self.clock} · {self.level}"
