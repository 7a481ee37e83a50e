"""The cycle's heavy steps cost the same number of queries at 200 and at 2,000 active cases:
lights, the agenda and the bulletin are set-based, and opening the reports is too (the flows it
hands to celery cost a bounded number a case, see test_reports). On SQLite, whose statements
take at most 999 parameters, Django splits a bulk insert into batches, so there the inserts
are left out of the comparison; on PostgreSQL every statement counts."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.city import build_city
from cases.models import KeyProject, Stage
from cases.models.pipeline import readiness_needs
from workflow.monthly import bulletin, lights, meetings, services
from workflow.monthly.models import Bulletin, LightSnapshot, Meeting, MonthlyReport

AUGUST, SEPTEMBER = datetime.date(2026, 8, 1), datetime.date(2026, 9, 1)


def statements(function):
    with CaptureQueriesContext(connection) as captured:
        function()
    sqls = [query["sql"] for query in captured.captured_queries]
    if connection.vendor == "sqlite":
        sqls = [sql for sql in sqls if not sql.startswith("INSERT")]
    return len(sqls)


def cycle_queries(month):
    return {
        "reports": statements(lambda: services.reports_open(month=month, enqueue=False)),
        "lights": statements(lambda: lights.lights_compute(month=month)),
        "agenda": statements(lambda: meetings.meeting_draft(month=month)),
        "bulletin": statements(lambda: bulletin.bulletin_compute(month=month)),
    }


@pytest.mark.django_db
def test_the_cycle_steps_cost_the_same_queries_at_200_and_2000_cases():
    build_city(2000)
    # The audit trail's content types are cached after their first use: warm them for both runs.
    ContentType.objects.get_for_models(Meeting, Bulletin, MonthlyReport, KeyProject)
    # and the readiness checklist's needs, which the selection guard reads once a minute
    readiness_needs()
    projects = list(KeyProject.objects.order_by("pk").values_list("pk", flat=True))
    KeyProject.objects.filter(pk__in=projects[:200]).update(stage=Stage.CONSTRUCTION)
    KeyProject.objects.filter(pk__in=projects[200:]).update(stage=Stage.RESERVE)
    small = cycle_queries(SEPTEMBER)
    KeyProject.objects.update(stage=Stage.CONSTRUCTION)
    # The month before: no history for any case, as September was for the 200 (two red months
    # in a row would propose interviews, a statement that depends on the data, not its size).
    large = cycle_queries(AUGUST)
    assert MonthlyReport.objects.filter(month=SEPTEMBER).count() == 200
    assert MonthlyReport.objects.filter(month=AUGUST).count() == 2000
    assert LightSnapshot.objects.filter(month=AUGUST).count() == 2000
    assert small == large
