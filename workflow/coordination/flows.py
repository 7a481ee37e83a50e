"""The coordination flows: graphs only. Each step's work is a service; each human step gets a clock.

Blocker coordination, pre-work approval, supervision orders, interviews and docking follow-ups, in
viewflow 2.4 with the flows' waiting lock. Steps tied to a record's state machine (a blocker's
triage, resolution and close-out; a pre-work item's approval) finish when the record changes,
through cases' ``record_changed`` hook (``hooks``)."""

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from cases.models import BlockerState
from workflow.engine import clocks
from workflow.engine import views as engine_views
from workflow.engine.models import TaskKind
from workflow.engine.nodes import CeleryJob, DataSplit, waiting_lock
from workflow.engine.permissions import (
    ScopedFlow,
    interview_approvers,
    secretariat,
    supervisors,
    unit_task,
)

from . import followups, interviews, orders
from .models import (
    BlockerProcess,
    DockingProcess,
    InterviewProcess,
    PreworkProcess,
    SupervisionOrder,
    SupervisionProcess,
)
from .views import InterviewHoldView

TRIAGE_DAYS = 2
VERIFY_DAYS = 2
RESOLVE_DAYS = 10  # when the triage set no due date
EVALUATE_DAYS = 3
APPROVE_DAYS = 2
SCHEDULE_DAYS = 3
MINUTES_DAYS = 2
FOLLOW_UP_DAYS = 5


def input_unit(activation):
    return unit_task(activation.task.data["unit"])


def blocker_lead_unit(activation):
    return unit_task(activation.process.blocker.lead_unit_id)


def approving_unit(activation):
    return unit_task(activation.process.item.approving_unit_id)


def order_addressee(activation):
    return unit_task(activation.process.order.unit_id)


class BlockerFlow(ScopedFlow):
    process_class = BlockerProcess
    lock_impl = waiting_lock
    process_title = _("Blocker coordination")
    process_description = _("Triage, the cooperating units' input, resolution and close-out of a blocker.")

    start = flow.StartHandle(this.begin).Next(this.triage)
    triage = (
        flow.View(engine_views.StepView.as_view())
        .Annotation(title=_("Triage the blocker"))
        .Permission(secretariat)
        .onCreate(this.start_clock)
        .Next(this.after_triage)
    )
    after_triage = flow.If(this.is_assigned).Then(this.has_inputs).Else(this.dismissed)
    has_inputs = flow.If(this.needs_inputs).Then(this.inputs).Else(this.resolution)
    inputs = DataSplit().Next(this.give_input, data_source=this.cooperating_units)
    give_input = (
        flow.View(engine_views.StepView.as_view())
        .Annotation(title=_("Give your unit's input on the blocker"))
        .Permission(input_unit)
        .onCreate(this.start_clock)
        .Next(this.inputs_in)
    )
    inputs_in = flow.Join().Next(this.resolution)
    # Not named "resolve": this.resolve is viewflow's own method.
    resolution = (
        flow.View(engine_views.StepView.as_view())
        .Annotation(title=_("Resolve the blocker"))
        .Permission(blocker_lead_unit)
        .onCreate(this.start_clock)
        .Next(this.verify)
    )
    verify = (
        flow.View(engine_views.StepView.as_view())
        .Annotation(title=_("Verify and close out the blocker"))
        .Permission(secretariat)
        .onCreate(this.start_clock)
        .Next(this.after_verify)
    )
    after_verify = flow.If(this.is_closed_out).Then(this.closed).Else(this.resolution)
    closed = flow.End()
    dismissed = flow.End()

    def begin(self, activation, blocker):
        activation.process.blocker = blocker
        activation.process.project = blocker.project
        return activation.process

    def blocker(self, activation):
        return activation.process.blocker

    def is_assigned(self, activation):
        return self.blocker(activation).state == BlockerState.ASSIGNED

    def needs_inputs(self, activation):
        return self.blocker(activation).cooperating_units.exists()

    def cooperating_units(self, activation):
        return [{"unit": unit.pk} for unit in self.blocker(activation).cooperating_units.order_by("pk")]

    def is_closed_out(self, activation):
        return self.blocker(activation).state == BlockerState.CLOSED_OUT

    def start_clock(self, activation):
        blocker = self.blocker(activation)
        node = activation.flow_task.name
        common = {"task": activation.task, "project": blocker.project}
        title = blocker.title
        if node in ("triage", "verify"):
            kind = TaskKind.BLOCKER_TRIAGE if node == "triage" else TaskKind.BLOCKER_VERIFY
            unit = clocks.secretariat_unit() or blocker.project.lead_unit
            days = TRIAGE_DAYS if node == "triage" else VERIFY_DAYS
            return clocks.clock_start(kind=kind, unit=unit, title=title, working_days=days, **common)
        unit_id = activation.task.data["unit"] if node == "give_input" else blocker.lead_unit_id
        kind = TaskKind.BLOCKER_INPUT if node == "give_input" else TaskKind.BLOCKER_RESOLVE
        due = {"due_at": clocks.end_of_day(blocker.due_on)} if blocker.due_on else {"working_days": RESOLVE_DAYS}
        return clocks.clock_start(kind=kind, unit_id=unit_id, title=title, **due, **common)


