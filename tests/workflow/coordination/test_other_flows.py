"""Pre-work approvals, supervision orders and interviews, end to end without HTTP."""

import datetime
from unittest import mock

import pytest
from django.utils import timezone
from viewflow.workflow.status import PROCESS, STATUS

from cases import services as case_services
from cases.models import PreworkItem, PreworkState, Stage
from tests.cases.factories import PreworkItemFactory, ready_to_select
from workflow.coordination import interviews, launch, orders
from workflow.coordination.flows import InterviewFlow, PreworkFlow, SupervisionFlow
from workflow.coordination.models import Commitment, Interview, PreworkProcess, SupervisionOrder
from workflow.engine import services
from workflow.engine.models import TaskClock, TaskKind

OPEN = services.OPEN_STATUSES


def open_task(process, node):
    return process.task_set.filter(flow_task=node, status__in=OPEN).get()


def test_selecting_a_case_gives_each_required_open_item_an_approval_task(org):
    project = ready_to_select(org.project, leader=org.leader)
    land = PreworkItemFactory(project=project, approving_unit=org.department, statutory_days=20)
    PreworkItemFactory(project=project, approving_unit=org.department, required=False, kind="other", title="可选")
    case_services.project_transition(project_id=project.pk, transition="select", actor=org.secretariat.user)

    process = PreworkProcess.objects.get()
    assert process.item == land
    task = open_task(process, PreworkFlow.approve)
    assert task.owner_permission == f"workflow.unit_task_{org.department.pk}"
    clock = TaskClock.objects.get(task=task)
    assert (clock.kind, clock.working_days) == (TaskKind.PREWORK, 20)

    item = PreworkItem.objects.select_related("project").get(pk=land.pk)
    case_services.prework_item_transition(
        item=item, transition="complete", actor=org.dept_head.user, fields={"done_on": datetime.date(2026, 11, 20)}
    )
    process.refresh_from_db()
    assert process.status == PROCESS.DONE
    assert TaskClock.objects.get(task=task).closed_at is not None
    assert PreworkItem.objects.get(pk=land.pk).state == PreworkState.DONE


def test_an_item_added_during_pre_work_gets_its_task(org):
    project = ready_to_select(org.project, leader=org.leader)
    case_services.project_transition(project_id=project.pk, transition="select", actor=org.secretariat.user)
    project.refresh_from_db()
    assert project.stage == Stage.PREWORK
    case_services.prework_item_create(
        project=project,
        actor=org.secretariat.user,
        data={"kind": "eia", "approving_unit": org.department, "statutory_days": 30},
    )
    assert PreworkProcess.objects.filter(status=PROCESS.NEW).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_supervision_order_is_delivered_by_a_job_answered_and_closed(org):
    order = launch.issue_order(project=org.project, unit=org.park, subject="用地手续逾期", actor=org.supervisor.user)
    process = order.process
    deliver = process.task_set.get(flow_task=SupervisionFlow.deliver)
    assert deliver.status == STATUS.DONE and deliver.data["result"] == 2  # the park's head and staff
    respond = open_task(process, SupervisionFlow.respond)
    assert TaskClock.objects.get(task=respond).kind == TaskKind.SUPERVISION_RESPONSE

    orders.order_answer(task=respond, user=org.head.user, plan="本周内完成", fixed_by=timezone.localdate())
    evaluate = open_task(process, SupervisionFlow.evaluate)
    orders.order_evaluate(task=evaluate, user=org.supervisor.user, accepted=True, evaluation="同意")
    process.refresh_from_db()
    assert process.status == PROCESS.DONE
    assert SupervisionOrder.objects.get(pk=order.pk).state == SupervisionOrder.State.CLOSED


@pytest.mark.django_db(transaction=True)
def test_a_rejected_plan_reissues_the_order_more_urgently(org):
    order = launch.issue_order(project=org.project, unit=org.park, subject="用地手续逾期", actor=org.supervisor.user)
    orders.order_answer(
        task=open_task(order.process, SupervisionFlow.respond), user=org.staff.user, plan="尽快", fixed_by=timezone.localdate()
    )
    orders.order_evaluate(
        task=open_task(order.process, SupervisionFlow.evaluate), user=org.supervisor.user, accepted=False, evaluation="太笼统"
    )
    again = SupervisionOrder.objects.get(previous=order)
    assert again.urgency == order.urgency + 1 and again.process.status == PROCESS.NEW


