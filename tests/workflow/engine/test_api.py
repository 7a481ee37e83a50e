"""The coordination API: my tasks, the queue, claim and release, complete a step, pause and resume,
the overdue tasks with their filters, and a task's breach history."""

import datetime

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient
from viewflow.workflow.status import STATUS

from cases import services as case_services
from cases.models import Blocker, BlockerState, PreworkItem, Stage
from tests.cases.factories import PreworkItemFactory, set_stage
from workflow.coordination import interviews, launch
from workflow.coordination.flows import BlockerFlow, InterviewFlow, PreworkFlow
from workflow.coordination.models import BlockerProcess
from workflow.engine import services
from workflow.engine import tasks as engine_tasks
from workflow.engine.models import TaskClock

D = datetime.date


def local(day, hour=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def api(person):
    client = APIClient()
    client.force_login(person.user)
    return client


@pytest.fixture
def triage(org):
    set_stage(org.project, Stage.PREWORK)
    blocker = case_services.blocker_report(
        project=org.project, actor=org.staff.user, data={"title": "用地指标不足", "category": "land"}
    )
    process = BlockerProcess.objects.get(blocker=blocker)
    return process.task_set.get(flow_task=BlockerFlow.triage)


@pytest.fixture
def approval(org):
    """The park's approval task, started on Wednesday 30 September 2026, allowed 5 working days."""
    set_stage(org.project, Stage.PREWORK)
    item = PreworkItemFactory(project=org.project, approving_unit=org.park, statutory_days=5, title="用地预审")
    with time_machine.travel(local(D(2026, 9, 30), 10), tick=False):
        launch.start_prework_flow(PreworkItem.objects.select_related("project").get(pk=item.pk))
    return TaskClock.objects.get(task__flow_task=PreworkFlow.approve).task


def test_a_task_in_the_units_queue_is_claimed_listed_as_mine_and_given_back(org, approval):
    head = api(org.head)
    queued = head.get("/api/tasks/queue/").json()["results"]
    assert [row["id"] for row in queued] == [approval.pk]
    assert queued[0]["unit"]["id"] == org.park.pk and queued[0]["step"] == "approve"
    assert head.get("/api/tasks/").json()["results"] == []

    claimed = head.post(f"/api/tasks/{approval.pk}/claim/")
    assert claimed.status_code == 200 and claimed.json()["owner"] == "head"
    assert [row["id"] for row in head.get("/api/tasks/").json()["results"]] == [approval.pk]
    assert api(org.staff).post(f"/api/tasks/{approval.pk}/claim/").status_code == 409

    released = head.post(f"/api/tasks/{approval.pk}/release/")
    assert released.status_code == 200 and released.json()["owner"] is None
    assert head.get("/api/tasks/").json()["results"] == []


def test_the_detail_lists_the_inputs_of_the_step(org, approval):
    detail = api(org.head).get(f"/api/tasks/{approval.pk}/").json()
    assert detail["can_act"] is True and detail["completable_by_api"] is True
    names = [field["name"] for field in detail["inputs"]]
    assert names == ["decision", "done_on", "document_number", "reason"]
    decision = detail["inputs"][0]
    assert decision["required"] and [value for value, _ in decision["choices"]] == ["complete", "waive"]


def test_completing_a_step_through_the_api_changes_the_record_and_moves_the_flow(org, approval):
    response = api(org.head).post(
        f"/api/tasks/{approval.pk}/complete/",
        {"decision": "complete", "done_on": "2026-10-09", "document_number": "江自然资预〔2026〕12号"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == STATUS.DONE
    item = PreworkItem.objects.get(title="用地预审")
    assert item.state == "done" and item.document_number == "江自然资预〔2026〕12号"
    assert TaskClock.objects.get(task=approval).closed_at is not None


def test_bad_input_gets_the_forms_errors_and_changes_nothing(org, approval):
    response = api(org.head).post(f"/api/tasks/{approval.pk}/complete/", {"decision": "complete"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"done_on": ["Give the date of the approval."]}
    assert PreworkItem.objects.get(title="用地预审").state == "pending"
    approval.refresh_from_db()
    assert approval.status == STATUS.NEW


def test_a_done_task_cannot_be_completed_twice(org, approval):
    client = api(org.head)
    body = {"decision": "complete", "done_on": "2026-10-09"}
    assert client.post(f"/api/tasks/{approval.pk}/complete/", body, format="json").status_code == 200
    again = client.post(f"/api/tasks/{approval.pk}/complete/", body, format="json")
    assert again.status_code == 409


def test_another_units_head_neither_sees_nor_completes_the_task(org, approval):
    client = api(org.dept_head)
    assert client.get(f"/api/tasks/{approval.pk}/").status_code == 404
    response = client.post(
        f"/api/tasks/{approval.pk}/complete/", {"decision": "waive", "reason": "x"}, format="json"
    )
    assert response.status_code == 404
    assert PreworkItem.objects.get(title="用地预审").state == "pending"


def test_a_supervisor_sees_the_task_but_may_not_do_the_units_step(org, approval):
    client = api(org.supervisor)
    detail = client.get(f"/api/tasks/{approval.pk}/").json()
    assert detail["can_act"] is False
    response = client.post(
        f"/api/tasks/{approval.pk}/complete/", {"decision": "waive", "reason": "x"}, format="json"
    )
    assert response.status_code == 403
    assert PreworkItem.objects.get(title="用地预审").state == "pending"


def test_triage_through_the_api_assigns_the_blocker(org, triage):
    response = api(org.secretariat).post(
        f"/api/tasks/{triage.pk}/complete/",
        {"decision": "assign", "lead_unit": org.park.pk, "cooperating_units": [org.department.pk], "working_days": 5},
        format="json",
    )
    assert response.status_code == 200, response.content
    blocker = Blocker.objects.get()
    assert blocker.state == BlockerState.ASSIGNED and blocker.lead_unit == org.park
    assert list(blocker.cooperating_units.all()) == [org.department]
    give_input = triage.process.task_set.get(flow_task=BlockerFlow.give_input)
    assert give_input.status == STATUS.NEW


def test_a_step_with_a_complex_form_is_sent_to_its_page(org, django_capture_on_commit_callbacks):
    interview = launch.propose_interview(project=org.project, leader=org.leader, reason="滞后", actor=org.supervisor.user)
    process = interview.process
    interviews.interview_decide(task=services.open_task(process, InterviewFlow.approve), user=org.secretariat.user, approved=True, note="")
    with django_capture_on_commit_callbacks(execute=True):  # the invitation job runs after commit
        interviews.interview_schedule(
            task=services.open_task(process, InterviewFlow.schedule),
            user=org.secretariat.user,
            when=timezone.now() + datetime.timedelta(days=3),
            place="会议室",
            attendees=[],
        )
    hold = services.open_task(process, InterviewFlow.hold)
    response = api(org.secretariat).post(f"/api/tasks/{hold.pk}/complete/", {"minutes": "纪要"}, format="json")
    assert response.status_code == 400
    assert response.json()["page"] == f"/workflow/tasks/{hold.pk}/"


def test_pause_and_resume_move_the_deadline_and_show_in_the_breach_history(org, approval):
    client = api(org.head)
    clock = TaskClock.objects.get(task=approval)
    due = clock.due_at
    assert client.post(f"/api/tasks/{approval.pk}/pause/", {}, format="json").status_code == 400
    with time_machine.travel(local(D(2026, 10, 12), 9), tick=False):
        paused = client.post(f"/api/tasks/{approval.pk}/pause/", {"reason": "等待规划许可"}, format="json")
        assert paused.status_code == 200, paused.content
        assert paused.json()["due"]["code"] == "paused"
    with time_machine.travel(local(D(2026, 10, 13), 9), tick=False):
        resumed = api(org.head).post(f"/api/tasks/{approval.pk}/resume/")  # a new session: a day idle logs out
    assert resumed.status_code == 200
    body = resumed.json()
    assert [event["event"] for event in body["pauses"]] == ["pause", "resume"]
    assert body["pauses"][0]["reason"] == "等待规划许可"
    clock.refresh_from_db()
    assert clock.due_at == due + datetime.timedelta(days=1)  # one whole working day stood still
    assert api(org.staff).post(f"/api/tasks/{approval.pk}/pause/", {"reason": "x"}, format="json").status_code == 403


def test_the_overdue_list_filters_and_the_detail_tells_the_breach(org, approval, django_capture_on_commit_callbacks):
    with time_machine.travel(local(D(2026, 10, 16), 9), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            engine_tasks.sweep()
        client = api(org.supervisor)
        rows = client.get("/api/tasks/overdue/").json()["results"]
        # due at the end of 13 October; the 14th, 15th and 16th have begun since: the case's leader was told
        assert [(row["task"], row["overdue_days"], row["level"]) for row in rows] == [(approval.pk, 3, 2)]
        assert client.get(f"/api/tasks/overdue/?unit={org.park.pk}&min_days=3").json()["count"] == 1
        assert client.get(f"/api/tasks/overdue/?unit={org.department.pk}").json()["count"] == 0
        assert client.get("/api/tasks/overdue/?min_days=4").json()["count"] == 0
        assert client.get("/api/tasks/overdue/?level=none").json()["count"] == 0
        assert client.get(f"/api/tasks/overdue/?leader={org.leader.pk}&level=2").json()["count"] == 1
        assert client.get("/api/tasks/overdue/?level=1").json()["count"] == 0
        bad = client.get("/api/tasks/overdue/?min_days=-1&unit=999999")
        assert bad.status_code == 400 and set(bad.json()) == {"min_days", "unit"}
        detail = client.get(f"/api/tasks/{approval.pk}/").json()
    assert detail["due"] == {"code": "overdue", "label": "overdue by 3 working days", "overdue_days": 3}
    # one sweep after a long silence fires every rung that fell due, each once
    assert [(e["level"], e["action"]) for e in detail["escalations"]] == [
        (0, "remind_owner"),
        (0, "remind_owner"),
        (1, "tell_unit_head"),
        (2, "tell_case_leader"),
    ]
    assert [person["name"] for person in detail["escalations"][-1]["told"]] == ["leader"]


def test_people_outside_the_government_have_no_tasks(org):
    for person in (org.bank, org.owner):
        assert api(person).get("/api/tasks/").status_code == 403
    assert APIClient().get("/api/tasks/").status_code in (401, 403)
