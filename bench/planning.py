"""The annual plan's compilation check at scale: ``--projects`` reserve cases (10,000 by default)
spread over the city's units, each proposed for next year, then the secretariat's check
(``workflow.planning.selectors.check``: totals against the targets by unit group and industry)
and the check page's first page of proposals, timed and counted in queries, at the full size and
at a tenth of it: the query counts must be the same.
"""

import datetime
import statistics as stats
import time
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from .city import build_city
from .environment import log, throwaway_database
from .escalation import counting

NAME = "planning"
HELP = "annual plan: the compilation check over many reserve projects with their proposals, in constant queries"
BATCH = 5000
WAN = Decimal("10000")
PAGE = 50  # the check page shows this many proposals a page


def add_arguments(parser):
    parser.add_argument("--projects", type=int, default=10_000, help="reserve projects proposed (default 10000)")
    parser.add_argument("--samples", type=int, default=3, help="runs of the check measured (default 3)")


def _measure(compilation, samples):
    from workflow.planning import selectors

    times, queries = [], 0
    for _n in range(samples):
        with counting() as statements:
            began = time.perf_counter()
            selectors.check(compilation)
            list(selectors.compilation_proposals(compilation)[:PAGE])
            times.append((time.perf_counter() - began) * 1000)
        queries = max(queries, statements.count)
    return round(stats.median(times), 1), queries


def _propose(compilation, projects, year):
    from workflow.planning.models import PlanProposal

    states = [PlanProposal.State.SUBMITTED] * 3 + [PlanProposal.State.ACCEPTED, PlanProposal.State.RETURNED]
    PlanProposal.objects.bulk_create(
        [
            PlanProposal(
                compilation=compilation, project_id=pk, unit_id=unit_id, planned_year=(n % 50 + 1) * 100 * WAN,
                planned_next=(n % 30) * 100 * WAN, planned_after=(n % 20) * 100 * WAN,
                planned_start=datetime.date(year, n % 12 + 1, 1), state=states[n % len(states)],
            )
            for n, (pk, unit_id) in enumerate(projects)
        ],
        batch_size=BATCH,
    )


def run(options):
    if options.projects < 10 or options.samples < 1:
        raise SystemExit("--projects must be at least 10 and --samples at least 1")
    from cases.models import KeyProject, Stage
    from workflow.planning.models import PlanCompilation, PlanTarget

    with throwaway_database():
        log(f"building a city of {options.projects} key projects, all in the reserve pool")
        build_city(options.projects)
        KeyProject.objects.update(stage=Stage.RESERVE)
        year = timezone.localdate().year + 1
        projects = list(KeyProject.objects.filter(lead_unit__isnull=False).order_by("pk").values_list("pk", "lead_unit_id"))
        started = time.perf_counter()
        with transaction.atomic():
            small = PlanCompilation.objects.create(year=year + 1, deadline=datetime.date(year, 8, 31), target_total=WAN)
            full = PlanCompilation.objects.create(year=year, deadline=datetime.date(year - 1, 8, 31), target_total=10**9 * WAN)
            PlanTarget.objects.bulk_create(
                [PlanTarget(compilation=c, kind=PlanTarget.Kind.GROUP, key=key, amount=10**6 * WAN)
                 for c in (small, full) for key in ("territorial", "functional")]
            )
            _propose(full, projects, year)
            _propose(small, projects[: max(len(projects) // 10, 1)], year + 1)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        build_seconds = round(time.perf_counter() - started, 2)
        log("checking the compilation")
        small_ms, small_queries = _measure(small, options.samples)
        full_ms, full_queries = _measure(full, options.samples)
        return {
            "database": connection.vendor,
            "projects": len(projects),
            "build_seconds": build_seconds,
            "check_ms": full_ms,
            "check_queries": full_queries,
            "check_small_ms": small_ms,
            "check_small_queries": small_queries,
            "small_projects": max(len(projects) // 10, 1),
        }


def format_table(result):
    return "\n".join(
        [
            f"annual plan on {result['database']}: {result['projects']} reserve projects proposed (built in {result['build_seconds']} s)",
            f"  compilation check   {result['check_ms']} ms median, {result['check_queries']} queries",
            f"  at a tenth ({result['small_projects']})  {result['check_small_ms']} ms median, {result['check_small_queries']} queries",
        ]
    )