class PreworkFlow(ScopedFlow):
    process_class = PreworkProcess
    lock_impl = waiting_lock
    process_title = _("Pre-work approval")
    process_description = _("The approving unit handles a pre-work item within its statutory time limit.")

    start = flow.StartHandle(this.begin).Next(this.approve)
    approve = (
        flow.View(engine_views.StepView.as_view())
        .Annotation(title=_("Approve the pre-work item"))
        .Permission(approving_unit)
        .onCreate(this.start_clock)
        .Next(this.done)
    )
    done = flow.End()

    def begin(self, activation, item):
        activation.process.item = item
        activation.process.project = item.project
        return activation.process

    def start_clock(self, activation):
        item = activation.process.item
        return clocks.clock_start(
            task=activation.task,
            kind=TaskKind.PREWORK,
            project=item.project,
            unit_id=item.approving_unit_id,
            title=item.label,
            working_days=item.statutory_days,
        )


class SupervisionFlow(ScopedFlow):
    process_class = SupervisionProcess
    lock_impl = waiting_lock
    process_title = _("Supervision order")
    process_description = _("A unit answers a supervision order with a plan; the supervisor evaluates it.")

    start = flow.StartHandle(this.begin).Next(this.deliver)
    deliver = CeleryJob(this.send_order).OnError(this.delivery_failed).Next(this.respond)
    delivery_failed = flow.Function(this.note_delivery_failure).Next(this.respond)
    respond = (
        flow.View(engine_views.StepView.as_view())
        .Annotation(title=_("Answer the supervision order"))
        .Permission(order_addressee)
        .onCreate(this.start_clock)
        .Next(this.evaluate)
    )
    evaluate = (
        flow.View(engine_views.StepView.as_view())
        .Annotation(title=_("Evaluate the rectification plan"))
        .Permission(supervisors)
        .onCreate(this.start_clock)
        .Next(this.after_evaluate)
    )
    after_evaluate = flow.If(this.is_closed).Then(this.closed).Else(this.reissue)
    reissue = flow.Function(this.reissue_order).Next(this.reissued)
    closed = flow.End()
    reissued = flow.End()

    def begin(self, activation, order):
        activation.process.order = order
        activation.process.project = order.project
        return activation.process

    def send_order(self, activation):
        return orders.deliver_order(activation.process.order)

    def note_delivery_failure(self, activation):
        orders.order_delivery_failed(activation.process.order)

    def is_closed(self, activation):
        return activation.process.order.state == SupervisionOrder.State.CLOSED

    def reissue_order(self, activation):
        self.start.run(order=orders.reissue(activation.process.order))

    def start_clock(self, activation):
        order = activation.process.order
        title = order.subject
        if activation.flow_task.name == "respond":
            return clocks.clock_start(
                task=activation.task,
                kind=TaskKind.SUPERVISION_RESPONSE,
                project=order.project,
                unit_id=order.unit_id,
                title=title,
                due_at=order.respond_by,
            )
        return clocks.clock_start(
            task=activation.task,
            kind=TaskKind.SUPERVISION_EVALUATE,
            project=order.project,
            unit=clocks.supervisor_unit() or order.unit,
            title=title,
            working_days=EVALUATE_DAYS,
        )


