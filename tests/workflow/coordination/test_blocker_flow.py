"""Blocker coordination end to end, without HTTP: report, triage, inputs, resolution, close-out."""

import datetime

import pytest
from django.utils import timezone
from viewflow.workflow.status import PROCESS, STATUS

from cases import services as case_services
from cases.models import Blocker, BlockerState, Stage
from tests.cases.factories import set_stage
from workflow.coordination import services as coordination_services
from workflow.coordination.flows import BlockerFlow
from workflow.coordination.models import BlockerProcess
from workflow.engine import services as engine_services
from workflow.engine.models import TaskClock, TaskKind


def open_tasks(process, node=None):
    tasks = process.task_set.filter(status__in=engine_services.OPEN_STATUSES)
    return tasks.filter(flow_task=node) if node is not None else tasks


@pytest.fixture
def reported(org):
    set_stage(org.project, Stage.PREWORK)
    blocker = case_services.blocker_report(
        project=org.project, actor=org.staff.user, data={"title": "用地指标不足", "category": "land"}
    )
    return Blocker.objects.select_related("project").get(pk=blocker.pk)


def test_a_reported_blocker_starts_its_coordination_with_a_triage_task_for_the_secretariat(org, reported):
    process = BlockerProcess.objects.get(blocker=reported)
    triage = open_tasks(process, BlockerFlow.triage).get()
    assert triage.owner_permission == "workflow.secretariat_task"
    clock = TaskClock.objects.get(task=triage)
    assert clock.kind == TaskKind.BLOCKER_TRIAGE and clock.working_days == 2
    assert clock.next_fire_at is not None


def test_the_whole_coordination_runs_through_the_record_changes(org, reported):
    process = BlockerProcess.objects.get(blocker=reported)
    case_services.blocker_transition(
        blocker=reported,
        transition="assign",
        actor=org.secretariat.user,
        fields={
            "lead_unit": org.park,
            "cooperating_units": [org.department],
            "due_on": datetime.date(2026, 12, 31),
        },
    )
    triage = process.task_set.get(flow_task=BlockerFlow.triage)
    assert triage.status == STATUS.DONE and not TaskClock.objects.get(task=triage).next_fire_at
    give_input = open_tasks(process, BlockerFlow.give_input).get()
    assert give_input.owner_permission == f"workflow.unit_task_{org.department.pk}"
    assert not open_tasks(process, BlockerFlow.resolution).exists()

    coordination_services.blocker_give_input(task=give_input, user=org.dept_head.user, text="已安排用地指标调剂")
    resolution = open_tasks(process, BlockerFlow.resolution).get()
    assert resolution.owner_permission == f"workflow.unit_task_{org.park.pk}"
    # due at the end of the day the triage set: midnight that begins 1 January, local time
    assert timezone.localtime(TaskClock.objects.get(task=resolution).due_at).date() == datetime.date(2027, 1, 1)

    blocker = Blocker.objects.select_related("project").get(pk=reported.pk)
    case_services.blocker_transition(
        blocker=blocker, transition="resolve", actor=org.head.user, fields={"resolution": "已解决"}
    )
    verify = open_tasks(process, BlockerFlow.verify).get()
    blocker = Blocker.objects.select_related("project").get(pk=reported.pk)
    case_services.blocker_transition(blocker=blocker, transition="send_back", actor=org.secretariat.user, reason="材料不全")
    assert verify.__class__.objects.get(pk=verify.pk).status == STATUS.DONE
    second = open_tasks(process, BlockerFlow.resolution).get()

    blocker = Blocker.objects.select_related("project").get(pk=reported.pk)
    case_services.blocker_transition(
        blocker=blocker, transition="resolve", actor=org.staff.user, fields={"resolution": "补齐材料"}
    )
    blocker = Blocker.objects.select_related("project").get(pk=reported.pk)
    case_services.blocker_transition(blocker=blocker, transition="close_out", actor=org.secretariat.user)
    process.refresh_from_db()
    assert process.status == PROCESS.DONE
    assert second.__class__.objects.get(pk=second.pk).status == STATUS.DONE
    assert not TaskClock.objects.filter(task__process=process, closed_at__isnull=True).exists()
    assert Blocker.objects.get(pk=reported.pk).state == BlockerState.CLOSED_OUT


def test_rejecting_at_triage_ends_the_coordination(org, reported):
    case_services.blocker_transition(blocker=reported, transition="reject", actor=org.secretariat.user, reason="重复上报")
    process = BlockerProcess.objects.get(blocker=reported)
    assert process.status == PROCESS.DONE
    assert not open_tasks(process).exists()
