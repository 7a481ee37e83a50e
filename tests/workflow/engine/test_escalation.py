"""The ladder: each rung fires once, at the right working day, across holidays and make-up days."""

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from cases.models import PreworkItem, Stage
from notifications.models import Notification
from tests.cases.factories import PreworkItemFactory, set_stage
from workflow.coordination import launch
from workflow.coordination.flows import PreworkFlow
from workflow.coordination.models import Interview, SupervisionOrder
from workflow.engine import clocks, services
from workflow.engine import ladder as escalation
from workflow.engine import tasks as engine_tasks
from workflow.engine.models import Action, Escalation, Holiday, TaskClock

D = datetime.date


def local(day, hour=0, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@pytest.fixture
def clock(org):
    """An approval task started on Wednesday 30 September 2026, 10:00, allowed 5 working days."""
    set_stage(org.project, Stage.PREWORK)
    item = PreworkItemFactory(project=org.project, approving_unit=org.park, statutory_days=5)
    with time_machine.travel(local(D(2026, 9, 30), 10), tick=False):
        launch.start_prework_flow(PreworkItem.objects.select_related("project").get(pk=item.pk))
    return TaskClock.objects.get(task__flow_task=PreworkFlow.approve)


def sweep_at(moment, django_capture_on_commit_callbacks):
    with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
        engine_tasks.sweep()


def fired(clock):
    return list(Escalation.objects.filter(clock=clock).order_by("fired_at", "level").values_list("level", "action"))


def test_the_deadline_counts_the_holiday_week_and_the_make_up_saturday(clock):
    # 8, 9, 10 (a Saturday worked in lieu), 12 and 13 October
    assert timezone.localtime(clock.due_at) == local(D(2026, 10, 14))


# Rung by rung: (moment it falls due, level, action)
LADDER = [
    (local(D(2026, 10, 12), 14, 30), 0, Action.REMIND_OWNER),  # 75 % of 134 working hours used
    (local(D(2026, 10, 13)), 0, Action.REMIND_OWNER),  # the due day
    (local(D(2026, 10, 14)), 1, Action.TELL_UNIT_HEAD),  # 1 working day overdue
    (local(D(2026, 10, 16)), 2, Action.TELL_CASE_LEADER),  # 3
    (local(D(2026, 10, 20)), 3, Action.SUPERVISION_ORDER),  # 5: 14, 15, 16, 19, 20
    (local(D(2026, 10, 27)), 4, Action.PROPOSE_INTERVIEW),  # 10
]


def test_each_rung_fires_once_at_its_working_day(org, clock, django_capture_on_commit_callbacks):
    expected = []
    for moment, level, action in LADDER:
        sweep_at(moment - datetime.timedelta(minutes=1), django_capture_on_commit_callbacks)
        assert fired(clock) == expected, f"fired early, before {moment}"
        sweep_at(moment + datetime.timedelta(minutes=1), django_capture_on_commit_callbacks)
        sweep_at(moment + datetime.timedelta(minutes=2), django_capture_on_commit_callbacks)  # a second sweep
        expected.append((level, action))
        assert fired(clock) == expected, f"level {level} at {moment}"
    clock.refresh_from_db()
    assert clock.next_fire_at is None
    assert SupervisionOrder.objects.filter(clock=clock).count() == 1
    assert Interview.objects.filter(clock=clock).count() == 1


def test_each_rung_tells_the_people_it_names(org, clock, django_capture_on_commit_callbacks):
    sweep_at(local(D(2026, 10, 16), 1), django_capture_on_commit_callbacks)
    keys = {}
    for username, key in Notification.objects.values_list("recipient__username", "key"):
        keys.setdefault(username, set()).add(key)
    assert "escalated_to_you" in keys["head"]  # level 1: the unit head (of the queue too, reminded)
    assert keys["leader"] == {"escalated_to_you"}  # level 2: the case's leader
    assert Notification.objects.filter(recipient=org.staff.user, key="reminder").count() == 2  # the queue's people
    told = Escalation.objects.get(clock=clock, level=1).told
    assert told == [{"user": org.head.user_id, "name": "head"}]


def test_the_messages_and_pages_give_the_day_the_deadline_ends(org, clock, client, django_capture_on_commit_callbacks):
    # The task is due at the end of Tuesday 13 October (stored as Wednesday 00:00)
    sweep_at(local(D(2026, 10, 13), 1), django_capture_on_commit_callbacks)  # the due day's reminder

    reminder = Notification.objects.filter(key="reminder").first()
    assert reminder.context["due"] == "2026-10-13"
    client.force_login(org.head.user)
    with time_machine.travel(local(D(2026, 10, 13), 9), tick=False):
        queue = client.get("/workflow/queue/").content.decode()
    # the day beside the badge, and its tooltip saying the day ends it; never the midnight after
    assert '<time class="kp-due-day" datetime="2026-10-13">2026-10-13</time>' in queue
    assert 'title="2026-10-13 (end of day)"' in queue and "2026-10-14" not in queue


def test_an_orders_answer_day_is_the_day_its_deadline_ends(org, clock, client, django_capture_on_commit_callbacks):
    # Level 3 on Tuesday 20 October: the unit answers within 5 working days, by the end of the 27th
    sweep_at(local(D(2026, 10, 20), 1), django_capture_on_commit_callbacks)
    order = SupervisionOrder.objects.get(clock=clock)
    assert timezone.localtime(order.respond_by) == local(D(2026, 10, 28))

    client.force_login(org.supervisor.user)
    detail = client.get(f"/workflow/orders/{order.pk}/").content.decode()
    listed = client.get("/workflow/orders/").content.decode()
    issued = Notification.objects.filter(key="supervision_order_issued").first()

    assert "2026-10-27" in detail and "2026-10-28" not in detail
    assert "2026-10-27" in listed and "2026-10-28" not in listed
    assert issued.context["due"] == "2026-10-27"


def test_a_holiday_entered_in_the_table_moves_the_rungs(org, clock, django_capture_on_commit_callbacks):
    Holiday.objects.create(date=D(2026, 10, 14), name="城市纪念日")
    sweep_at(local(D(2026, 10, 14), 12), django_capture_on_commit_callbacks)
    assert (1, Action.TELL_UNIT_HEAD) not in fired(clock)  # 14 October is off now
    sweep_at(local(D(2026, 10, 15), 0, 5), django_capture_on_commit_callbacks)
    assert (1, Action.TELL_UNIT_HEAD) in fired(clock)


def test_a_paused_clock_fires_nothing_and_its_deadline_moves_by_the_paused_working_time(
    org, clock, django_capture_on_commit_callbacks
):
    with time_machine.travel(local(D(2026, 10, 9), 9), tick=False):
        clocks.clock_pause(clock=clock, actor=org.head.user, reason="等待省厅批复")
    sweep_at(local(D(2026, 10, 20)), django_capture_on_commit_callbacks)
    assert fired(clock) == []
    with time_machine.travel(local(D(2026, 10, 13), 9), tick=False):  # paused 9 Oct 9:00 to 13 Oct 9:00
        clocks.clock_resume(clock=TaskClock.objects.get(pk=clock.pk), actor=org.head.user)
    clock.refresh_from_db()
    # 15 h of 9 Oct, 24 h of the make-up 10 Oct, 24 h of 12 Oct and 9 h of 13 Oct: 72 working hours
    assert clock.paused_seconds == pytest.approx(72 * 3600)
    assert timezone.localtime(clock.due_at) == local(D(2026, 10, 17))  # 14, 15, 16 October more
    from cases.models import AuditEvent

    pauses = AuditEvent.objects.filter(object_id=str(clock.pk), transition__in=["pause", "resume"])
    assert [e.transition for e in pauses.order_by("at")] == ["pause", "resume"]
    assert pauses.get(transition="pause").reason == "等待省厅批复"


def test_a_batch_delivered_twice_fires_nothing_twice(org, clock):
    with time_machine.travel(local(D(2026, 10, 21)), tick=False):
        first = escalation.escalate_batch([clock.pk])
        second = escalation.escalate_batch([clock.pk])
    assert len(first) == 5 and second == []
    assert Escalation.objects.filter(clock=clock).count() == 5
    assert SupervisionOrder.objects.count() == 1


def test_a_finished_task_stops_its_clock(org, clock, django_capture_on_commit_callbacks):
    services.finish_task(clock.task, org.head.user)
    clock.refresh_from_db()
    assert clock.closed_at is not None and clock.next_fire_at is None
    sweep_at(local(D(2026, 11, 30)), django_capture_on_commit_callbacks)
    assert fired(clock) == []


def test_the_escalate_command_fires_what_is_due_now_and_nothing_twice(org, clock):
    # Given the approval task one working day overdue (14 October 2026, the morning)
    with time_machine.travel(local(D(2026, 10, 14), 9), tick=False):
        # When an operator runs the command twice
        first, second = io.StringIO(), io.StringIO()
        call_command("escalate", stdout=first)
        call_command("escalate", stdout=second)

    # Then the reminders and the unit head's rung fired once, and the second run found nothing
    assert fired(clock) == [(0, Action.REMIND_OWNER), (0, Action.REMIND_OWNER), (1, Action.TELL_UNIT_HEAD)]
    assert "1 tasks had a rung due; 3 escalations fired." in first.getvalue()
    assert "0 tasks had a rung due; 0 escalations fired." in second.getvalue()


def test_a_task_under_a_supervisors_order_and_interview_gets_no_second_one_from_the_ladder(
    org, clock, django_capture_on_commit_callbacks
):
    # Given the supervisor's own order about the task, and then their own interview proposal
    with time_machine.travel(local(D(2026, 10, 16), 9), tick=False), django_capture_on_commit_callbacks(execute=True):
        order = launch.issue_order(
            project=org.project, unit=org.park, subject="请加快用地预审", actor=org.supervisor.user, clock=clock
        )
        interview = launch.propose_interview(
            project=org.project, leader=org.leader, reason="用地预审严重滞后", actor=org.supervisor.user, clock=clock
        )

    proposed = Notification.objects.filter(key="interview_proposed", link=f"/tasks/{clock.task_id}/").count()

    sweep_at(local(D(2026, 10, 28)), django_capture_on_commit_callbacks)

    # the rungs fire (the board and the bulletin count them) but issue nothing more, and say why
    assert [level for level, _ in fired(clock)] == [0, 0, 1, 2, 3, 4]
    assert list(SupervisionOrder.objects.filter(clock=clock)) == [order]
    assert list(Interview.objects.filter(clock=clock)) == [interview]
    level_3 = Escalation.objects.get(clock=clock, level=3)
    level_4 = Escalation.objects.get(clock=clock, level=4)
    assert level_3.note == f"Supervision order {order.number} about this task is still open: no second order was issued."
    assert level_4.note == "An interview about this task is under way: no second one was proposed."
    assert level_3.told == [] and level_4.told == []
    assert Notification.objects.filter(key="interview_proposed", link=f"/tasks/{clock.task_id}/").count() == proposed


def test_two_order_rungs_and_two_interview_rungs_due_in_one_batch_issue_one_each(org, clock):
    # Given a ladder with a second order rung (7 days overdue) and a second interview rung (12)
    from workflow.engine.models import EscalationStep, Trigger

    EscalationStep.objects.create(level=5, trigger=Trigger.OVERDUE, amount=7, action=Action.SUPERVISION_ORDER)
    EscalationStep.objects.create(level=6, trigger=Trigger.OVERDUE, amount=12, action=Action.PROPOSE_INTERVIEW)

    # When the sweep comes back after a long pause, every rung due at once
    with time_machine.travel(local(D(2026, 11, 16)), tick=False):
        fired_now = escalation.escalate_batch([clock.pk])

    assert sorted(e.level for e in fired_now) == [0, 0, 1, 2, 3, 4, 5, 6]
    assert SupervisionOrder.objects.filter(clock=clock).count() == 1
    assert Interview.objects.filter(clock=clock).count() == 1
    notes = dict(Escalation.objects.filter(clock=clock, level__in=[5, 6]).values_list("level", "note"))
    assert notes == {
        5: "An earlier rung of this sweep issued a supervision order about this task: no second order was issued.",
        6: "An interview about this task is under way: no second one was proposed.",
    }
