"""The monthly dashboard's figures: investment against plan by month, lights by month, overdue tasks
by unit, the bulletin's ranking, and the cases by industry (strategic emerging first) and cluster."""

import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Sum
from django.utils import timezone
from viewflow.workflow.status import STATUS

from cases.models import AnnualPlan, KeyProject
from cases.selectors import industry_statistics
from workflow.engine.models import TaskClock
from workflow.planning import figures as plan_figures

from .bulletin import CENT, HUNDRED, INVESTMENT_STAGES, bulletin_of, bulletins, grouped, scores_of
from .lights import expected_progress
from .models import (
    Light,
    LightSnapshot,
    MonthlyReport,
)
from .periods import first_of_month, last_day

LIGHT_MONTHS = 12
OVERDUE_UNITS = 15


def investment_by_month(today):
    """This year, month by month, one account of the investment: the plan's expected investment
    to date (the year's published plan, else the annual plans, times the expected progress), the investment accepted monthly reports
    completed in each month, and the investment completed to date.

    The year's completion is the annual plans' (``completed``, the headline). Accepted reports
    add to it; the rest of it was recorded otherwise (with the list's import, or on the case's
    page) and has no month, so it is counted from January (``recorded_otherwise``). The
    cumulative line therefore ends on the headline's figure. Both count the same cases: those
    whose plan counts (``INVESTMENT_STAGES``)."""
    year = today.year
    # The plan is the year's published plan where there is one (``workflow.planning``), as the
    # lights and the bulletin read it; the completion is the cases' annual plans'.
    planned = (
        KeyProject.objects.filter(stage__in=INVESTMENT_STAGES)
        .annotate(planned=plan_figures.planned_investment(year))
        .aggregate(total=Sum("planned"))["total"]
    ) or Decimal("0")
    completed = (
        AnnualPlan.objects.filter(year=year, project__stage__in=INVESTMENT_STAGES)
        .aggregate(total=Sum("completed_investment"))["total"]
    ) or Decimal("0")
    reported = dict(
        MonthlyReport.objects.filter(
            month__gte=datetime.date(year, 1, 1),
            month__lte=first_of_month(today),
            state=MonthlyReport.State.ACCEPTED,
            project__stage__in=INVESTMENT_STAGES,
        )
        .order_by()
        .values("month")
        .annotate(total=Sum("investment_month"))
        .values_list("month", "total")
    )
    recorded_otherwise = completed - sum(reported.values(), Decimal("0"))
    rows, to_date = [], recorded_otherwise
    for number in range(1, today.month + 1):
        month = datetime.date(year, number, 1)
        in_month = reported.get(month) or Decimal("0")
        to_date += in_month
        expected = expected_progress(min(last_day(month), today))
        rows.append(
            {
                "month": month,
                "expected": (planned * expected / HUNDRED).quantize(CENT, ROUND_HALF_UP),
                "completed_in_month": in_month,
                "completed_to_date": to_date,
            }
        )
    return {
        "year": year,
        "planned": planned,
        "completed": completed,
        "completed_share": (completed * HUNDRED / planned).quantize(Decimal("0.1"), ROUND_HALF_UP) if planned else None,
        "recorded_otherwise": recorded_otherwise,
        "expected_progress": expected_progress(today),
        "months": rows,
    }


def lights_by_month(today):
    """The number of cases green, yellow and red in each of the last months with lights."""
    since = first_of_month(today)
    for _step in range(LIGHT_MONTHS - 1):
        since = first_of_month(since - datetime.timedelta(days=1))
    counts = defaultdict(lambda: {Light.GREEN.value: 0, Light.YELLOW.value: 0, Light.RED.value: 0})
    for month, light, n in (
        LightSnapshot.objects.filter(month__gte=since)
        .order_by()
        .values("month", "light")
        .annotate(n=Count("pk"))
        .values_list("month", "light", "n")
    ):
        counts[month][light] = n
    return [{"month": month, **counts[month]} for month in sorted(counts)]


def overdue_by_unit(now):
    """Open overdue tasks per unit, the most first (the first ``OVERDUE_UNITS`` units), and the total."""
    open_overdue = TaskClock.objects.filter(
        closed_at__isnull=True,
        paused_at__isnull=True,
        due_at__lt=now,
        task__status__in=[STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED],
    )
    rows = list(
        open_overdue.order_by()
        .values("unit_id", "unit__name", "unit__short_name")
        .annotate(n=Count("pk"))
        .order_by("-n", "unit__name")[:OVERDUE_UNITS]
    )
    return {
        "units": [
            {"unit": r["unit_id"], "name": r["unit__short_name"] or r["unit__name"], "overdue": r["n"]} for r in rows
        ],
        "total": open_overdue.count(),
    }


def dashboard(user, *, month=None, now=None):
    """The dashboard's figures for ``user``: investment by month, lights over time, the
    ranking of the bulletin of ``month`` (or the newest ``user`` may read) and overdue work
    by unit. City-wide: the bulletin is published to everyone inside government."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    bulletin = bulletin_of(user, month) if month else bulletins(user).first()
    scores = list(scores_of(bulletin)) if bulletin else []
    return {
        "bulletin": bulletin,
        "ranking": grouped(scores),
        "investment": investment_by_month(today),
        "lights": lights_by_month(today),
        "overdue": overdue_by_unit(now),
        "industries": industry_statistics(user, year=today.year),
    }
