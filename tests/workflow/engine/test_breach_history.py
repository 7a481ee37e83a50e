"""The breach history of a task page: each rung of the ladder listed once, with who was told."""

import datetime
import re

import pytest
import time_machine
from django.utils import timezone

from cases.models import PreworkItem, Stage
from tests.cases.factories import PreworkItemFactory, set_stage
from workflow.coordination import launch
from workflow.coordination.flows import PreworkFlow
from workflow.engine import selectors
from workflow.engine import tasks as engine_tasks
from workflow.engine.models import Action, Escalation, TaskClock

D = datetime.date


def local(day, hour=0, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@pytest.fixture
def clock(org):
    """An approval started Wednesday 30 September 2026, 10:00, allowed 5 working days: its 75%
    reminder falls on 12 October, 14:30, its due-day reminder on 13 October, 00:00."""
    set_stage(org.project, Stage.PREWORK)
    item = PreworkItemFactory(project=org.project, approving_unit=org.park, statutory_days=5)
    with time_machine.travel(local(D(2026, 9, 30), 10), tick=False):
        launch.start_prework_flow(PreworkItem.objects.select_related("project").get(pk=item.pk))
    return TaskClock.objects.get(task__flow_task=PreworkFlow.approve)


def sweep_at(moment, django_capture_on_commit_callbacks):
    with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
        engine_tasks.sweep()


def levels_listed(page):
    return re.findall(r'data-level="(\d+)"', page)


def test_the_two_reminders_a_sweep_fires_at_once_are_listed_once_with_who_was_told(
    client, org, clock, django_capture_on_commit_callbacks
):
    # Given a first sweep on 13 October, 09:00: the 75% reminder and the due day's both fire then
    sweep_at(local(D(2026, 10, 13), 9), django_capture_on_commit_callbacks)
    assert Escalation.objects.filter(clock=clock, level=0, action=Action.REMIND_OWNER).count() == 2

    # When the unit's head opens the task's deadline page
    client.force_login(org.head.user)
    with time_machine.travel(local(D(2026, 10, 13), 10), tick=False):
        response = client.get(f"/workflow/tasks/{clock.task_id}/")

    # Then the reminder is one line, naming each person told once
    page = response.content.decode()
    assert levels_listed(page) == ["0"]
    [rung] = response.context["escalations"]
    assert sorted(person["name"] for person in rung.told) == ["head", "staff"]
    assert page.count("2026-10-13 09:00") == 1  # the minute it fired, once


def test_reminders_fired_at_different_moments_are_each_listed(org, clock, django_capture_on_commit_callbacks):
    sweep_at(local(D(2026, 10, 12), 14, 31), django_capture_on_commit_callbacks)  # 75% of the time used
    sweep_at(local(D(2026, 10, 13), 0, 1), django_capture_on_commit_callbacks)  # the due day
    sweep_at(local(D(2026, 10, 14), 0, 1), django_capture_on_commit_callbacks)  # 1 working day overdue

    rungs = selectors.escalation_rungs(clock)

    assert [(rung.level, rung.action) for rung in rungs] == [
        (0, Action.REMIND_OWNER),
        (0, Action.REMIND_OWNER),
        (1, Action.TELL_UNIT_HEAD),
    ]
    assert [person["name"] for person in rungs[2].told] == ["head"]
