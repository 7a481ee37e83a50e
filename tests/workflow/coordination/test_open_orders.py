"""One supervision order open per task: the overdue board offers an order only for a task without
one open (read with its rows, not a query per row), and a second order is refused."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from viewflow.workflow.models import Process, Task

from cases.models import PreworkItem, Stage
from tests.cases.factories import PreworkItemFactory, set_stage
from tests.workflow.factories import task_copies
from workflow.coordination import launch, orders
from workflow.coordination.flows import PreworkFlow, SupervisionFlow
from workflow.coordination.models import SupervisionOrder
from workflow.engine import services
from workflow.engine.models import TaskClock

D = datetime.date


def local(day, hour=0, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


START = local(D(2026, 9, 1), 10)
NOW = local(D(2026, 10, 16), 9)


@pytest.fixture
def approval(org):
    """The park's approval of a pre-work item, overdue at ``NOW``."""
    set_stage(org.project, Stage.PREWORK)
    item = PreworkItemFactory(project=org.project, approving_unit=org.park, statutory_days=5, title="用地预审")
    with time_machine.travel(START, tick=False):
        launch.start_prework_flow(PreworkItem.objects.select_related("project").get(pk=item.pk))
    return Task.objects.select_related("clock", "process").get(flow_task=PreworkFlow.approve)


def issue(org, clock, **kwargs):
    with time_machine.travel(NOW, tick=False):
        return launch.issue_order(
            project=clock.project, unit=clock.unit, subject="用地预审超期", actor=org.supervisor.user, clock=clock, **kwargs
        )


def board_rows(client):
    with time_machine.travel(NOW, tick=False):
        response = client.get("/workflow/overdue/")
    assert response.status_code == 200
    return response, response.content.decode()


def row_of(page, clock):
    start = page.index(f'data-clock="{clock.pk}"')
    return page[start : page.index("</tr>", start)]


def test_the_board_offers_an_order_only_for_a_task_without_one_open(client, org, approval):
    # Given two overdue tasks, one with an order open about it
    with_order, without = approval.clock, task_copies(approval, [local(D(2026, 9, 10))], started_at=START)[0]
    order = issue(org, with_order)

    # When a supervisor opens the board
    client.force_login(org.supervisor.user)
    _response, page = board_rows(client)

    # Then only the other is offered an order; the first links to its open order
    assert "Issue a supervision order" not in row_of(page, with_order)
    assert f'href="/workflow/orders/{order.pk}/"' in row_of(page, with_order)
    assert "Supervision order open" in row_of(page, with_order)
    assert "Issue a supervision order" in row_of(page, without)


def test_a_closed_order_lets_the_board_offer_another(client, org, approval):
    order = issue(org, approval.clock)
    SupervisionOrder.objects.filter(pk=order.pk).update(state=SupervisionOrder.State.CLOSED)
    client.force_login(org.supervisor.user)
    _response, page = board_rows(client)
    assert "Issue a supervision order" in row_of(page, approval.clock)


def board_queries(client):
    with time_machine.travel(NOW, tick=False):
        client.get("/workflow/overdue/")  # warm the caches a running server has
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/workflow/overdue/")
    assert response.status_code == 200
    return len(queries), response


def test_the_board_reads_the_open_orders_with_its_rows_at_any_size(client, org, approval):
    client.force_login(org.supervisor.user)
    counts = {}
    for size in (4, 40):
        copies = task_copies(
            approval, [local(D(2026, 9, 10)) + n * datetime.timedelta(hours=1) for n in range(size)], started_at=START
        )
        for clock in copies[::2]:
            issue(org, TaskClock.objects.select_related("project", "unit").get(pk=clock.pk))
        counts[size], response = board_queries(client)
        rows = response.context["rows"]
        assert sum(1 for row in rows if row.open_order) == SupervisionOrder.objects.count()
    assert counts[4] == counts[40]


def test_a_second_order_on_a_task_with_one_open_is_refused_and_nothing_is_written(client, org, approval):
    first = issue(org, approval.clock)
    processes = Process.objects.count()
    client.force_login(org.supervisor.user)
    action = f"/workflow/tasks/{approval.pk}/order/"
    with time_machine.travel(NOW, tick=False):
        form = client.get(action)
        response = client.post(action, {"subject": "再次督办", "unit": org.park.pk})

    assert f"Supervision order {first.number} about this task is still open." in form.content.decode()
    assert response.status_code == 200
    assert (
        f"Supervision order {first.number} about this task is still open: follow it up instead of issuing another."
        in response.content.decode()
    )
    assert list(SupervisionOrder.objects.values_list("pk", flat=True)) == [first.pk]
    assert Process.objects.count() == processes


def test_the_cases_order_page_refuses_a_second_order_on_the_same_task(client, org, approval):
    first = issue(org, approval.clock)
    client.force_login(org.supervisor.user)
    with time_machine.travel(NOW, tick=False):
        response = client.post(
            f"/workflow/projects/{org.project.pk}/order/?clock={approval.clock.pk}",
            {"subject": "再次督办", "unit": org.park.pk, "clock": approval.clock.pk},
        )
    assert response.status_code == 200 and "is still open" in response.content.decode()
    assert list(SupervisionOrder.objects.values_list("pk", flat=True)) == [first.pk]
    # and an order on the case about no task is not held back by it
    with time_machine.travel(NOW, tick=False):
        response = client.post(f"/workflow/projects/{org.project.pk}/order/", {"subject": "整体进度滞后", "unit": org.park.pk})
    assert response.status_code == 302 and SupervisionOrder.objects.count() == 2


def test_an_order_about_a_task_is_reissued_when_its_plan_is_rejected(org, approval, django_capture_on_commit_callbacks):
    # The reissued order replaces the rejected one: it is not a second order on the task.
    with django_capture_on_commit_callbacks(execute=True):
        order = issue(org, approval.clock)
    respond = services.open_task(order.process, SupervisionFlow.respond)
    orders.order_answer(task=respond, user=org.head.user, plan="尽快", fixed_by=timezone.localdate())
    evaluate = services.open_task(order.process, SupervisionFlow.evaluate)
    orders.order_evaluate(task=evaluate, user=org.supervisor.user, accepted=False, evaluation="太笼统")

    again = SupervisionOrder.objects.get(previous=order)
    assert again.clock_id == approval.clock.pk and again.state == SupervisionOrder.State.ISSUED
