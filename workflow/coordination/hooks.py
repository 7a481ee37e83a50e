"""How coordination follows the cases: the one module of workflow that listens to cases'
``record_changed``.

A case selected into the key list gets an approval task per required pre-work item; a reported
blocker gets its coordination; a record's transition finishes the task it answers (a blocker's
triage, resolution or close-out; a pre-work item's approval); a docking's step ends its follow-up,
and an intent signed at an event starts one."""

import logging

from django.dispatch import receiver

from cases.financing.models import Docking
from cases.models import Blocker, BlockerState, KeyProject, PreworkItem, Stage
from cases.signals import record_changed
from workflow.engine import services as engine_services

from . import launch
from . import services as coordination_services
from .flows import BlockerFlow

log = logging.getLogger("workflow")

# A blocker's transition finishes the open task of this node.
BLOCKER_STEPS = {
    "assign": "triage",
    "merge": "triage",
    "reject": "triage",
    "resolve": "resolution",
    "close_out": "verify",
    "send_back": "verify",
}


@receiver(record_changed)
def follow_the_cases(sender, instance, action, transition, actor, **kwargs):
    if isinstance(instance, KeyProject):
        if transition == "select" or (transition == "resume" and instance.stage == Stage.PREWORK):
            launch.start_prework_flows(instance)
    elif isinstance(instance, PreworkItem):
        _prework_item(instance, action, transition, actor)
    elif isinstance(instance, Blocker):
        _blocker(instance, action, transition, actor)
    elif isinstance(instance, Docking):
        coordination_services.docking_changed(instance, action, transition, actor)


def _prework_item(item, action, transition, actor):
    # The stage as stored: the caller's copy of the case may predate its latest transition.
    in_prework = KeyProject.objects.filter(pk=item.project_id, stage=Stage.PREWORK).exists()
    if action == "created" or transition == "reopen":
        if in_prework and item.required:
            launch.start_prework_flow(item)
        return
    if transition in ("complete", "waive"):
        for process in item.processes.filter(finished__isnull=True):
            task = engine_services.open_task(process, process.flow_class.approve)
            if task is not None:
                engine_services.finish_task(task, actor)


def _blocker(blocker, action, transition, actor):
    if action == "created":
        launch.start_blocker_flow(blocker)
        return
    process = getattr(blocker, "process", None)
    if process is None or process.finished is not None:
        return
    node = BLOCKER_STEPS.get(transition)
    if node is None:
        return
    if transition == "reject" and blocker.state == BlockerState.REJECTED:
        triage = engine_services.open_task(process, BlockerFlow.triage)
        if triage is None:  # rejected after triage: the coordination stops
            BlockerFlow.instance.cancel(process)
            return
    if node == "resolution":
        # A lead unit that resolves before every cooperating unit answered closes their inputs.
        for pending in process.task_set.filter(flow_task=BlockerFlow.give_input, status__in=engine_services.OPEN_STATUSES):
            engine_services.finish_task(pending, actor)
    task = engine_services.open_task(process, getattr(BlockerFlow, node))
    if task is None:
        log.info("blocker %s: no open %s task for %s", blocker.pk, node, transition)
        return
    engine_services.finish_task(task, actor)