@pytest.mark.django_db(transaction=True)
def test_an_order_nobody_can_receive_takes_the_error_path_and_tells_the_secretariat(org):
    order = launch.issue_order(project=org.project, unit=org.commission, subject="无人接收", actor=org.supervisor.user)
    deliver = order.process.task_set.get(flow_task=SupervisionFlow.deliver)
    assert deliver.status == STATUS.CANCELED and "_exception" in deliver.data
    assert order.process.task_set.get(flow_task=SupervisionFlow.delivery_failed).status == STATUS.DONE
    assert open_task(order.process, SupervisionFlow.respond)  # the flow went on
    from notifications.models import Notification

    assert Notification.objects.filter(recipient=org.secretariat.user, key="supervision_order_issued").exists()


@pytest.mark.django_db(transaction=True)
def test_an_interview_from_proposal_to_follow_up_with_a_commitment_task(org):
    interview = launch.propose_interview(
        project=org.project, leader=org.leader, reason="项目推进滞后", actor=org.supervisor.user
    )
    process = interview.process
    interviews.interview_decide(
        task=open_task(process, InterviewFlow.approve), user=org.secretariat.user, approved=True, note=""
    )
    when = timezone.now() + datetime.timedelta(days=3)
    interviews.interview_schedule(
        task=open_task(process, InterviewFlow.schedule),
        user=org.secretariat.user,
        when=when,
        place="市政府 3 号会议室",
        attendees=[org.head],
    )
    invite = process.task_set.get(flow_task=InterviewFlow.invite)
    assert invite.status == STATUS.DONE
    interviews.interview_hold(
        task=open_task(process, InterviewFlow.hold),
        user=org.secretariat.user,
        minutes="责任领导表态",
        commitments=[{"text": "两周内完成用地报批", "owner": org.head, "working_days": 10}],
    )
    commitment_task = open_task(process, InterviewFlow.keep_commitment)
    assert commitment_task.owner == org.head.user
    assert TaskClock.objects.get(task=commitment_task).working_days == 10
    interviews.commitment_done(task=commitment_task, user=org.head.user, report="已报批")
    interviews.interview_follow_up(task=open_task(process, InterviewFlow.follow_up), user=org.secretariat.user, note="已落实")
    process.refresh_from_db()
    assert process.status == PROCESS.DONE
    assert Interview.objects.get(pk=interview.pk).state == Interview.State.CLOSED
    assert Commitment.objects.get().done_at is not None


@pytest.mark.django_db(transaction=True)
def test_failed_invitations_take_the_error_path_and_the_interview_goes_on(org):
    interview = launch.propose_interview(project=org.project, leader=org.leader, reason="滞后", actor=org.supervisor.user)
    interviews.interview_decide(task=open_task(interview.process, InterviewFlow.approve), user=org.secretariat.user, approved=True, note="")
    with mock.patch.object(interviews, "send_invitations", side_effect=RuntimeError("mail server down")):
        interviews.interview_schedule(
            task=open_task(interview.process, InterviewFlow.schedule),
            user=org.secretariat.user,
            when=timezone.now() + datetime.timedelta(days=2),
            place="会议室",
            attendees=[],
        )
    invite = interview.process.task_set.get(flow_task=InterviewFlow.invite)
    assert invite.status == STATUS.CANCELED
    assert interview.process.task_set.get(flow_task=InterviewFlow.invitations_failed).status == STATUS.DONE
    assert open_task(interview.process, InterviewFlow.hold)


def test_a_leader_cannot_approve_their_own_interview(org):
    interview = launch.propose_interview(project=org.project, leader=org.leader, reason="滞后", actor=org.supervisor.user)
    org.leader.rank = "city_leader"
    org.leader.save()
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        interviews.interview_decide(
            task=open_task(interview.process, InterviewFlow.approve), user=org.leader.user, approved=True, note=""
        )