class InterviewFlow(ScopedFlow):
    process_class = InterviewProcess
    lock_impl = waiting_lock
    process_title = _("Interview")
    process_description = _("An interview of a responsible leader: approval, schedule, minutes, commitments.")

    start = flow.StartHandle(this.begin).Next(this.approve)
    approve = (
        flow.View(engine_views.StepView.as_view())
        .Annotation(title=_("Decide on the proposed interview"))
        .Permission(interview_approvers)
        .onCreate(this.start_clock)
        .Next(this.after_approve)
    )
    after_approve = flow.If(this.is_approved).Then(this.schedule).Else(this.not_held)
    schedule = (
        flow.View(engine_views.StepView.as_view())
        .Annotation(title=_("Schedule the interview"))
        .Permission(secretariat)
        .onCreate(this.start_clock)
        .Next(this.invite)
    )
    invite = CeleryJob(this.send_invitations).OnError(this.invitations_failed).Next(this.hold)
    invitations_failed = flow.Function(this.note_invitation_failure).Next(this.hold)
    hold = (
        flow.View(InterviewHoldView.as_view())
        .Annotation(title=_("Record the interview's minutes and commitments"))
        .Permission(secretariat)
        .onCreate(this.start_clock)
        .Next(this.after_hold)
    )
    after_hold = flow.If(this.has_commitments).Then(this.commitments).Else(this.follow_up)
    commitments = DataSplit().Next(this.keep_commitment, data_source=this.commitment_items)
    keep_commitment = (
        flow.View(engine_views.StepView.as_view())
        .Annotation(title=_("Keep a commitment made at an interview"))
        .Assign(this.commitment_owner)
        .onCreate(this.start_clock)
        .Next(this.commitments_kept)
    )
    commitments_kept = flow.Join().Next(this.follow_up)
    follow_up = (
        flow.View(engine_views.StepView.as_view())
        .Annotation(title=_("Check that the commitments were kept"))
        .Permission(secretariat)
        .onCreate(this.start_clock)
        .Next(this.closed)
    )
    closed = flow.End()
    not_held = flow.End()

    def begin(self, activation, interview):
        activation.process.interview = interview
        activation.process.project = interview.project
        return activation.process

    def is_approved(self, activation):
        return activation.process.interview.state == activation.process.interview.State.APPROVED

    def send_invitations(self, activation):
        interviews.send_invitations(activation.process.interview)
        return "sent"

    def note_invitation_failure(self, activation):
        interviews.invitation_failed(activation.process.interview)

    def has_commitments(self, activation):
        return activation.process.interview.commitments.exists()

    def commitment_items(self, activation):
        return [{"commitment": c.pk} for c in activation.process.interview.commitments.order_by("pk")]

    def commitment_owner(self, activation):
        return interviews.commitment_of(activation.task).owner.user

    def start_clock(self, activation):
        interview = activation.process.interview
        node = activation.flow_task.name
        title = str(interview)
        common = {"task": activation.task, "project": interview.project, "title": title}
        if node == "keep_commitment":
            commitment = interviews.commitment_of(activation.task)
            return clocks.clock_start(
                kind=TaskKind.COMMITMENT,
                unit_id=commitment.owner.unit_id,
                working_days=commitment.working_days,
                **common,
            )
        unit = clocks.secretariat_unit() or (interview.project.lead_unit if interview.project else interview.unit)
        if node == "hold" and interview.scheduled_at:
            due = {"due_at": clocks.working_days_after(interview.scheduled_at, MINUTES_DAYS)}
        else:
            due = {"working_days": {"approve": APPROVE_DAYS, "schedule": SCHEDULE_DAYS}.get(node, FOLLOW_UP_DAYS)}
        kind = {
            "approve": TaskKind.INTERVIEW_APPROVE,
            "schedule": TaskKind.INTERVIEW_SCHEDULE,
            "hold": TaskKind.INTERVIEW_HOLD,
        }.get(node, TaskKind.FOLLOW_UP)
        return clocks.clock_start(kind=kind, unit=unit, **due, **common)


def docking_lead_unit(activation):
    return unit_task(activation.process.project.lead_unit_id)


class DockingFollowUpFlow(ScopedFlow):
    """A financing docking followed up by the case's lead unit: stalled, or signed at an event."""

    process_class = DockingProcess
    lock_impl = waiting_lock
    process_title = _("Financing docking follow-up")
    process_description = _("The case's lead unit follows up a stalled docking, or an intent signed at an event.")

    start = flow.StartHandle(this.begin).Next(this.follow_up)
    follow_up = (
        flow.View(engine_views.StepView.as_view(template_name="cases/financing/docking_follow_up_task.html"))
        .Annotation(title=_("Follow up the financing docking"))
        .Permission(docking_lead_unit)
        .onCreate(this.start_clock)
        .Next(this.done)
    )
    done = flow.End()

    def begin(self, activation, docking, reason):
        activation.process.docking = docking
        activation.process.project = docking.project
        activation.process.reason = reason
        return activation.process

    def start_clock(self, activation):
        return followups.start_clock(activation)
