"""The monthly cycle's heavy steps for ``--cases`` active cases.

- ``reports``: the report rows created set-based, then one report flow per case started in
  batches of ``REPORT_BATCH`` (1,000) by the engine's bulk start (``workflow.engine.bulk``),
  spread over ``--workers`` processes as the celery workers would take them (each process runs
  ``workflow.tasks.start_report_flows``'s body on its own connection). Reports ``seconds``, ``queries`` and ``queries_per_case``; then runs
  the step again to show it is idempotent (``rerun_created``, ``rerun_started``).
  While it runs, the main process asks for the report status page and the inbox as the
  secretariat and a unit head, and reports their latency (``page_ms_median``, ``page_ms_max``).
- ``lights``: every active case lit and snapshotted (``workflow.monthly.lights.lights_compute``).
- ``agenda``: the meeting's agenda drafted from the data (``workflow.meetings.meeting_draft``).
- ``bulletin``: every unit scored and ranked (``workflow.bulletin.bulletin_compute``).

Each step reports ``seconds`` and ``queries`` (SQL statements, transaction statements
included). ``total_seconds`` is the sum of the four steps.
"""

import multiprocessing
import statistics
import threading
import time

from django.db import connection, connections

from workflow.monthly import bulletin, launch, lights, meetings, periods, reports, services

from .city import build_city
from .environment import log, throwaway_database
from .escalation import counting

NAME = "monthly"
HELP = "the monthly cycle's heavy steps: reports (a flow per case), lights, agenda, bulletin"


def add_arguments(parser):
    parser.add_argument("--cases", type=int, default=2000, help="active cases (default 2000)")
    parser.add_argument(
        "--workers", type=int, default=2, help="processes starting the report flows, as celery workers (default 2; 1 on SQLite)"
    )


def _worker(batches, results):
    """A worker process: take batches until none are left, count the statements it ran."""
    connections.close_all()
    started = 0
    with counting() as statements:
        while True:
            try:
                batch = batches.get_nowait()
            except Exception:  # queue.Empty
                break
            started += launch.start_report_flows(batch)
    results.put((started, statements.count))
    connections.close_all()


def _watch_pages(stop, timings):
    """The pages people use while the flows start: their latency, in the main process."""
    from django.test import Client

    from cases.models import Person, Role

    clients = []
    for role in (Role.SECRETARIAT, Role.UNIT_HEAD):
        person = Person.objects.filter(role=role, user__isnull=False).select_related("user").first()
        client = Client()
        client.force_login(person.user)
        clients.append(client)
    urls = ["/workflow/reports/", "/workflow/inbox/", "/workflow/cycle/"]
    turn = 0
    while not stop.is_set():
        client, url = clients[turn % len(clients)], urls[turn % len(urls)]
        begun = time.perf_counter()
        status = client.get(url, HTTP_HOST="localhost").status_code
        if status == 200:
            timings.append((time.perf_counter() - begun) * 1000)
        turn += 1
        time.sleep(1.0)  # a person clicking about once a second
    connections.close_all()


def run_reports(month, workers):
    with counting() as statements:
        started_at = time.perf_counter()
        opened = services.reports_open(month=month, enqueue=False)
        from workflow.monthly.models import MonthlyReport

        pending = list(
            MonthlyReport.objects.filter(month=month, process__isnull=True).order_by("pk").values_list("pk", flat=True)
        )
    batches = [pending[i : i + reports.REPORT_BATCH] for i in range(0, len(pending), reports.REPORT_BATCH)]
    context = multiprocessing.get_context("fork")
    queue, results = context.Queue(), context.Queue()
    for batch in batches:
        queue.put(batch)
    time.sleep(0.2)  # let the feeder thread fill the queue before the workers look at it
    connections.close_all()
    stop, timings = threading.Event(), []
    watcher = threading.Thread(target=_watch_pages, args=(stop, timings), daemon=True)
    processes = [context.Process(target=_worker, args=(queue, results)) for _n in range(workers)]
    for process in processes:
        process.start()
    watcher.start()
    outcomes = [results.get() for _process in processes]
    for process in processes:
        process.join()
    stop.set()
    watcher.join()
    seconds = time.perf_counter() - started_at
    started = sum(count for count, _queries in outcomes)
    queries = statements.count + sum(queries for _count, queries in outcomes)
    cases = max(opened["created"], 1)
    # Run again: nothing is created or started twice.
    again = services.reports_open(month=month, enqueue=False)
    rerun_started = launch.start_report_flows(
        list(MonthlyReport.objects.filter(month=month).values_list("pk", flat=True)[: reports.REPORT_BATCH])
    )
    return {
        "created": opened["created"],
        "started": started,
        "batches": len(batches),
        "workers": workers,
        "seconds": round(seconds, 2),
        "queries": queries,
        "queries_per_case": round(queries / cases, 2),
        "rerun_created": again["created"],
        "rerun_started": rerun_started,
        "page_requests": len(timings),
        "page_ms_median": round(statistics.median(timings), 1) if timings else None,
        "page_ms_max": round(max(timings), 1) if timings else None,
    }


def timed(function):
    with counting() as statements:
        started_at = time.perf_counter()
        result = function()
        seconds = time.perf_counter() - started_at
    return result, {"seconds": round(seconds, 2), "queries": statements.count}


def run(options):
    if options.cases < 1:
        raise SystemExit("--cases must be at least 1")
    from django.utils import timezone

    from cases.models import KeyProject
    with throwaway_database():
        workers = options.workers if connection.vendor == "postgresql" else 1
        log(f"building a city with {options.cases} active cases")
        build_city(options.cases)
        KeyProject.objects.exclude(stage__in=lights.ACTIVE_STAGES).update(stage=lights.ACTIVE_STAGES[-1])
        month = periods.previous_month(periods.first_of_month(timezone.localdate()))
        log(f"reports: {options.cases} report flows over {workers} worker processes")
        result = {"cases": options.cases, "database": connection.vendor, "month": f"{month:%Y-%m}"}
        result["reports"] = run_reports(month, workers)
        log("lights")
        snapshots, result["lights"] = timed(lambda: lights.lights_compute(month=month))
        result["lights"]["cases"] = len(snapshots)
        log("agenda")
        meeting, result["agenda"] = timed(lambda: meetings.meeting_draft(month=month))
        result["agenda"]["items"] = meeting.items.count()
        log("bulletin")
        scored, result["bulletin"] = timed(lambda: bulletin.bulletin_compute(month=month))
        result["bulletin"]["units"] = scored.scores.count()
        result["total_seconds"] = round(sum(result[step]["seconds"] for step in ("reports", "lights", "agenda", "bulletin")), 2)
        return result


def format_table(result):
    lines = [f"monthly cycle, {result['cases']} active cases on {result['database']} ({result['month']})"]
    for step in ("reports", "lights", "agenda", "bulletin"):
        figures = result[step]
        lines.append(f"  {step:9} {figures['seconds']:8.2f} s  {figures['queries']:8} queries")
    reports = result["reports"]
    lines.append(
        f"  reports: {reports['queries_per_case']} queries a case, rerun created {reports['rerun_created']} "
        f"started {reports['rerun_started']}; pages while running: median {reports['page_ms_median']} ms, "
        f"max {reports['page_ms_max']} ms over {reports['page_requests']} requests"
    )
    lines.append(f"  total {result['total_seconds']} s")
    return "\n".join(lines)
