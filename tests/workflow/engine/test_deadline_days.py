"""Deadlines as the day they end, on every page: a deadline is stored as the midnight that begins
the next day, and the lists, the task pages and the orders write the day it ends."""

import datetime

import pytest
import time_machine
from django.utils import timezone, translation
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from cases.models import PreworkItem, Stage
from tests.cases.factories import PreworkItemFactory, set_stage
from workflow.coordination import launch
from workflow.coordination.flows import PreworkFlow
from workflow.engine import calendar
from workflow.engine.models import TaskClock

D = datetime.date


def local(day, hour=0, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


@pytest.fixture
def approval(org):
    """The park's approval started Wednesday 30 September 2026, 10:00, allowed 5 working days: due
    at the end of Tuesday 13 October (after the National Day week and the make-up Saturday),
    stored as Wednesday 14 October 00:00."""
    set_stage(org.project, Stage.PREWORK)
    item = PreworkItemFactory(project=org.project, approving_unit=org.park, statutory_days=5)
    with time_machine.travel(local(D(2026, 9, 30), 10), tick=False):
        launch.start_prework_flow(PreworkItem.objects.select_related("project").get(pk=item.pk))
    task = Task.objects.select_related("clock").get(flow_task=PreworkFlow.approve)
    assert timezone.localtime(task.clock.due_at) == local(D(2026, 10, 14))
    return task


def test_a_deadline_is_labelled_with_the_day_it_ends():
    assert calendar.deadline_label(local(D(2026, 10, 14))) == "2026-10-13 (end of day)"
    assert calendar.deadline_label(local(D(2026, 10, 14), 0, 1)) == "2026-10-14 (end of day)"
    assert calendar.deadline_day_text(local(D(2026, 10, 14))) == "2026-10-13"
    assert calendar.deadline_label(None) == "—"


def test_the_queue_shows_the_day_the_task_is_due_beside_its_badge(client, org, approval):
    client.force_login(org.head.user)
    with time_machine.travel(local(D(2026, 10, 13), 9), tick=False):
        queue = client.get("/workflow/queue/").content.decode()
    assert '<time class="kp-due-day" datetime="2026-10-13">2026-10-13</time>' in queue
    assert "due soon" in queue and "2026-10-14" not in queue


def test_the_inbox_shows_the_day_the_task_is_due_in_the_readers_language(client, org, approval):
    Task.objects.filter(pk=approval.pk).update(owner=org.head.user, status=STATUS.ASSIGNED)
    client.force_login(org.head.user)
    client.cookies["django_language"] = "zh-hans"
    with time_machine.travel(local(D(2026, 10, 13), 9), tick=False):
        inbox = client.get("/workflow/inbox/").content.decode()
    assert '<time class="kp-due-day" datetime="2026-10-13">2026-10-13</time>' in inbox
    with translation.override("zh-hans"):
        assert translation.gettext("due soon") in inbox


def test_the_deadline_page_gives_the_day_the_task_ends_not_the_midnight_after(client, org, approval):
    client.force_login(org.head.user)
    with time_machine.travel(local(D(2026, 10, 12), 9), tick=False):
        page = client.get(f"/workflow/tasks/{approval.pk}/").content.decode()
    assert '<time datetime="2026-10-13" data-deadline>2026-10-13 (end of day)</time>' in page
    assert "2026-10-14 00:00" not in page


def test_the_step_page_gives_the_day_the_task_ends(client, org, approval):
    client.force_login(org.head.user)
    with time_machine.travel(local(D(2026, 10, 12), 9), tick=False):
        claim = client.post(approval.flow_task.reverse("assign", args=[approval.process_id, approval.pk]))
        assert claim.status_code == 302
        page = client.get(approval.flow_task.reverse("execute", args=[approval.process_id, approval.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "2026-10-13 (end of day)" in body and "2026-10-14 00:00" not in body


def test_an_order_page_gives_the_day_its_answer_is_due(client, org, approval, django_capture_on_commit_callbacks):
    clock = TaskClock.objects.get(task=approval)
    with time_machine.travel(local(D(2026, 10, 20), 9), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            order = launch.issue_order(
                project=org.project, unit=org.park, subject="用地预审超期", actor=org.supervisor.user, clock=clock
            )
        client.force_login(org.supervisor.user)
        page = client.get(f"/workflow/orders/{order.pk}/").content.decode()
    # 5 working days from Tuesday 20 October: to the end of Tuesday 27 October
    assert timezone.localtime(order.respond_by) == local(D(2026, 10, 28))
    assert "2026-10-27 (end of day)" in page and "2026-10-28" not in page
