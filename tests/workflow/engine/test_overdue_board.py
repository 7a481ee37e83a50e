"""The overdue board at scale: filtered and sorted in the database as the per-row count of
working days would, a page at a time on the page and in the API, counted over every row, and
exported whole."""

import datetime
import io
import re

import pytest
import time_machine
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient
from viewflow.workflow.models import Task

from cases.models import PreworkItem, Stage, Unit
from tests.cases.factories import PreworkItemFactory, set_stage
from tests.workflow.factories import fired, task_copies
from workflow.coordination import launch
from workflow.coordination.flows import PreworkFlow
from workflow.engine import pages as engine_pages
from workflow.engine import selectors
from workflow.engine.pages import BOARD_PAGE_SIZE

D = datetime.date
HOUR = datetime.timedelta(hours=1)


def local(day, hour=0, minute=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


START = local(D(2026, 9, 1), 10)
NOW = local(D(2026, 10, 16), 9)


@pytest.fixture
def approval(org):
    """The park's approval of a pre-work item of ``org.project``: the template of the copies."""
    set_stage(org.project, Stage.PREWORK)
    item = PreworkItemFactory(project=org.project, approving_unit=org.park, statutory_days=5, title="用地预审")
    with time_machine.travel(START, tick=False):
        launch.start_prework_flow(PreworkItem.objects.select_related("project").get(pk=item.pk))
    return Task.objects.select_related("clock", "process").get(flow_task=PreworkFlow.approve)


@pytest.fixture
def many(org, approval):
    """120 more overdue tasks, due an hour apart from 10 September on; 30 at level 1, 10 at level 2,
    and every fourth the department's instead of the park's."""
    dues = [local(D(2026, 9, 10)) + n * 7 * HOUR for n in range(120)]
    park = task_copies(approval, [due for n, due in enumerate(dues) if n % 4], started_at=START)
    department = task_copies(approval, dues[0::4], started_at=START, unit_id=org.department.pk)
    fired(park[:30], 1, NOW)
    fired(park[30:40], 2, NOW)
    return park + department


def unit_rank(unit_id):
    """Where the database's collation puts a unit's name among the units'."""
    return list(Unit.objects.order_by("name").values_list("pk", flat=True)).index(unit_id)


def board(user, **filters):
    with time_machine.travel(NOW, tick=False):
        return list(selectors.overdue_board(user, now=NOW, **filters))


def days_overdue(clocks):
    return [clock.due.overdue_days for clock in selectors.with_due_states(clocks, NOW)]


def test_at_least_n_working_days_overdue_in_the_database_is_the_per_row_count_across_national_day(org, approval):
    # Given deadlines every five hours from before the Mid-autumn holiday to after the make-up
    # Saturday 10 October, the ends of working days and the midnights among them
    dues = [local(D(2026, 9, 22)) + n * 5 * HOUR for n in range(24 * 25 // 5)]
    task_copies(approval, dues, started_at=START)
    for now in (local(D(2026, 10, 10), 9), local(D(2026, 10, 12), 10), local(D(2026, 10, 16))):
        every = selectors.with_due_states(selectors.overdue_board(org.supervisor.user, now=now), now)
        for days in range(1, 9):
            # when the board keeps those at least ``days`` working days overdue
            kept = {clock.pk for clock in selectors.overdue_board(org.supervisor.user, min_days=days, now=now)}
            # then it keeps exactly those whose own count says so
            assert kept == {clock.pk for clock in every if clock.due.overdue_days >= days}, (now, days)
            assert kept, (now, days)


@pytest.mark.parametrize(
    ("order", "key"),
    [
        ("-overdue", lambda clock, days: (-days, clock.due_at, clock.pk)),
        ("overdue", lambda clock, days: (days, -clock.due_at.timestamp(), -clock.pk)),
        ("due", lambda clock, days: (clock.due_at, clock.pk)),
        ("-due", lambda clock, days: (-clock.due_at.timestamp(), -clock.pk)),
        ("unit", lambda clock, days: (unit_rank(clock.unit_id), clock.pk)),
        ("-level", lambda clock, days: (-(clock.level if clock.level is not None else -1), -clock.pk)),
        ("level", lambda clock, days: (clock.level if clock.level is not None else -1, clock.pk)),
    ],
)
def test_the_database_sorts_as_the_rows_read(org, many, order, key):
    # when the board is sorted in SQL
    rows = board(org.supervisor.user, order=order)
    # then the rows come as their own days overdue, deadline, unit and level put them
    expected = sorted(zip(rows, days_overdue(rows), strict=True), key=lambda pair: key(*pair))
    assert [clock.pk for clock in rows] == [clock.pk for clock, _days in expected]


def test_the_level_filter_and_the_counts_per_level_are_of_the_whole_set(org, many):
    counts = selectors.overdue_level_counts(selectors.overdue_board(org.supervisor.user, now=NOW))
    assert counts == {None: 81, 1: 30, 2: 10}
    assert len(board(org.supervisor.user, level="none")) == 81
    assert {clock.level for clock in board(org.supervisor.user, level="2")} == {2}


def login(client, person):
    client.force_login(person.user)
    return client


def clock_ids(response):
    return [int(pk) for pk in re.findall(r'data-clock="(\d+)"', response.content.decode())]


def test_a_page_of_the_board_shows_a_page_of_rows_and_the_next_page_the_next_ones(client, org, many):
    login(client, org.supervisor)
    in_order = [clock.pk for clock in board(org.supervisor.user, order="due", unit=org.park)]
    assert len(in_order) == 91  # the approval and 90 copies: more than a page
    with time_machine.travel(NOW, tick=False):
        first = client.get(f"/workflow/overdue/?order=due&unit={org.park.pk}")
        second = client.get(f"/workflow/overdue/?order=due&unit={org.park.pk}&page=2")
        last = client.get(f"/workflow/overdue/?order=due&unit={org.park.pk}&page=3")

    assert clock_ids(first) == in_order[:BOARD_PAGE_SIZE]
    assert clock_ids(second) == in_order[BOARD_PAGE_SIZE:]
    assert last.context["page"].number == 2  # past the end: the last page
    assert second.context["total"] == 91
    assert "showing 51–91 of 91" in second.content.decode()
    # the links to other pages keep the filters and the order
    assert f'href="?order=due&amp;unit={org.park.pk}&amp;page=2"' in first.content.decode()
    assert f'href="?order=due&amp;unit={org.park.pk}&amp;page=1"' in second.content.decode()
    # and the export takes the filters, not the page
    assert f"export.xlsx?order=due&amp;unit={org.park.pk}" in second.content.decode()


def test_the_groups_are_of_the_page_and_the_counts_of_every_filtered_row(client, org, many):
    login(client, org.supervisor)
    with time_machine.travel(NOW, tick=False):
        page = client.get("/workflow/overdue/?group=unit&order=due&page=2")

    groups = dict((name, len(rows)) for name, rows in page.context["groups"])
    assert sum(groups.values()) == BOARD_PAGE_SIZE and set(groups) == {"高新区", "自然资源局"}
    levels = {str(label): n for label, n in page.context["level_counts"]}
    assert levels["not escalated yet"] == 81 and levels["1 · unit head told"] == 30 and levels["2 · leader told"] == 10
    assert page.context["total"] == 121
    assert "of every overdue task the filters leave" in page.content.decode()


def test_the_api_pages_the_board_with_its_filters_and_order(org, many):
    api = APIClient()
    api.force_login(org.supervisor.user)
    in_order = [clock.task_id for clock in board(org.supervisor.user, order="-level")]
    with time_machine.travel(NOW, tick=False):
        first = api.get("/api/tasks/overdue/?order=-level").json()
        second = api.get(first["next"]).json()
        third = api.get(second["next"]).json()
        refused = api.get("/api/tasks/overdue/?order=sideways")

    assert first["count"] == 121 and first["previous"] is None
    assert "order=-level" in first["next"] and "page=2" in first["next"]
    assert [row["task"] for row in first["results"] + second["results"] + third["results"]] == in_order
    assert third["next"] is None
    assert [row["level"] for row in first["results"][:10]] == [2] * 10
    assert refused.status_code == 400 and "order" in refused.json()


def test_the_export_holds_every_filtered_row_with_its_days_overdue(client, org, many):
    login(client, org.supervisor)
    rows = board(org.supervisor.user, unit=org.park)
    with time_machine.travel(NOW, tick=False):
        export = client.get(f"/workflow/overdue/export.xlsx?unit={org.park.pk}&page=2")

    sheet = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert len(sheet) == 1 + len(rows) == 92
    assert [row[5] for row in sheet[1:]] == days_overdue(rows)
    assert {row[2] for row in sheet[1:]} == {"高新区"}
    assert sheet[1][0] == rows[0].display_title and sheet[1][1] == f"{org.project.code} {org.project.name}"


def test_a_filter_of_more_working_days_than_ten_years_is_refused_with_its_field(org, many):
    api = APIClient()
    api.force_login(org.supervisor.user)
    refused = api.get("/api/tasks/overdue/?min_days=1000000")
    assert refused.status_code == 400 and "min_days" in refused.json()
    assert api.get("/api/tasks/overdue/?min_days=2500").json()["count"] == 0


def test_an_export_larger_than_a_sheet_says_where_it_stopped(client, org, many, monkeypatch):
    # Given a sheet that holds ten rows (an Excel sheet holds a million)
    monkeypatch.setattr(engine_pages, "EXPORT_MAX_ROWS", 10)
    login(client, org.supervisor)
    with time_machine.travel(NOW, tick=False):
        export = client.get("/workflow/overdue/export.xlsx?order=due")

    sheet = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert [row[0] for row in sheet[1:11]] == [clock.display_title for clock in board(org.supervisor.user, order="due")[:10]]
    assert sheet[11][0] == "Only the first 10 rows fit in a sheet; filter the board to export the rest."
    assert len(sheet) == 12


def test_the_export_writes_a_unit_named_like_a_formula_as_text(client, org, many):
    name = '=HYPERLINK("http://evil.example","x")'
    Unit.objects.filter(pk=org.park.pk).update(name=name)
    login(client, org.supervisor)
    with time_machine.travel(NOW, tick=False):
        export = client.get(f"/workflow/overdue/export.xlsx?unit={org.park.pk}")

    sheet = load_workbook(io.BytesIO(export.content)).active
    units = [row[2] for row in sheet.iter_rows(min_row=2)]
    assert units and {cell.value for cell in units} == {name}
    assert {cell.data_type for cell in units} == {"s"}
