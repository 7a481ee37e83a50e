"""The flows through the pages: claim from the queue, each step's form, the deadline page with
pause and resume, the overdue board with its filters and Excel export, orders and interviews."""

import datetime
import io

import pytest
import time_machine
from django.utils import timezone
from openpyxl import load_workbook
from viewflow.workflow.status import PROCESS, STATUS

from cases import services as case_services
from cases.models import Blocker, BlockerState, PreworkItem, Stage
from tests.cases.factories import PreworkItemFactory, set_stage
from workflow.coordination import launch
from workflow.coordination.flows import BlockerFlow, InterviewFlow, PreworkFlow, SupervisionFlow
from workflow.coordination.models import BlockerProcess, Commitment, Interview, SupervisionOrder
from workflow.engine import services
from workflow.engine import tasks as engine_tasks
from workflow.engine.models import TaskClock

D = datetime.date


def local(day, hour=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def login(client, person):
    client.logout()
    client.force_login(person.user)
    return client


def url(task, name):
    return task.flow_task.reverse(name, args=[task.process_id, task.pk])


def take_and_submit(client, task, data):
    """Claim the task from the queue on its page, open its form and submit it."""
    if task.status == STATUS.NEW:
        response = client.post(url(task, "assign"))
        assert response.status_code == 302, response.content
    form = client.get(url(task, "execute"))
    assert form.status_code == 200
    response = client.post(url(task, "execute"), data)
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    return response


def open_task(process, node):
    return services.open_task(process, node)


def test_a_blocker_is_coordinated_through_the_pages_from_triage_to_close_out(client, org):
    set_stage(org.project, Stage.PREWORK)
    blocker = case_services.blocker_report(
        project=org.project, actor=org.staff.user, data={"title": "用地指标不足", "category": "land"}
    )
    process = BlockerProcess.objects.get(blocker=blocker)

    login(client, org.secretariat)
    triage = open_task(process, BlockerFlow.triage)
    assert str(triage.pk) in client.get("/workflow/queue/").content.decode()
    take_and_submit(
        client,
        triage,
        {
            "decision": "assign",
            "lead_unit": org.park.pk,
            "cooperating_units": [org.department.pk],
            "working_days": 5,
        },
    )
    assert Blocker.objects.get(pk=blocker.pk).state == BlockerState.ASSIGNED

    login(client, org.dept_head)
    give_input = open_task(process, BlockerFlow.give_input)
    assert str(give_input.pk) in client.get("/workflow/queue/").content.decode()
    take_and_submit(client, give_input, {"text": "已安排用地指标调剂"})

    login(client, org.head)
    resolution = open_task(process, BlockerFlow.resolution)
    take_and_submit(client, resolution, {"resolution": "指标已落实"})
    assert Blocker.objects.get(pk=blocker.pk).state == BlockerState.RESOLVED

    login(client, org.secretariat)
    take_and_submit(client, open_task(process, BlockerFlow.verify), {"decision": "close_out", "reason": ""})
    process.refresh_from_db()
    assert process.status == PROCESS.DONE
    assert Blocker.objects.get(pk=blocker.pk).state == BlockerState.CLOSED_OUT
    archive = client.get("/workflow/archive/").content.decode()
    assert str(triage.pk) in archive


def test_a_forms_error_is_shown_on_the_page_and_nothing_changes(client, org):
    set_stage(org.project, Stage.PREWORK)
    blocker = case_services.blocker_report(
        project=org.project, actor=org.staff.user, data={"title": "用地指标不足", "category": "land"}
    )
    triage = open_task(BlockerProcess.objects.get(blocker=blocker), BlockerFlow.triage)
    login(client, org.secretariat)
    client.post(url(triage, "assign"))
    response = client.post(url(triage, "execute"), {"decision": "reject", "reason": ""})
    assert response.status_code == 200
    assert "Give the reason for rejecting it." in response.content.decode()
    assert Blocker.objects.get(pk=blocker.pk).state == BlockerState.REPORTED


def test_a_supervisor_issues_an_order_the_unit_answers_and_the_supervisor_closes_it(
    client, org, django_capture_on_commit_callbacks
):
    login(client, org.supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/workflow/projects/{org.project.pk}/order/", {"unit": org.park.pk, "subject": "用地报批滞后"}
        )
    order = SupervisionOrder.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/workflow/orders/{order.pk}/"
    assert order.state == SupervisionOrder.State.ISSUED
    assert order.process.task_set.get(flow_task=SupervisionFlow.deliver).status == STATUS.DONE
    assert order.number in client.get("/workflow/orders/").content.decode()

    login(client, org.head)
    respond = open_task(order.process, SupervisionFlow.respond)
    fixed_by = timezone.localdate() + datetime.timedelta(days=20)
    take_and_submit(client, respond, {"plan": "两周内完成报批", "fixed_by": fixed_by.isoformat()})
    assert SupervisionOrder.objects.get().state == SupervisionOrder.State.ANSWERED

    login(client, org.supervisor)
    take_and_submit(client, open_task(order.process, SupervisionFlow.evaluate), {"accepted": "1", "evaluation": ""})
    assert SupervisionOrder.objects.get().state == SupervisionOrder.State.CLOSED
    assert "两周内完成报批" in client.get(f"/workflow/orders/{order.pk}/").content.decode()


def test_the_minutes_of_an_interview_make_a_task_of_each_commitment(client, org, django_capture_on_commit_callbacks):
    login(client, org.supervisor)
    response = client.post(
        f"/workflow/projects/{org.project.pk}/interview/", {"leader": org.leader.pk, "reason": "项目推进滞后"}
    )
    interview = Interview.objects.get()
    assert response["Location"] == f"/workflow/interviews/{interview.pk}/"
    login(client, org.secretariat)
    take_and_submit(client, open_task(interview.process, InterviewFlow.approve), {"approved": "1", "note": ""})
    when = timezone.localtime() + datetime.timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        take_and_submit(
            client,
            open_task(interview.process, InterviewFlow.schedule),
            {"when": when.strftime("%Y-%m-%d %H:%M"), "place": "市政府 3 号会议室", "attendees": [org.head.pk]},
        )
    hold = open_task(interview.process, InterviewFlow.hold)
    take_and_submit(
        client,
        hold,
        {
            "minutes": "责任领导表态",
            "commitments-TOTAL_FORMS": "2",
            "commitments-INITIAL_FORMS": "0",
            "commitments-MIN_NUM_FORMS": "0",
            "commitments-MAX_NUM_FORMS": "1000",
            "commitments-0-text": "两周内完成用地报批",
            "commitments-0-owner": org.head.pk,
            "commitments-0-working_days": "10",
            "commitments-1-text": "",
        },
    )
    commitment = Commitment.objects.get()
    task = open_task(interview.process, InterviewFlow.keep_commitment)
    assert commitment.text == "两周内完成用地报批" and task.owner == org.head.user
    assert Interview.objects.get().state == Interview.State.FOLLOWING_UP


@pytest.fixture
def approval(org):
    set_stage(org.project, Stage.PREWORK)
    item = PreworkItemFactory(project=org.project, approving_unit=org.park, statutory_days=5, title="用地预审")
    with time_machine.travel(local(D(2026, 9, 30), 10), tick=False):
        launch.start_prework_flow(PreworkItem.objects.select_related("project").get(pk=item.pk))
    return TaskClock.objects.get(task__flow_task=PreworkFlow.approve).task


def test_the_deadline_page_pauses_and_resumes_the_clock(client, org, approval):
    clock = TaskClock.objects.get(task=approval)
    due = clock.due_at
    with time_machine.travel(local(D(2026, 10, 12), 9), tick=False):
        login(client, org.head)
        page = client.get(f"/workflow/tasks/{approval.pk}/").content.decode()
        # due at the end of 13 October (stored as the midnight that begins the 14th)
        assert "Pause the clock" in page and "2026-10-13 (end of day)" in page and "2026-10-14" not in page
        client.post(f"/workflow/tasks/{approval.pk}/clock/", {"action": "pause", "reason": "等待规划许可"})
    with time_machine.travel(local(D(2026, 10, 13), 9), tick=False):
        login(client, org.head)
        assert "等待规划许可" in client.get(f"/workflow/tasks/{approval.pk}/").content.decode()
        client.post(f"/workflow/tasks/{approval.pk}/clock/", {"action": "resume"})
        page = client.get(f"/workflow/tasks/{approval.pk}/").content.decode()
    clock.refresh_from_db()
    assert clock.due_at == due + datetime.timedelta(days=1) and clock.paused_at is None
    assert "resumed" in page


def test_a_pause_without_a_reason_is_refused_with_a_message(client, org, approval):
    login(client, org.head)
    response = client.post(f"/workflow/tasks/{approval.pk}/clock/", {"action": "pause", "reason": ""}, follow=True)
    assert "This field is required." in response.content.decode()
    assert TaskClock.objects.get(task=approval).paused_at is None


def test_the_overdue_board_groups_filters_and_exports(client, org, approval, django_capture_on_commit_callbacks):
    with time_machine.travel(local(D(2026, 10, 16), 9), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            engine_tasks.sweep()
        login(client, org.supervisor)
        board = client.get("/workflow/overdue/")
        page = board.content.decode()
        assert board.context["total"] == 1 and f'data-clock="{approval.clock.pk}"' in page
        assert dict((str(label), n) for label, n in board.context["level_counts"])["2 · leader told"] == 1
        by_leader = client.get("/workflow/overdue/?group=leader")
        assert [group for group, _ in by_leader.context["groups"]] == ["leader"]
        assert client.get(f"/workflow/overdue/?unit={org.department.pk}").context["total"] == 0
        assert client.get("/workflow/overdue/?min_days=3").context["total"] == 1
        assert client.get("/workflow/overdue/?min_days=4").context["total"] == 0
        invalid = client.get("/workflow/overdue/?min_days=-2")
        assert invalid.context["filter_form"].errors and invalid.context["total"] == 1
        export = client.get(f"/workflow/overdue/export.xlsx?unit={org.park.pk}")
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Task", "Key project", "Unit")
    # due at the end of 13 October: the 14th, 15th and 16th have begun since, and the leader was told
    assert rows[1][2:] == ("高新区", "leader", "2026-10-13", 3, 2)
