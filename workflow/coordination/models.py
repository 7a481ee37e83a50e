"""The coordination flows' records: supervision orders, interviews with their commitments, and the
process of each flow (blockers, pre-work, orders, interviews, docking follow-ups).

They belong to the ``workflow`` app (``app_label``): their tables and migrations stay."""


from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process

from workflow.engine.models import TaskClock


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

    # Still open: waiting for the unit's plan, or for the supervisor's evaluation of it.
    OPEN = (State.ISSUED, State.ANSWERED)

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
        app_label = "workflow"
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
        app_label = "workflow"
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
        app_label = "workflow"
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
        app_label = "workflow"
        verbose_name = _("blocker coordination")
        verbose_name_plural = _("blocker coordinations")


class PreworkProcess(Process):
    """One pre-work item worked by its approving unit within its statutory time."""

    project = models.ForeignKey("cases.KeyProject", verbose_name=_("key project"), on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(
        "cases.PreworkItem", verbose_name=_("pre-work item"), on_delete=models.PROTECT, related_name="processes"
    )

    class Meta:
        app_label = "workflow"
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
        app_label = "workflow"
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
        app_label = "workflow"
        verbose_name = _("interview process")
        verbose_name_plural = _("interview processes")


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
        app_label = "workflow"
        verbose_name = _("docking follow-up process")
        verbose_name_plural = _("docking follow-up processes")
