"""A meeting decision about no case: its task has a clock on its unit, escalates through the
unit's head and leaders to a supervision order and an interview, is seen by the roles that see
its unit, and counts for its unit in the bulletin without lighting any case."""

import datetime

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import LeaderResponsibility, Stage
from notifications.messages import render
from notifications.models import Notification
from tests.cases.factories import PreworkItemFactory, set_stage
from tests.workflow.factories import fired
from workflow.coordination import launch
from workflow.coordination.flows import InterviewFlow, PreworkFlow, SupervisionFlow
from workflow.coordination.models import (
    Interview,
    InterviewProcess,
    SupervisionOrder,
    SupervisionProcess,
)
from workflow.engine import selectors, services
from workflow.engine import tasks as engine_tasks
from workflow.engine.models import Action, Escalation, TaskClock, TaskKind
from workflow.monthly import bulletin, decisions, lights, meetings
from workflow.monthly.models import Decision, LightRule, ScoreMeasure

D = datetime.date
OCTOBER, NOVEMBER = D(2026, 10, 1), D(2026, 11, 1)


def local(day, hour=0, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


MINUTED = local(D(2026, 11, 11), 10)  # Wednesday 11 November: October's meeting is minuted
DUE = local(D(2026, 11, 19))  # 5 working days later: the end of Wednesday 18 November
# The default ladder's rungs past the deadline, at 1, 3, 5 and 10 working days
LEVEL_1, LEVEL_2, LEVEL_3, LEVEL_4 = (
    local(D(2026, 11, 19)),
    local(D(2026, 11, 23)),
    local(D(2026, 11, 25)),
    local(D(2026, 12, 2)),
)


@pytest.fixture
def department(org):
    """The department has a head who is told at level 1; no leader answers for it yet."""
    org.department.head = org.dept_head
    org.department.save()
    return org.department


@pytest.fixture
def answers_for_department(org, department):
    """The city leader answers for the department (包抓): escalations about it reach him."""
    return LeaderResponsibility.objects.create(leader=org.leader, unit=department)


def decide(org, *decisions):
    """October's meeting, minuted on 11 November with ``decisions`` (text, owner, working days, unit)."""
    with time_machine.travel(MINUTED, tick=False):
        meeting = meetings.meeting_draft(month=OCTOBER, actor=None)
        meetings.meeting_record_minutes(
            meeting=meeting,
            actor=org.secretariat.user,
            minutes_by_item={},
            decisions=[
                {"text": text, "owner": owner, "working_days": days, "unit": unit} for text, owner, days, unit in decisions
            ],
            version=meeting.version,
        )
    return list(TaskClock.objects.filter(kind=TaskKind.DECISION).select_related("task").order_by("pk"))


@pytest.fixture
def clock(org, department):
    """The department head's decision to draft a support policy: no case, 5 working days."""
    (clock,) = decide(org, ("研究出台支持政策", org.dept_head, 5, None))
    return clock


def sweep_at(moment, django_capture_on_commit_callbacks):
    with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
        engine_tasks.sweep()


def told(clock, level):
    return sorted(person["name"] for e in Escalation.objects.filter(clock=clock, level=level) for person in e.told)


def notified(key, since):
    return sorted(Notification.objects.filter(key=key, created_at__gte=since).values_list("recipient__username", flat=True))


def test_the_decision_gets_a_clock_of_its_working_days_on_its_unit(org, clock):
    decision = Decision.objects.get()
    assert (clock.project, clock.unit, clock.working_days, clock.due_at) == (None, org.department, 5, DUE)
    assert decision.due_at == DUE and clock.next_fire_at is not None


def test_it_escalates_through_the_units_head_and_leader_to_an_order_and_an_interview(
    org, clock, answers_for_department, django_capture_on_commit_callbacks
):
    # Level 1, one working day overdue: the department's head
    sweep_at(LEVEL_1 + datetime.timedelta(minutes=1), django_capture_on_commit_callbacks)
    assert told(clock, 1) == ["dept_head"]
    assert notified("escalated_to_you", LEVEL_1) == ["dept_head"]
    _title, body = render("escalated_to_you", Notification.objects.get(key="escalated_to_you").context, "en")
    assert "研究出台支持政策 on no key project is" in body

    # Level 2, three: no case has a responsible leader, so the leader who answers for the unit
    sweep_at(LEVEL_2 + datetime.timedelta(minutes=1), django_capture_on_commit_callbacks)
    assert told(clock, 2) == ["leader"]
    assert notified("escalated_to_you", LEVEL_2) == ["leader"]

    # Level 3, five: a supervision order to the department, about no case, delivered by its flow
    sweep_at(LEVEL_3 + datetime.timedelta(minutes=1), django_capture_on_commit_callbacks)
    order = SupervisionOrder.objects.get(clock=clock)
    assert (order.project, order.unit, order.source) == (None, org.department, "ladder")
    process = SupervisionProcess.objects.get(order=order)
    assert process.project is None
    respond = services.open_task(process, SupervisionFlow.respond)
    assert (respond.clock.project, respond.clock.unit) == (None, org.department)
    assert notified("supervision_order_issued", LEVEL_3) == ["dept_head"]

    # Level 4, ten: an interview of the leader who answers for the unit, proposed to the secretariat
    sweep_at(LEVEL_4 + datetime.timedelta(minutes=1), django_capture_on_commit_callbacks)
    interview = Interview.objects.get(clock=clock)
    assert (interview.project, interview.unit, interview.leader) == (None, org.department, org.leader)
    assert notified("interview_proposed", LEVEL_4) == ["leader", "secretariat"]
    approve = services.open_task(InterviewProcess.objects.get(interview=interview), InterviewFlow.approve)
    assert approve.clock.project is None and str(interview) == "leader · 自然资源局"
    assert list(Escalation.objects.filter(clock=clock).values_list("level", flat=True).order_by("level")) == [
        0, 0, 1, 2, 3, 4
    ]


def test_without_a_leader_for_the_unit_levels_2_and_4_record_why_they_told_nobody(
    org, clock, django_capture_on_commit_callbacks
):
    sweep_at(LEVEL_4 + datetime.timedelta(minutes=1), django_capture_on_commit_callbacks)

    tell = Escalation.objects.get(clock=clock, level=2)
    assert tell.action == Action.TELL_CASE_LEADER and tell.told == []
    assert tell.note == "No leader answers for 自然资源局: nobody was told."
    interview = Escalation.objects.get(clock=clock, level=4)
    assert interview.told == [] and interview.note == "No leader answers for 自然资源局: no interview was proposed."
    assert not Interview.objects.exists()
    assert SupervisionOrder.objects.filter(clock=clock).count() == 1  # level 3 still issued its order


def test_the_order_about_no_case_is_seen_by_its_unit_and_the_supervisors_only(
    client, org, clock, django_capture_on_commit_callbacks
):
    sweep_at(LEVEL_3 + datetime.timedelta(minutes=1), django_capture_on_commit_callbacks)
    order = SupervisionOrder.objects.get(clock=clock)
    for person, status in ((org.supervisor, 200), (org.dept_head, 200), (org.head, 404), (org.other_leader, 404)):
        client.force_login(person.user)
        page = client.get(f"/workflow/orders/{order.pk}/")
        assert page.status_code == status, person
        if status == 200:
            assert "no key project" in page.content.decode()
            assert order.number in client.get("/workflow/orders/").content.decode()


# Who sees the task: (person, sees it)
ROLES = [
    ("secretariat", True),
    ("supervisor", True),
    ("dept_head", True),  # its unit, and the decision's owner
    ("leader", True),  # answers for its unit
    ("other_leader", False),
    ("head", False),
    ("staff", False),
    ("other_head", False),
]


@pytest.mark.parametrize(("who", "sees"), ROLES)
def test_the_board_and_the_api_show_it_to_the_roles_that_see_its_unit(
    client, org, clock, answers_for_department, who, sees
):
    person = getattr(org, who)
    client.force_login(person.user)
    api = APIClient()
    api.force_login(person.user)
    with time_machine.travel(LEVEL_2, tick=False):
        board = client.get("/workflow/overdue/")
        rows = api.get("/api/tasks/overdue/").json()["results"]
        detail = api.get(f"/api/tasks/{clock.task_id}/")
        page = client.get(f"/workflow/tasks/{clock.task_id}/")

    assert (f'data-clock="{clock.pk}"' in board.content.decode()) is sees
    assert ([row["task"] for row in rows] == [clock.task_id]) is sees
    assert detail.status_code == (200 if sees else 404) and page.status_code == (200 if sees else 404)
    if sees:
        # the level-2 rung fires when the third working day after the deadline begins
        assert rows[0]["project"] is None and rows[0]["leader"] is None and rows[0]["overdue_days"] == 3
        assert detail.json()["project"] is None and detail.json()["unit"]["id"] == org.department.pk
        assert "no key project" in board.content.decode() and "no key project" in page.content.decode()


@pytest.mark.parametrize("who", ["bank", "owner"])
def test_institutions_and_owners_see_no_board(client, org, clock, who):
    client.force_login(getattr(org, who).user)
    api = APIClient()
    api.force_login(getattr(org, who).user)
    assert client.get("/workflow/overdue/").status_code == 403
    assert api.get("/api/tasks/overdue/").status_code == 403


def test_the_owner_of_a_decision_sees_its_task_while_it_waits_in_another_units_queue(org, department):
    # Given the park's staff owns a decision the department carries out, and gives the task back
    (clock,) = decide(org, ("报送政策草案", org.staff, 5, department))
    with time_machine.travel(MINUTED, tick=False):
        services.release_task(task=clock.task, user=org.staff.user)
    clock.task.refresh_from_db()
    assert clock.task.owner_id is None

    # Then the owner still sees it, and the owner's unit head does not
    with time_machine.travel(LEVEL_2, tick=False):
        assert [c.pk for c in selectors.overdue_board(org.staff.user)] == [clock.pk]
        assert not selectors.overdue_board(org.head.user).exists()
        assert selectors.task_for(org.staff.user, clock.task_id) is not None


def test_the_inbox_names_no_case_and_the_board_issues_an_order_on_the_task(client, org, clock):
    client.force_login(org.dept_head.user)
    assert "no key project" in client.get("/workflow/inbox/").content.decode()

    client.force_login(org.supervisor.user)
    with time_machine.travel(LEVEL_2, tick=False):
        board = client.get("/workflow/overdue/").content.decode()
        action = f"/workflow/tasks/{clock.task_id}/order/"
        assert f'href="{action}"' in board
        form = client.get(action)
        assert form.status_code == 200 and form.context["form"].initial["unit"] == org.department.pk
        issued = client.post(action, {"subject": "政策起草超期，请限期报送", "unit": org.department.pk})

    assert issued.status_code == 302
    order = SupervisionOrder.objects.get(clock=clock)
    assert (order.project, order.unit, order.source, order.issued_by) == (
        None, org.department, "supervisor", org.supervisor.user
    )
    client.force_login(org.head.user)
    assert client.get(action).status_code == 403


def test_lights_compute_and_a_clock_without_a_case_lights_none(org, clock, django_capture_on_commit_callbacks):
    # Given a case whose own task is at level 2, another active case, and the decision at level 2
    set_stage(org.project, Stage.PREWORK)
    set_stage(org.other_project, Stage.PREWORK)
    item = PreworkItemFactory(project=org.project, approving_unit=org.park, statutory_days=5)
    with time_machine.travel(MINUTED, tick=False):
        launch.start_prework_flow(item)
    case_clock = TaskClock.objects.get(task__flow_task=PreworkFlow.approve)
    fired([case_clock], 2, LEVEL_2)
    sweep_at(LEVEL_2 + datetime.timedelta(minutes=1), django_capture_on_commit_callbacks)
    assert Escalation.objects.filter(clock=clock, level=2).exists()

    with time_machine.travel(LEVEL_2 + datetime.timedelta(hours=9), tick=False):
        snapshots = {s.project_id: s for s in lights.lights_compute(month=NOVEMBER)}

    def task_reasons(project):
        return [r for r in snapshots[project.pk].reasons if r["measure"] == LightRule.Check.TASK_LEVEL]

    assert task_reasons(org.project) and not task_reasons(org.other_project)


def test_the_bulletin_counts_decisions_without_a_case_for_their_unit(org, department):
    # Given two decisions of the department due on 18 November: one done in time, one late
    on_time, late = decide(org, ("研究出台支持政策", org.dept_head, 5, None), ("修订管理办法", org.dept_head, 5, None))
    with time_machine.travel(local(D(2026, 11, 16), 15), tick=False):
        decisions.decision_done(task=on_time.task, user=org.dept_head.user, report="已报送")
    with time_machine.travel(local(D(2026, 11, 24), 15), tick=False):
        decisions.decision_done(task=late.task, user=org.dept_head.user, report="已印发")

    # When November is scored
    scores = {s.unit_id: s for s in bulletin.score_units(NOVEMBER, now=local(D(2026, 12, 1), 9))}

    # Then the department's tasks on time count both, one in time
    measure = scores[department.pk].measures[ScoreMeasure.TASKS_ON_TIME]
    assert (measure["done"], measure["of"], measure["score"]) == (1, 2, 50.0)
