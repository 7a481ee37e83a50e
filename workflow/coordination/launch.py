"""Starting the coordination flows: each start is here, and the services, the hooks and the
workers call these; the records a flow works on are written by ``orders``, ``interviews`` and
the cases' services before."""

from django.db import transaction
from django.db.models import Exists
from django.utils import timezone

from cases.financing.models import Docking
from cases.financing.services.dockings import OPEN_STATES
from workflow.engine import bulk, clocks
from workflow.engine.calendar import WorkingCalendar

from . import interviews, orders
from .flows import BlockerFlow, DockingFollowUpFlow, InterviewFlow, PreworkFlow, SupervisionFlow
from .followups import STALLED, open_follow_up, stalled_filter
from .models import Interview, SupervisionOrder


def start_blocker_flow(blocker):
    return BlockerFlow.start.run(blocker=blocker)


def start_prework_flow(item):
    return PreworkFlow.start.run(item=item)


def start_prework_flows(project):
    """When a case enters pre-work: one approval task per required item still open."""
    items = project.prework_items.filter(required=True, state__in=["pending", "in_progress"])
    return [start_prework_flow(item) for item in items if not item.processes.filter(finished__isnull=True).exists()]


@transaction.atomic
def issue_order(
    *, project, unit, subject, actor, clock=None, urgency=SupervisionOrder.Urgency.NORMAL, respond_by=None
):
    """A supervisor issues a supervision order to a unit, to be answered by the end of
    ``respond_by`` (a day; by default ``orders.ANSWER_DAYS`` working days on); its flow delivers
    it and waits for the answer."""
    order = orders.order_create(
        project=project, unit=unit, subject=subject, actor=actor, clock=clock, urgency=urgency, respond_by=respond_by
    )
    SupervisionFlow.start.run(order=order)
    return order


@transaction.atomic
def propose_interview(*, project, leader, reason, actor, unit=None, clock=None):
    """A supervisor proposes to interview a responsible leader; its flow asks for the approval."""
    interview = interviews.interview_propose(
        project=project, leader=leader, reason=reason, actor=actor, unit=unit, clock=clock
    )
    InterviewFlow.start.run(interview=interview)
    return interview


def start_order_flows(order_ids):
    """The ladder's orders' flows, at once (``workflow.engine.bulk``); safe to run twice."""
    found = SupervisionOrder.objects.filter(pk__in=order_ids, process__isnull=True).select_related("project")
    return len(bulk.start_many(SupervisionFlow.start, "order", found))


def start_interview_flows(interview_ids):
    """The ladder's and the rules' interviews' flows, at once; safe to run twice."""
    found = Interview.objects.filter(pk__in=interview_ids, process__isnull=True).select_related("project__lead_unit", "unit", "leader")
    return len(bulk.start_many(InterviewFlow.start, "interview", found))


def start_follow_ups(docking_ids, reason, *, now=None):
    """Start a follow-up for each docking of the batch that still needs one, in one transaction.

    Under the dockings' row locks a second delivery of the batch finds the follow-ups open and
    starts nothing twice; a stalled docking that moved since the sweep is left alone.
    """
    now = now or timezone.now()
    with clocks.ladder_cached(), transaction.atomic():
        locked = list(
            Docking.objects.select_for_update(of=("self",))
            .filter(pk__in=docking_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        todo = Docking.objects.filter(pk__in=locked, state__in=OPEN_STATES).exclude(Exists(open_follow_up()))
        if reason == STALLED:
            todo = todo.filter(stalled_filter(now, WorkingCalendar.load()))
        todo = list(todo.select_related("project", "institution").order_by("pk"))
        started = bulk.start_many(DockingFollowUpFlow.start, "docking", todo, extra=lambda docking: {"reason": reason})
    return len(started)
