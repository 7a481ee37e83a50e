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
    # Empty when the overdue matter concerns no single case (a meeting decision on a policy).
    project = models.ForeignKey(
        "cases.KeyProject",
        verbose_name=_("key project"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervision_orders",
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

    # Not yet settled: proposed, on its way to being held, or held with its follow-up to come.
    UNSETTLED = (State.PROPOSED, State.APPROVED, State.SCHEDULED, State.HELD, State.FOLLOWING_UP)

    # Empty when the lagging work concerns no single case; the unit says whose work it is.
    project = models.ForeignKey(
        "cases.KeyProject",
        verbose_name=_("key project"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="interviews",
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
        about = self.project.code if self.project_id else (self.unit.name if self.unit_id else "")
        return f"{self.leader.name} · {about}" if about else self.leader.name


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
    project = models.ForeignKey(
        "cases.KeyProject", verbose_name=_("key project"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    order = models.OneToOneField(
        SupervisionOrder, verbose_name=_("supervision order"), on_delete=models.PROTECT, related_name="process"
    )

    class Meta:
        verbose_name = _("supervision order process")
        verbose_name_plural = _("supervision order processes")


class InterviewProcess(Process):
    project = models.ForeignKey(
        "cases.KeyProject", verbose_name=_("key project"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
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


# ---------------------------------------------------------------------------
# The monthly cycle (DESIGN section 6). A cycle runs in one calendar month and reports on
# the month before it: the "period". Every record below carries the period's first day.


class CycleStep(models.Model):
    """A step of the monthly cycle and the working day of the month it runs on; editable in the admin."""

    class Kind(models.TextChoices):
        REPORTS_OPEN = "reports_open", _("Report tasks created")
        REPORTS_DUE = "reports_due", _("Reports due")
        LIGHTS = "lights", _("Lights computed")
        AGENDA = "agenda", _("Agenda drafted")
        MEETING = "meeting", _("Scheduling meeting")
        BULLETIN = "bulletin", _("Bulletin scored")

    kind = models.CharField(_("step"), max_length=20, choices=Kind.choices, unique=True)
    working_day = models.PositiveSmallIntegerField(
        _("working day of the month"),
        validators=[MinValueValidator(1), MaxValueValidator(23)],
        help_text=_("1 is the month's first working day in the Chinese calendar."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("step of the monthly cycle")
        verbose_name_plural = _("steps of the monthly cycle")
        ordering = ["working_day", "kind"]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.working_day}"


class CycleRun(models.Model):
    """That a step of a month's cycle ran: once per month and step, whoever triggers it."""

    month = models.DateField(_("month"), help_text=_("The first day of the month the cycle runs in."))
    kind = models.CharField(_("step"), max_length=20, choices=CycleStep.Kind.choices)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("run of a cycle step")
        verbose_name_plural = _("runs of cycle steps")
        ordering = ["-month", "kind"]
        constraints = [models.UniqueConstraint(fields=["month", "kind"], name="uniq_cycle_run_per_month_and_step")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.kind}"


class MonthlyReport(models.Model):
    """A case's progress report for a month, written by its lead unit (月报)."""

    class State(models.TextChoices):
        OPEN = "open", _("To be written")
        SUBMITTED = "submitted", _("Submitted")
        RETURNED = "returned", _("Returned for correction")
        ACCEPTED = "accepted", _("Accepted")

    project = models.ForeignKey(
        "cases.KeyProject", verbose_name=_("key project"), on_delete=models.CASCADE, related_name="monthly_reports"
    )
    month = models.DateField(_("month reported on"), help_text=_("The first day of the month."))
    unit = models.ForeignKey("cases.Unit", verbose_name=_("lead unit"), on_delete=models.PROTECT, related_name="+")
    due_at = models.DateTimeField(pgettext_lazy("deadline", "due at"))
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.OPEN)
    investment_month = models.DecimalField(
        _("investment completed this month (yuan)"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    progress_percent = models.DecimalField(
        _("image progress (%)"), max_digits=5, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    progress_back_reason = models.CharField(
        _("why progress went back"), max_length=300, blank=True,
        help_text=_("Required when the image progress is lower than last month's."),
    )
    work_done = models.TextField(_("work done this month"), blank=True)
    next_steps = models.TextField(_("next steps"), blank=True)
    problems = models.TextField(_("problems"), blank=True)
    support_needed = models.TextField(_("support needed"), blank=True)
    raised_blockers = models.ManyToManyField(
        "cases.Blocker", verbose_name=_("problems raised as blockers"), blank=True, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reviewed by"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    return_reason = models.CharField(_("why it was returned"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        ordering = ["-month", "project"]
        constraints = [
            models.UniqueConstraint(fields=["project", "month"], name="uniq_report_per_project_and_month"),
            models.CheckConstraint(
                condition=Q(investment_month__isnull=True) | Q(investment_month__gte=0),
                name="report_investment_non_negative",
            ),
        ]
        indexes = [models.Index(fields=["month", "unit", "state"], name="report_month_unit_state")]

    def __str__(self):
        return f"{self.project_id} {self.month:%Y-%m}"


class ReportAttachment(models.Model):
    """A photo or file attached to a monthly report."""

    class Kind(models.TextChoices):
        PHOTO = "photo", _("Photo")
        FILE = "file", _("File")

    report = models.ForeignKey(
        MonthlyReport, verbose_name=_("monthly report"), on_delete=models.CASCADE, related_name="attachments"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to="reports/%Y/%m/")
    name = models.CharField(_("name"), max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["report", "pk"]

    def __str__(self):
        return self.name


class ReportProcess(Process):
    project = models.ForeignKey("cases.KeyProject", verbose_name=_("key project"), on_delete=models.PROTECT, related_name="+")
    report = models.OneToOneField(
        MonthlyReport, verbose_name=_("monthly report"), on_delete=models.PROTECT, related_name="process"
    )

    class Meta:
        verbose_name = _("monthly report process")
        verbose_name_plural = _("monthly report processes")


class ReportAcceptance(models.Model):
    """The secretariat accepting many submitted monthly reports at once: the reports asked for
    and how far it got. A small selection finishes in the request; a larger one in batches on
    the workers, each recording its reports here, until every report is accepted or skipped."""

    class Skip(models.TextChoices):
        # The first three are a report's states: a report no longer submitted says which it is in.
        OPEN = "open", _("Not submitted")
        RETURNED = "returned", _("Returned for correction")
        ACCEPTED = "accepted", _("Accepted already")
        TAKEN = "taken", _("Someone else took its review")
        NO_TASK = "no_task", _("No review is waiting")
        REFUSED = "refused", _("The acceptance was refused")
        GONE = "gone", _("The report no longer exists")
        FAILED = "failed", _("An error stopped its acceptance")

    month = models.DateField(
        _("month reported on"), null=True, blank=True,
        help_text=_("The first day of the month; empty when the reports are of several months."),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"))
    report_ids = models.JSONField(_("reports"), default=list, help_text=_("The ids of the reports to accept."))
    accepted_ids = models.JSONField(_("reports accepted"), default=list, blank=True)
    skipped = models.JSONField(
        _("reports skipped"), default=list, blank=True,
        help_text=_("Each with its case and the reason it was skipped."),
    )
    updated_at = models.DateTimeField(_("last progress at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("acceptance of monthly reports")
        verbose_name_plural = _("acceptances of monthly reports")
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["month", "finished_at"], name="report_acceptance_month")]

    def __str__(self):
        return f"{self.pk} · {len(self.report_ids)}"

    @property
    def total(self):
        return len(self.report_ids)

    @property
    def accepted_count(self):
        return len(self.accepted_ids)

    @property
    def skipped_count(self):
        return len(self.skipped)

    @property
    def pending_count(self):
        return self.total - self.accepted_count - self.skipped_count

    @property
    def handled_ids(self):
        return {*self.accepted_ids, *(row["report"] for row in self.skipped)}


class Meeting(models.Model):
    """The monthly scheduling meeting (调度会): agenda, minutes and decisions."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Agenda in draft")
        PUBLISHED = "published", _("Agenda published")
        MINUTED = "minuted", _("Minutes recorded")

    month = models.DateField(_("month reviewed"), unique=True, help_text=_("The first day of the month."))
    number = models.CharField(_("document number"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=200)
    scheduled_at = models.DateTimeField(_("date and time"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"), default=120)
    place = models.CharField(_("place"), max_length=120, blank=True)
    chair = models.ForeignKey(
        "cases.Person", verbose_name=_("chair"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    attendees = models.ManyToManyField("cases.Person", verbose_name=_("attending leaders and people"), blank=True, related_name="+")
    attending_units = models.ManyToManyField("cases.Unit", verbose_name=_("attending units"), blank=True, related_name="+")
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.DRAFT)
    drafted_at = models.DateTimeField(_("drafted at"))
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    minuted_at = models.DateTimeField(_("minutes recorded at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("scheduling meeting")
        verbose_name_plural = _("scheduling meetings")
        ordering = ["-month"]

    def __str__(self):
        return self.title


class AgendaSection(models.TextChoices):
    """The sections of the agenda, in DESIGN section 6's order."""

    DECISIONS = "decisions", _("Decisions of the last meeting")
    RED = "red", _("Red projects")
    ESCALATED = "escalated", _("Escalated blockers and overdue supervision orders")
    PROMOTIONS = "promotions", _("Stage promotions waiting for a decision")
    DOCKING = "docking", _("Financing docking news")
    INTERVIEWS = "interviews", _("Interviews proposed")
    OTHER = "other", _("Other matters")


class AgendaItem(models.Model):
    """One item of a meeting's agenda, drafted from the data or added by the secretariat."""

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField(_("position"))
    section = models.CharField(_("section"), max_length=20, choices=AgendaSection.choices)
    title = models.CharField(_("title"), max_length=250)
    detail = models.TextField(_("detail"), blank=True)
    note = models.TextField(_("secretariat's note"), blank=True)
    project = models.ForeignKey(
        "cases.KeyProject", verbose_name=_("key project"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(
        _("drafted from"), max_length=60, blank=True,
        help_text=_("The record the item was drafted from, as kind:id; empty when added by hand."),
    )
    dropped = models.BooleanField(_("dropped"), default=False)
    minutes = models.TextField(_("minutes"), blank=True)

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["meeting", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "source"], condition=~Q(source=""), name="uniq_agenda_item_source_per_meeting"
            ),
        ]

    def __str__(self):
        return self.title


class Decision(models.Model):
    """A decision of the meeting: a task with an owner and a deadline in working days."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        DROPPED = "dropped", _("Dropped")

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.PROTECT, related_name="decisions")
    item = models.ForeignKey(
        AgendaItem, verbose_name=_("agenda item"), on_delete=models.SET_NULL, null=True, blank=True, related_name="decisions"
    )
    project = models.ForeignKey(
        "cases.KeyProject", verbose_name=_("key project"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    text = models.CharField(_("decision"), max_length=300)
    owner = models.ForeignKey("cases.Person", verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("cases.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    working_days = models.PositiveSmallIntegerField(
        _("time allowed (working days)"), validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    due_at = models.DateTimeField(pgettext_lazy("deadline", "due at"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.OPEN)
    report = models.TextField(_("what was done"), blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("meeting decision")
        verbose_name_plural = _("meeting decisions")
        ordering = ["meeting", "pk"]
        indexes = [models.Index(fields=["state"], name="decision_state")]

    def __str__(self):
        return self.text


class DecisionProcess(Process):
    project = models.ForeignKey(
        "cases.KeyProject", verbose_name=_("key project"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision = models.OneToOneField(
        Decision, verbose_name=_("meeting decision"), on_delete=models.PROTECT, related_name="process"
    )

    class Meta:
        verbose_name = _("meeting decision process")
        verbose_name_plural = _("meeting decision processes")


class ScoreMeasure(models.TextChoices):
    """What the bulletin scores a unit on, each 0 to 100 (DESIGN section 6)."""

    TASKS_ON_TIME = "tasks_on_time", _("Tasks done on time")
    BLOCKERS_RESOLVED = "blockers_resolved", _("Blockers resolved")
    BLOCKER_SPEED = "blocker_speed", _("Speed of resolving blockers")
    REPORTS_ON_TIME = "reports_on_time", _("Reports on time")
    INVESTMENT = "investment", _("Investment completed against plan")
    LIGHTS = "lights", _("Lights of its cases")


class ScoreWeight(models.Model):
    """The weight of a measure in a unit's score; editable in the admin."""

    measure = models.CharField(_("measure"), max_length=30, choices=ScoreMeasure.choices, unique=True)
    weight = models.DecimalField(
        _("weight"), max_digits=5, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("score weight")
        verbose_name_plural = _("score weights")
        ordering = ["measure"]

    def __str__(self):
        return f"{self.get_measure_display()} · {self.weight}"


class Bulletin(models.Model):
    """The monthly bulletin (通报): scores and ranking of the units for a month."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued")

    month = models.DateField(_("month scored"), unique=True, help_text=_("The first day of the month."))
    number = models.CharField(_("document number"), max_length=40, unique=True)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.DRAFT)
    computed_at = models.DateTimeField(_("scored at"))
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("issued by"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )

    class Meta:
        verbose_name = _("bulletin")
        verbose_name_plural = _("bulletins")
        ordering = ["-month"]

    def __str__(self):
        return self.number


class UnitScore(models.Model):
    """A unit's score in a bulletin, with each measure's value and its rank in its group."""

    class Listing(models.TextChoices):
        NONE = "", _("Not listed")
        RED = "red", _("Red list")
        BLACK = "black", _("Black list")

    bulletin = models.ForeignKey(Bulletin, verbose_name=_("bulletin"), on_delete=models.CASCADE, related_name="scores")
    unit = models.ForeignKey("cases.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    group = models.CharField(_("group"), max_length=20)
    measures = models.JSONField(
        _("measures"), default=dict, blank=True,
        help_text=_("Each measure's score (0 to 100) and the counts behind it; null when the unit had nothing to score."),
    )
    total = models.DecimalField(_("score"), max_digits=6, decimal_places=2, null=True, blank=True)
    rank = models.PositiveSmallIntegerField(_("rank in group"), null=True, blank=True)
    listing = models.CharField(_("list"), max_length=10, choices=Listing.choices, blank=True, default="")

    class Meta:
        verbose_name = _("unit score")
        verbose_name_plural = _("unit scores")
        ordering = ["bulletin", "group", "rank", "unit"]
        constraints = [models.UniqueConstraint(fields=["bulletin", "unit"], name="uniq_score_per_bulletin_and_unit")]

    def __str__(self):
        return f"{self.unit_id} {self.total}"


class ScoreExemption(models.Model):
    """An item taken out of a unit's score for a month (force majeure), with the reason; audited."""

    unit = models.ForeignKey("cases.Unit", verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    measure = models.CharField(_("measure"), max_length=30, choices=ScoreMeasure.choices)
    project = models.ForeignKey(
        "cases.KeyProject", verbose_name=_("key project"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", help_text=_("Empty to take the whole measure out of the unit's score."),
    )
    reason = models.TextField(_("reason"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("granted by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("granted at"))

    class Meta:
        verbose_name = _("score exemption")
        verbose_name_plural = _("score exemptions")
        ordering = ["-month", "unit"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="exemption_reason_required"),
        ]

    def __str__(self):
        return f"{self.unit_id} {self.month:%Y-%m} {self.measure}"


class DockingProcess(Process):
    """A follow-up of a financing docking for the case's lead unit: stalled, or signed at an event."""

    project = models.ForeignKey("cases.KeyProject", verbose_name=_("key project"), on_delete=models.PROTECT, related_name="+")
    docking = models.ForeignKey(
        "cases.Docking", verbose_name=_("docking"), on_delete=models.PROTECT, related_name="follow_ups"
    )
    reason = models.CharField(
        _("why"), max_length=20,
        choices=[("stalled", _("No step for too long")), ("event", _("Intent signed at a matchmaking event"))],
    )

    class Meta:
        verbose_name = _("docking follow-up process")
        verbose_name_plural = _("docking follow-up processes")
