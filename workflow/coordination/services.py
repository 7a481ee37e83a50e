"""Writing coordination state that fans out to the workers or stops flows: the ladder's orders and
interviews in bulk (their flows start on the workers after commit), a cooperating unit's input,
and the docking follow-ups a docking's step ends or starts."""

import logging

from django.db import transaction
from django.utils import timezone
from viewflow.workflow.exceptions import FlowRuntimeError

from cases.services.records import blocker_add_input
from workflow.engine.models import TaskClock
from workflow.engine.services import checked, finish_task

from . import tasks
from .flows import DockingFollowUpFlow
from .followups import EVENT
from .launch import start_follow_ups
from .models import DockingProcess, Interview, SupervisionOrder
from .orders import order_number

log = logging.getLogger(__name__)


def issue_orders(orders):
    """The ladder's orders (unsaved, numbered "pending-..."), written in bulk and numbered; their
    flows start in a worker after commit."""
    created = SupervisionOrder.objects.bulk_create(orders)
    for order in created:
        order.number = order_number(order)
    SupervisionOrder.objects.bulk_update(created, ["number"])
    ids = [order.pk for order in created]
    transaction.on_commit(lambda: tasks.start_order_flows.apply_async((ids,)))
    return created


def propose_interviews(interviews):
    """Interviews proposed by the ladder or a rule (unsaved), written in bulk; their flows start in
    a worker after commit."""
    created = Interview.objects.bulk_create(interviews)
    ids = [interview.pk for interview in created]
    transaction.on_commit(lambda: tasks.start_interview_flows.apply_async((ids,)))
    return created


@transaction.atomic
def blocker_give_input(*, task, user, text):
    checked(task, user)
    blocker_add_input(blocker=task.process.coerced.blocker, actor=user, text=text)
    finish_task(task, user)


def docking_changed(docking, action, transition, actor):
    """A docking's step ends its open follow-up; an intent signed at an event starts one."""
    if action != "transition":
        return
    cancel_follow_ups(docking)
    if transition == "sign_intent" and docking.event_id is not None:
        start_follow_ups([docking.pk], EVENT)


def cancel_follow_ups(docking):
    for process in DockingProcess.objects.filter(docking_id=docking.pk, finished__isnull=True):
        try:
            DockingFollowUpFlow.instance.cancel(process)
        except FlowRuntimeError:
            log.info("docking %s: follow-up %s is being done, left open", docking.pk, process.pk)
            continue
        TaskClock.objects.filter(task__process_id=process.pk, closed_at__isnull=True).update(
            closed_at=timezone.now(), next_step=None, next_fire_at=None
        )
