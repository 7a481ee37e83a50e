"""Who must do what by when: the holiday table, the escalation ladder, task clocks and escalations."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from viewflow.workflow.models import Process


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
    project = models.ForeignKey(
        "cases.KeyProject", verbose_name=_("key project"), on_delete=models.CASCADE, related_name="task_clocks"
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
        verbose_name = _("task deadline")
        verbose_name_plural = _("task deadlines")
        ordering = ["due_at"]
        indexes = [
            # The sweep's one query: the open clocks whose next rung is due.
            models.Index(
                fields=["next_fire_at"], name="clock_next_fire", condition=Q(next_fire_at__isnull=False)
            ),
            models.Index(fields=["unit", "closed_at", "due_at"], name="clock_unit_open_due"),
            models.Index(fields=["project", "closed_at"], name="clock_project_open"),
        ]

    def __str__(self):
        return self.display_title

    @property
    def display_title(self):
        """The step's name in the reader's language, and what it is about."""
        return f"{self.task.flow_task.task_title}：{self.title}"


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
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["clock", "fired_at"]
        constraints = [
            models.UniqueConstraint(fields=["clock", "step"], name="uniq_escalation_per_task_and_step"),
        ]
        indexes = [models.Index(fields=["batch"], name="escalation_batch")]

    def __str__(self):
        return f"{self.clock} · {self.level}"



class Source(models.TextChoices):
    LADDER = "ladder", _("The escalation ladder")
    SUPERVISOR = "supervisor", _("A supervisor")
    RULE = "rule", _("A rule")
    MEETING = "meeting", _("The scheduling meeting")


class SupervisionOrder(models.Model):
    """督办单: a formal order to a unit to fix an overdue matter by a date."""

    class State(models.TextChoices):
        ISSUED = "issued", _("Issued")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")
        REISSUED = "reissued", _("Reissued at a higher urgency")

    class Urgency(models.IntegerChoices):
        NORMAL = 1, _("Normal")
        URGENT = 2, _("Urgent")
        VERY_URGENT = 3, _("Very urgent")

    number = models.CharField(_("number"), max_length=30, unique=True)
    project = models.ForeignKey(
        "cases.KeyProject", verbose_name=_("key project"), on_delete=models.PROTECT, related_name="supervision_orders"
    )
    unit = models.ForeignKey(
        "cases.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="supervision_orders"
    )
    clock = models.ForeignKey(
        TaskClock,
        verbose_name=_("overdue task"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supervision_orders",
    )
    subject = models.CharField(_("subject"), max_length=250)
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Urgency.choices, default=Urgency.NORMAL)
    source = models.CharField(_("issued by"), max_length=20, choices=Source.choices)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("issuer"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("issued at"))
    respond_by = models.DateTimeField(_("answer due"))
    plan = models.TextField(_("rectification plan"), blank=True)
    fixed_by = models.DateField(_("to be fixed by"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    evaluation = models.TextField(_("evaluation"), blank=True)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.ISSUED)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    previous = models.ForeignKey(
        "self", verbose_name=_("reissued from"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("supervision order")
        verbose_name_plural = _("supervision orders")
        ordering = ["-issued_at"]
        indexes = [models.Index(fields=["unit", "state"], name="order_unit_state")]

    def __str__(self):
        return f"{self.number} {self.subject}"


class Interview(models.Model):
    """约谈: a responsible leader summoned because work under them lags."""

    class State(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Not approved")
        SCHEDULED = "scheduled", _("Scheduled")
        HELD = "held", _("Held")
        FOLLOWING_UP = "following_up", _("Commitments under way")
        CLOSED = "closed", _("Closed")

    project = models.ForeignKey(
        "cases.KeyProject", verbose_name=_("key project"), on_delete=models.PROTECT, related_name="interviews"
    )
    unit = models.ForeignKey(
        "cases.Unit", verbose_name=_("unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="interviews"
    )
    leader = models.ForeignKey(
        "cases.Person", verbose_name=_("leader to interview"), on_delete=models.PROTECT, related_name="interviews"
    )
    clock = models.ForeignKey(
        TaskClock, verbose_name=_("overdue task"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(_("reason"))
    source = models.CharField(_("proposed by"), max_length=20, choices=Source.choices)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("proposer"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(_("proposed at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.TextField(_("decision"), blank=True)
    scheduled_at = models.DateTimeField(_("date and time"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=120, blank=True)
    attendees = models.ManyToManyField("cases.Person", verbose_name=_("attendees"), blank=True, related_name="+")
    minutes = models.TextField(_("minutes"), blank=True)
    held_at = models.DateTimeField(_("held at"), null=True, blank=True)
    follow_up = models.TextField(_("follow-up"), blank=True)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.PROPOSED)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("interview")
        verbose_name_plural = _("interviews")
        ordering = ["-proposed_at"]
        indexes = [models.Index(fields=["state", "proposed_at"], name="interview_state")]

    def __str__(self):
        return f"{self.leader.name} · {self.project.code}"


class Commitment(models.Model):
    """A promise made at an interview: a task with an owner and a deadline."""

    interview = models.ForeignKey(
        Interview, verbose_name=_("interview"), on_delete=models.CASCADE, related_name="commitments"
    )
    text = models.CharField(_("commitment"), max_length=300)
    owner = models.ForeignKey("cases.Person", verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+")
    working_days = models.PositiveSmallIntegerField(
        _("time allowed (working days)"), validators=[MinValueValidator(1), MaxValueValidator(250)]
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    report = models.TextField(_("what was done"), blank=True)

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        ordering = ["interview", "id"]

    def __str__(self):
        return self.text


class BlockerProcess(Process):
    """The coordination of one blocker: triage, inputs, resolution, close-out."""

    project = models.ForeignKey("cases.KeyProject", verbose_name=_("key project"), on_delete=models.PROTECT, related_name="+")
    blocker = models.OneToOneField(
        "cases.Blocker", verbose_name=_("blocker"), on_delete=models.PROTECT, related_name="process"
    )

    class Meta:
        verbose_name = _("blocker coordination")
        verbose_name_plural = _("blocker coordinations")


class PreworkProcess(Process):
    """One pre-work item worked by its approving unit within its statutory time."""

    project = models.ForeignKey("cases.KeyProject", verbose_name=_("key project"), on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(
        "cases.PreworkItem", verbose_name=_("pre-work item"), on_delete=models.PROTECT, related_name="processes"
    )

    class Meta:
        verbose_name = _("pre-work approval")
        verbose_name_plural = _("pre-work approvals")


class SupervisionProcess(Process):
    project = models.ForeignKey("cases.KeyProject", verbose_name=_("key project"), on_delete=models.PROTECT, related_name="+")
    order = models.OneToOneField(
        SupervisionOrder, verbose_name=_("supervision order"), on_delete=models.PROTECT, related_name="process"
    )

    class Meta:
        verbose_name = _("supervision order process")
        verbose_name_plural = _("supervision order processes")


class InterviewProcess(Process):
    project = models.ForeignKey("cases.KeyProject", verbose_name=_("key project"), on_delete=models.PROTECT, related_name="+")
    interview = models.OneToOneField(
        Interview, verbose_name=_("interview"), on_delete=models.PROTECT, related_name="process"
    )

    class Meta:
        verbose_name = _("interview process")
        verbose_name_plural = _("interview processes")


class Light(models.TextChoices):
    GREEN = "green", _("Green")
    YELLOW = "yellow", _("Yellow")
    RED = "red", _("Red")


class LightRule(models.Model):
    """One rule of the traffic lights: when its check passes the threshold, the case is at least this light."""

    class Check(models.TextChoices):
        LAG = "lag", _("Investment lags the expected progress (points)")
        START_MISSED = "start_missed", _("The planned start is missed (months)")
        TASK_LEVEL = "task_level", _("An open task has reached the escalation level")
        ORDER_OVERDUE = "order_overdue", _("Supervision orders overdue")

    class Comparison(models.TextChoices):
        AT_LEAST = "gte", _("at least")
        MORE_THAN = "gt", _("more than")

    measure = models.CharField(_("check"), max_length=20, choices=Check.choices)
    comparison = models.CharField(_("comparison"), max_length=3, choices=Comparison.choices)
    threshold = models.DecimalField(
        _("threshold"), max_digits=7, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    light = models.CharField(
        _("light"), max_length=10, choices=[(Light.YELLOW, Light.YELLOW.label), (Light.RED, Light.RED.label)]
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("light rule")
        verbose_name_plural = _("light rules")
        ordering = ["measure", "light", "threshold"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "comparison", "threshold", "light"], name="uniq_light_rule"),
        ]

    def __str__(self):
        return f"{self.get_measure_display()} {self.get_comparison_display()} {self.threshold} → {self.get_light_display()}"

    def holds(self, value):
        if value is None:
            return False
        if self.comparison == self.Comparison.MORE_THAN:
            return value > self.threshold
        return value >= self.threshold


class LightSnapshot(models.Model):
    """A case's light for a month, with the reasons that made it and next month's forecast."""

    project = models.ForeignKey(
        "cases.KeyProject", verbose_name=_("key project"), on_delete=models.CASCADE, related_name="light_snapshots"
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    light = models.CharField(_("light"), max_length=10, choices=Light.choices)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    expected_progress = models.DecimalField(_("expected progress (%)"), max_digits=6, decimal_places=2)
    completed_progress = models.DecimalField(
        _("investment completed against the annual plan (%)"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    lag = models.DecimalField(_("lag (points)"), max_digits=8, decimal_places=2, null=True, blank=True)
    consecutive_red = models.PositiveSmallIntegerField(_("consecutive red months"), default=0)
    forecast = models.CharField(_("forecast for next month"), max_length=10, choices=Light.choices)
    forecast_lag = models.DecimalField(_("forecast lag (points)"), max_digits=8, decimal_places=2, null=True, blank=True)
    interview_proposed = models.BooleanField(_("interview proposed"), default=False)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("monthly light")
        verbose_name_plural = _("monthly lights")
        ordering = ["-month", "project"]
        constraints = [
            models.UniqueConstraint(fields=["project", "month"], name="uniq_light_per_project_and_month"),
        ]
        indexes = [models.Index(fields=["month", "light"], name="light_month_light")]

    def __str__(self):
        return f"{self.project_id} {self.month:%Y-%m} {self.light}"
