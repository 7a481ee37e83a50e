"""The inbox, the queue and the overdue board cost the same number of queries at 100 and 5,000 tasks.

The tasks are copies of one real pre-work approval task (same flow, step and permission),
bulk-inserted with their clocks: half claimed by the park's head (his inbox), half waiting
in the park's queue, every one overdue, a third of them with a rung of the ladder fired.
"""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient
from viewflow.workflow.models import Task

from cases.models import PreworkItem, Stage
from tests.cases.factories import PreworkItemFactory, set_stage
from tests.workflow.factories import fired, task_copies
from workflow.coordination import launch
from workflow.coordination.flows import PreworkFlow

START = timezone.make_aware(datetime.datetime(2026, 9, 1, 10))
NOW = timezone.make_aware(datetime.datetime(2026, 11, 20, 10))

# Queries per request at every size, the session's and the reader's included. Ten tasks fill
# less than a page, so a query per row would show as a difference between the sizes. The board
# counts its levels and total in one aggregate query besides its page of rows.
EXPECTED = {
    "inbox_page": 16,
    "queue_page": 16,
    "overdue_board": 19,
    "overdue_export": 8,
    "api_inbox": 11,
    "api_queue": 11,
    "api_overdue": 9,
}
URLS = {
    "inbox_page": "/workflow/inbox/",
    "queue_page": "/workflow/queue/",
    "overdue_board": "/workflow/overdue/",
    "overdue_export": "/workflow/overdue/export.xlsx",
    "api_inbox": "/api/tasks/",
    "api_queue": "/api/tasks/queue/",
    "api_overdue": "/api/tasks/overdue/",
}


def copy_tasks(template, count, owner):
    """``count`` copies of ``template`` with their clocks, alternately claimed by ``owner`` and
    queued, due over forty days; a third of them with the ladder's level 1 fired."""
    clocks = task_copies(
        template, [START + datetime.timedelta(days=7 + n % 40) for n in range(count)], started_at=START, owner=owner
    )
    fired(clocks[::3], 1, NOW)


@pytest.fixture
def approval(org):
    set_stage(org.project, Stage.PREWORK)
    item = PreworkItemFactory(project=org.project, approving_unit=org.park, statutory_days=5)
    with time_machine.travel(START, tick=False):
        launch.start_prework_flow(PreworkItem.objects.select_related("project").get(pk=item.pk))
    return Task.objects.select_related("clock", "process").get(flow_task=PreworkFlow.approve)


def count_queries(client, url):
    client.get(url)  # warm the caches a running server has (content types, session)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries), response


@pytest.mark.parametrize("tasks", [10, 100, 5000])
def test_task_lists_cost_a_constant_number_of_queries(org, approval, tasks):
    copy_tasks(approval, tasks - 1, org.head.user)
    page_client, api_client = _clients(org.head)

    counts, responses = {}, {}
    with time_machine.travel(NOW, tick=False):
        for name, url in URLS.items():
            client = api_client if name.startswith("api_") else page_client
            counts[name], responses[name] = count_queries(client, url)

    assert counts == EXPECTED
    # The lists are full: the API pages and the board hold their page size, the counts every overdue task.
    assert responses["api_overdue"].json()["count"] == tasks
    claimed = (tasks - 1) // 2  # every other copy; the original waits in the queue
    assert responses["api_inbox"].json()["count"] == claimed
    assert responses["api_queue"].json()["count"] == tasks - claimed
    assert len(responses["api_overdue"].json()["results"]) == min(tasks, 50)
    assert responses["overdue_board"].context["total"] == tasks
    assert len(responses["overdue_board"].context["rows"]) == min(tasks, 50)
    assert sum(n for _label, n in responses["overdue_board"].context["level_counts"]) == tasks
    # and no filter offers a drop-down of every process with a task in the list
    for name in ("inbox_page", "queue_page"):
        assert b'name="process"' not in responses[name].content, name


def _clients(person):
    page_client = APIClient()
    page_client.force_login(person.user)
    api_client = APIClient()
    api_client.force_login(person.user)
    return page_client, api_client
