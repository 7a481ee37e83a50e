"""Stalled dockings become follow-up tasks for the case's lead unit: counted in working days of the
Chinese calendar (holidays, make-up days and the admin's own closures), per state as the admin
sets it; swept set-based and idempotently; the task sits in the lead unit's queue with a clock
and escalates like any task; completing it records a "followed up" step, so the stall clock
starts again; a real step of the docking ends the follow-up."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient
from viewflow.workflow.status import PROCESS, STATUS

from cases.financing import services as financing_services
from cases.financing.models import Docking, DockingStallRule
from cases.models import AuditEvent, Stage
from tests.cases.factories import DockingFactory, set_stage, set_state
from tests.cases.financing.factories import (
    FinancingNeedFactory,
    InstitutionFactory,
    publish_directly,
)
from workflow.coordination import followups, launch, tasks
from workflow.coordination.flows import DockingFollowUpFlow
from workflow.coordination.models import DockingProcess
from workflow.engine import ladder as escalation
from workflow.engine import selectors
from workflow.engine.calendar import WorkingCalendar
from workflow.engine.models import Holiday, TaskClock, TaskKind

D = datetime.date


def at(day, hour=9, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


# Tuesday 29 September 2026; the National Day holiday runs from 1 to 7 October, the 8th and 9th
# work, and Saturday the 10th is a make-up working day.
LAST_STEP = at(D(2026, 9, 29), 10)


@pytest.fixture
def need(org):
    project = set_stage(org.project, Stage.DOCKING)
    return publish_directly(FinancingNeedFactory(project=project, amount=Decimal("30000000")))


@pytest.fixture
def three_days(db):
    DockingStallRule.objects.filter(state="contacted").update(working_days=3)


def docking_in(org, need, state="contacted", last_step_at=LAST_STEP, institution=None):
    docking = DockingFactory(
        project=need.project, need=need, institution=institution or org.bank_unit, last_step_at=last_step_at
    )
    return set_state(docking, state)


def stalled_on(moment):
    with time_machine.travel(moment, tick=False):
        return list(followups.stalled_dockings())


def sweep(moment, capture):
    with time_machine.travel(moment, tick=False), capture(execute=True):
        return tasks.sweep_stalled()


def follow_ups(docking):
    return DockingProcess.objects.filter(docking=docking).order_by("pk")


def open_task(process):
    return process.task_set.filter(flow_task=DockingFollowUpFlow.follow_up, status__in=[STATUS.NEW, STATUS.ASSIGNED]).get()


# When a docking is stalled


STALL_DAYS = {
    # the day after: one working day
    "the next day": (at(D(2026, 9, 30), 18), False),
    # Friday 2 October: Monday-to-Friday counting would say three, but 1 and 2 October are holidays
    "in the holiday": (at(D(2026, 10, 2), 12), False),
    "on the first working day after the holiday": (at(D(2026, 10, 8), 23, 59), False),
    "on the third working day": (at(D(2026, 10, 9), 0, 1), True),
}


@pytest.mark.parametrize("case", STALL_DAYS)
def test_a_contacted_docking_is_stalled_after_three_working_days_without_a_step(org, need, three_days, case):
    moment, stalled = STALL_DAYS[case]
    docking = docking_in(org, need)

    assert (docking.pk in stalled_on(moment)) is stalled


def test_a_closure_entered_in_the_admin_pushes_the_stall_back_a_working_day(org, need, three_days):
    docking = docking_in(org, need)
    Holiday.objects.create(date=D(2026, 10, 9), is_working_day=False, name="城市纪念日")

    assert docking.pk not in stalled_on(at(D(2026, 10, 9), 12))
    # Saturday 10 October is a make-up working day: the third.
    assert docking.pk in stalled_on(at(D(2026, 10, 10), 12))


def test_each_state_counts_its_own_working_days_as_the_admin_sets_them(org, need):
    contacted = docking_in(org, need, "contacted")
    signed = docking_in(org, need, "intent_signed", institution=InstitutionFactory())
    DockingStallRule.objects.filter(state="intent_signed").update(working_days=2)
    moment = at(D(2026, 10, 9), 12)  # three working days after the last step

    assert stalled_on(moment) == [signed.pk]
    DockingStallRule.objects.filter(state="intent_signed").delete()  # no rule: never stalled
    assert stalled_on(at(D(2026, 12, 31))) == [contacted.pk]


@pytest.mark.parametrize("state", ["disbursed", "declined"])
def test_a_closed_docking_is_never_stalled(org, need, state):
    docking_in(org, need, state)

    assert stalled_on(at(D(2026, 12, 31))) == []


@pytest.mark.parametrize("stage", [Stage.SUSPENDED, Stage.WITHDRAWN, Stage.COMPLETED])
def test_a_docking_of_a_case_that_is_not_active_is_not_followed_up(org, need, stage):
    docking_in(org, need)
    set_stage(need.project, stage)

    assert stalled_on(at(D(2026, 12, 31))) == []


def test_a_docking_without_a_last_step_counts_from_its_creation(org, need, three_days):
    with time_machine.travel(LAST_STEP, tick=False):
        docking = docking_in(org, need, last_step_at=None)

    assert docking.pk not in stalled_on(at(D(2026, 10, 8), 12))
    assert docking.pk in stalled_on(at(D(2026, 10, 9), 12))


# The sweep


def test_the_sweep_starts_one_follow_up_in_the_lead_units_queue_with_a_clock(
    org, need, three_days, django_capture_on_commit_callbacks
):
    docking = docking_in(org, need)

    result = sweep(at(D(2026, 10, 9), 7, 30), django_capture_on_commit_callbacks)

    assert result == {"stalled": 1, "batches": 1}
    [process] = follow_ups(docking)
    assert (process.reason, process.project, process.docking) == ("stalled", need.project, docking)
    task = open_task(process)
    assert [t.pk for t in selectors.queue(org.staff.user)] == [task.pk]
    assert selectors.queue(org.dept_head.user).count() == 0
    clock = TaskClock.objects.get(task=task)
    assert (clock.kind, clock.unit, clock.project, clock.working_days) == (
        TaskKind.DOCKING_FOLLOW_UP, org.park, need.project, followups.FOLLOW_UP_DAYS
    )
    # Five working days from Friday 9 October: 10 (make-up), 12, 13, 14, 15; due at the end of the 15th.
    assert clock.due_at == at(D(2026, 10, 16), 0)
    assert clock.next_fire_at is not None  # on the escalation ladder like any task


def test_sweeping_again_and_a_batch_delivered_twice_start_nothing_twice(
    org, need, three_days, django_capture_on_commit_callbacks
):
    docking = docking_in(org, need)
    moment = at(D(2026, 10, 9), 7, 30)

    sweep(moment, django_capture_on_commit_callbacks)
    again = sweep(moment, django_capture_on_commit_callbacks)
    with time_machine.travel(moment, tick=False):
        redelivered = launch.start_follow_ups([docking.pk], followups.STALLED)

    assert again == {"stalled": 0, "batches": 0} and redelivered == 0
    assert follow_ups(docking).count() == 1


def test_a_batch_leaves_alone_a_docking_that_moved_since_the_sweep(org, need, three_days):
    docking = docking_in(org, need)
    with time_machine.travel(at(D(2026, 10, 9), 7), tick=False):
        ids = list(followups.stalled_dockings())
        financing_services.docking_transition(docking=Docking.objects.get(pk=docking.pk), transition="start_due_diligence", actor=org.bank.user)
        started = launch.start_follow_ups(ids, followups.STALLED)

    assert ids == [docking.pk] and started == 0


def test_the_sweep_hands_out_batches_of_two_hundred(org, need, three_days, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(tasks, "BATCH", 2)
    for _ in range(5):
        docking_in(org, need, institution=InstitutionFactory())

    result = sweep(at(D(2026, 10, 9), 7, 30), django_capture_on_commit_callbacks)

    assert result == {"stalled": 5, "batches": 3}
    assert DockingProcess.objects.count() == 5


def _sweep_queries(moment):
    with time_machine.travel(moment, tick=False), CaptureQueriesContext(connection) as captured:
        tasks.sweep_stalled(enqueue=True)
    return len(captured)


def test_finding_the_stalled_dockings_costs_the_same_queries_for_three_and_thirty(org, need, three_days):
    moment = at(D(2026, 10, 9), 7, 30)
    for _ in range(3):
        docking_in(org, need, institution=InstitutionFactory())
    WorkingCalendar.load()
    small = _sweep_queries(moment)
    for _ in range(27):
        docking_in(org, need, institution=InstitutionFactory())

    assert _sweep_queries(moment) == small


def test_starting_a_batch_costs_the_same_queries_for_each_further_docking(org, need, three_days):
    batches = [[docking_in(org, need, institution=InstitutionFactory()).pk for _ in range(size)] for size in (2, 4, 6)]
    counts = []
    with time_machine.travel(at(D(2026, 10, 9), 7, 30), tick=False):
        for batch in batches:
            with CaptureQueriesContext(connection) as captured:
                assert launch.start_follow_ups(batch, followups.STALLED) == len(batch)
            counts.append(len(captured))

    assert counts[2] - counts[1] == counts[1] - counts[0]


def test_the_daily_beat_task_is_scheduled_and_starts_the_follow_ups(
    org, need, three_days, django_capture_on_commit_callbacks
):
    docking = docking_in(org, need)
    entry = settings.CELERY_BEAT_SCHEDULE["workflow-stalled-dockings"]

    with time_machine.travel(at(D(2026, 10, 9), 7, 30), tick=False), django_capture_on_commit_callbacks(execute=True):
        found = tasks.sweep_stalled_dockings.delay().get()

    assert entry["task"] == "workflow.tasks.sweep_stalled_dockings" and entry["schedule"].hour == {7}
    assert found == 1 and follow_ups(docking).count() == 1


# The follow-up task


@pytest.fixture
def followed(org, need, three_days, django_capture_on_commit_callbacks):
    docking = docking_in(org, need)
    sweep(at(D(2026, 10, 9), 7, 30), django_capture_on_commit_callbacks)
    return docking


def test_completing_the_follow_up_records_what_was_done_and_restarts_the_stall_clock(
    org, followed, django_capture_on_commit_callbacks
):
    process = follow_ups(followed).get()
    task = open_task(process)
    done_at = at(D(2026, 10, 12), 15)

    with time_machine.travel(done_at, tick=False):
        followups.follow_up_done(task=task, user=org.staff.user, report="已电话联系银行，下周上会")

    stored = Docking.objects.get(pk=followed.pk)
    assert (stored.state, stored.last_step_at) == ("contacted", done_at)
    event = AuditEvent.objects.filter(object_id=str(followed.pk), transition="follow_up").get()
    assert (event.reason, event.actor, event.from_state, event.to_state) == (
        "已电话联系银行，下周上会", org.staff.user, "contacted", "contacted"
    )
    process.refresh_from_db()
    assert process.finished is not None and TaskClock.objects.get(task=task).closed_at is not None
    # Not stalled again until three more working days have passed: 13, 14 and 15 October.
    assert sweep(at(D(2026, 10, 14), 23), django_capture_on_commit_callbacks)["stalled"] == 0
    assert sweep(at(D(2026, 10, 15), 7), django_capture_on_commit_callbacks)["stalled"] == 1
    assert follow_ups(followed).count() == 2


def test_the_follow_up_is_done_on_its_task_page_by_the_lead_unit(org, followed, client):
    task = open_task(follow_ups(followed).get())
    url = f"/workflow/flows/dockingfollowup/{task.process_id}/follow_up/{task.pk}/"
    client.force_login(org.head.user)

    assert client.post(f"{url}assign/").status_code == 302
    page = client.get(f"{url}execute/")
    assert page.status_code == 200 and org.bank_unit.name in page.content.decode()
    assert client.post(f"{url}execute/", {"report": ""}).status_code == 200  # what was done is required
    done = client.post(f"{url}execute/", {"report": "已约银行尽调"})

    assert done.status_code == 302
    assert AuditEvent.objects.filter(object_id=str(followed.pk), transition="follow_up", reason="已约银行尽调").exists()


def test_the_follow_up_is_done_through_the_task_api(org, followed):
    task = open_task(follow_ups(followed).get())
    client = APIClient()
    client.force_authenticate(org.staff.user)

    done = client.post(f"/api/tasks/{task.pk}/complete/", {"report": "已协调"}, format="json")

    assert done.status_code == 200, done.content
    assert AuditEvent.objects.filter(object_id=str(followed.pk), transition="follow_up").exists()


def test_another_unit_may_not_do_the_follow_up(org, followed):
    task = open_task(follow_ups(followed).get())

    with pytest.raises(PermissionDenied):
        followups.follow_up_done(task=task, user=org.dept_head.user, report="不是我们的")

    assert not AuditEvent.objects.filter(transition="follow_up").exists()


def test_an_unanswered_follow_up_escalates_to_the_unit_head(org, followed):
    task = open_task(follow_ups(followed).get())
    clock = TaskClock.objects.get(task=task)

    with time_machine.travel(at(D(2026, 10, 19), 9), tick=False):  # one working day overdue
        escalation.escalate_batch([clock.pk])

    assert clock.escalations.filter(level=1).exists()


def test_a_step_of_the_docking_ends_its_open_follow_up_and_stops_the_clock(org, followed):
    process = follow_ups(followed).get()
    task = open_task(process)

    financing_services.docking_transition(
        docking=Docking.objects.get(pk=followed.pk), transition="start_due_diligence", actor=org.bank.user
    )

    process.refresh_from_db()
    assert process.status == PROCESS.CANCELED
    assert TaskClock.objects.get(task=task).closed_at is not None
    assert selectors.queue(org.staff.user).count() == 0


# Two batches at once (PostgreSQL: SQLite has no row locks)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_a_batch_at_once_start_one_follow_up_per_docking():
    import threading

    from django.db import connections

    from tests.cases.factories import OrgFactory

    org = OrgFactory.create()
    for state in ("recommended", "contacted", "due_diligence", "intent_signed", "credit_approved"):
        DockingStallRule.objects.update_or_create(state=state, defaults={"working_days": 3})
    need = publish_directly(FinancingNeedFactory(project=set_stage(org.project, Stage.DOCKING)))
    ids = [docking_in(org, need, institution=InstitutionFactory()).pk for _ in range(20)]
    barrier = threading.Barrier(2)
    started, errors = [], []

    def deliver():
        try:
            barrier.wait()
            started.append(launch.start_follow_ups(ids, followups.STALLED, now=at(D(2026, 10, 9), 7, 30)))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(started) == [0, 20]
    assert DockingProcess.objects.count() == 20
    assert sorted(DockingProcess.objects.values_list("docking_id", flat=True)) == ids
