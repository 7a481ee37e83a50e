"""The monthly cycle's records (DESIGN section 6): lights, the cycle's steps and runs, monthly
reports and their acceptance, meetings with their agenda and decisions, the bulletin's weights,
scores and exemptions.

A cycle runs in one calendar month and reports on the month before it: the "period". Every record
carries the period's first day. The models belong to the ``workflow`` app (``app_label``): their
tables and migrations stay."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from viewflow.workflow.models import Process


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
        app_label = "workflow"
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
        app_label = "workflow"
        verbose_name = _("monthly light")
        verbose_name_plural = _("monthly lights")
        ordering = ["-month", "project"]
        constraints = [
            models.UniqueConstraint(fields=["project", "month"], name="uniq_light_per_project_and_month"),
        ]
        indexes = [models.Index(fields=["month", "light"], name="light_month_light")]

    def __str__(self):
        return f"{self.project_id} {self.month:%Y-%m} {self.light}"


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
        app_label = "workflow"
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
        app_label = "workflow"
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
        app_label = "workflow"
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
    # What the content was found to be when it was uploaded (a key of cases.uploads.TYPES); it
    # decides the type the file is served as. Empty for files kept before the check: bytes.
    file_type = models.CharField(_("file type"), max_length=10, blank=True, default="")
    name = models.CharField(_("name"), max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        app_label = "workflow"
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
        app_label = "workflow"
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
        app_label = "workflow"
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
        app_label = "workflow"
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
        app_label = "workflow"
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
        app_label = "workflow"
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
        app_label = "workflow"
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
        app_label = "workflow"
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
        app_label = "workflow"
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
        app_label = "workflow"
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
        app_label = "workflow"
        verbose_name = _("score exemption")
        verbose_name_plural = _("score exemptions")
        ordering = ["-month", "unit"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="exemption_reason_required"),
        ]

    def __str__(self):
        return f"{self.unit_id} {self.month:%Y-%m} {self.measure}"
