"""Tasks completed through the web server as people load it: gunicorn with production settings
(PostgreSQL, Redis, HTTPS as behind a proxy), ``--clients`` concurrent clients on 127.0.0.1.

A city of ``--cases`` active cases has its month's report flows open (the engine's bulk start),
so every unit head has report tasks waiting. Each client acts as one unit's head (API token) for
``--seconds``: half its requests submit one of its unit's reports (``POST /api/reports/{id}/submit/``,
the write step done and the review opened), the other half read what a head reads (``GET
/api/my-work/``, the overdue board ``GET /api/tasks/overdue/``, a case ``GET /api/projects/{id}/``).
One submission in twenty repeats a report already submitted, which must be refused (409), and one
in twenty is sent twice at once, of which exactly one must go through (200 and 409).

Prints ``completions_per_second`` (and per core; ``units_out_of_reports`` says how many units'
clients ran out of reports to submit, after which they only read and repeat, so a larger city
gives the honest rate), the latency of writes and reads (p50, p95, p99 in
ms), ``errors`` (any other answer than 2xx, or 409 to a repeat), the statements one submission
runs (measured in this process on the same code path), and afterwards, from the database:
``lost`` (a 200 whose report is not submitted) and ``doubled`` (a report whose write step was done
twice, a repeat that succeeded, or a review opened twice). Then PostgreSQL's own write ceiling on
the same machine: ``pgbench -N`` (``--pgbench-seconds``, the same number of clients), so the figure
reads as a ratio.
"""

import asyncio
import glob
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict, deque

from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from .city import build_city
from .environment import log, throwaway_database

NAME = "throughput"
HELP = "task completions a second through gunicorn by concurrent API clients (PostgreSQL, Redis), and pgbench's ceiling"
REPEAT_SHARE = 0.05
RACE_SHARE = 0.05
BODY = {
    "investment_month": "0.00",
    "progress_percent": "99.00",
    "progress_back_reason": "bench",
    "work_done": "Work went on as planned.",
}


def add_arguments(parser):
    parser.add_argument("--cases", type=int, default=3000, help="active cases, each with a report to write (default 3000)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument("--seconds", type=float, default=30, help="how long the clients run (default 30)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
    parser.add_argument("--pgbench-seconds", type=int, default=30, help="pgbench -N duration; 0 skips it (default 30)")


def run(options):
    if options.clients < 1 or options.seconds <= 0 or options.cases < 1:
        raise SystemExit("--clients, --seconds and --cases must be positive")
    if connection.vendor != "postgresql":
        raise RuntimeError("needs PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/keyprojects")
    if not _reachable(6379):
        raise RuntimeError("needs Redis on 127.0.0.1:6379 (the broker the server enqueues to)")
    with throwaway_database():
        log(f"building a city with {options.cases} active cases and opening their monthly reports")
        work = _prepare(options.cases)
        statements = _statements_of_one_submission(work)
        name = connection.settings_dict["NAME"]
        connections.close_all()
        port = _free_port()
        log(f"gunicorn, {options.workers} workers, on 127.0.0.1:{port}, production settings on {name}")
        server_log = tempfile.NamedTemporaryFile(prefix="kp-bench-gunicorn-", suffix=".log", delete=False)
        server = _start_gunicorn(port, name, options.workers, server_log)
        try:
            log(f"{options.clients} clients for {options.seconds:g} s (the server's log: {server_log.name})")
            load = asyncio.run(_load(port, work, options.clients, options.seconds))
        finally:
            server.terminate()
            server.wait(timeout=30)
            server_log.close()
        checks = _check(load)
        _purge_broker()
    pgbench = _pgbench(options.clients, options.pgbench_seconds) if options.pgbench_seconds else None
    cores = os.cpu_count() or 1
    completions = load["completed"] / load["seconds"]
    return {
        "cases": options.cases,
        "clients": options.clients,
        "gunicorn_workers": options.workers,
        "cores": cores,
        "seconds": round(load["seconds"], 1),
        "completed": load["completed"],
        "completions_per_second": round(completions, 1),
        "completions_per_second_per_core": round(completions / cores, 1),
        "write_ms": _percentiles(load["write_ms"]),
        "reads": len(load["read_ms"]),
        "reads_per_second": round(len(load["read_ms"]) / load["seconds"], 1),
        "read_ms": _percentiles(load["read_ms"]),
        "repeats_refused": load["repeats_refused"],
        "errors": load["errors"],
        "error_samples": load["error_samples"][:5],
        "statements_per_completion": statements,
        **checks,
        "pgbench_tps": pgbench,
    }


def _prepare(cases):
    """The city, its reports open with their flows started, a token for every unit head."""
    from django.urls import reverse
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from cases.models import KeyProject, Person, Role
    from workflow.monthly import launch, lights, periods, services
    from workflow.monthly.models import MonthlyReport

    build_city(cases)
    KeyProject.objects.exclude(stage__in=lights.ACTIVE_STAGES).update(stage=lights.ACTIVE_STAGES[-1])
    month = periods.previous_month(periods.first_of_month(timezone.localdate()))
    services.reports_open(month=month, enqueue=False)
    pending = list(MonthlyReport.objects.filter(month=month, process__isnull=True).values_list("pk", flat=True))
    for begin in range(0, len(pending), 1000):
        launch.start_report_flows(pending[begin : begin + 1000])
    heads = {}
    for person in Person.objects.filter(role=Role.UNIT_HEAD, user__isnull=False).select_related("user").order_by("pk"):
        heads.setdefault(person.unit_id, Token.objects.get_or_create(user=person.user)[0].key)
    reports, projects = defaultdict(list), defaultdict(list)
    for pk, unit_id, project_id in MonthlyReport.objects.filter(month=month, unit_id__in=heads).values_list(
        "pk", "unit_id", "project_id"
    ):
        reports[unit_id].append(pk)
        projects[unit_id].append(project_id)
    units = [unit for unit in heads if reports[unit]]
    if not units:
        raise RuntimeError("the city has no unit head with a report to write")
    return {
        "units": units,
        "tokens": heads,
        "reports": {unit: deque(reports[unit]) for unit in units},
        "projects": {unit: projects[unit] for unit in units},
        "project_path": reverse("api:project-detail", args=[0]).replace("/0/", "/{}/"),
    }


def _statements_of_one_submission(work):
    """The statements one submission runs, on the server's code path, in this process."""
    from rest_framework.test import APIClient

    unit = work["units"][0]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {work['tokens'][unit]}")
    counted = []
    for _warm_then_counted in range(2):  # the first warms the caches a running server has warm
        report = work["reports"][unit].popleft()
        with CaptureQueriesContext(connection) as queries:
            response = client.post(f"/api/reports/{report}/submit/", BODY, format="json")
        if response.status_code != 200:
            raise RuntimeError(f"a submission was refused ({response.status_code}): {response.content[:300]!r}")
        counted.append(len(queries))
    return counted[-1]


def _start_gunicorn(port, database, workers, log_file):
    environment = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "CELERY_BROKER_URL": _broker(),
        "DEBUG": "false",
        "HTTPS": "true",  # behind a proxy: the clients send X-Forwarded-Proto
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "ERROR",
        "PYTHONWARNINGS": "ignore:No directory at",  # WhiteNoise: the API serves no static files
    }
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or "gunicorn"
    server = subprocess.Popen(
        [gunicorn, "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--backlog", "2048",
         "--timeout", "60", "--log-level", "warning"],
        env=environment,
        stderr=log_file,
    )
    deadline = time.monotonic() + 60
    while not _reachable(port):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError("gunicorn did not start")
        time.sleep(0.2)
    return server


async def _request(port, method, path, token, body=None):
    """(status, body); status 0 when the connection failed (refused, reset)."""
    try:
        return await _exchange(port, method, path, token, body)
    except OSError as failure:
        return 0, f"{failure.__class__.__name__}: {failure}".encode()


async def _exchange(port, method, path, token, body):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    data = json.dumps(body).encode() if body is not None else b""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {token}\r\n"
        "X-Forwarded-Proto: https\r\nAccept: application/json\r\nConnection: close\r\n"
    )
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    writer.write(head.encode() + b"\r\n" + data)
    await writer.drain()
    raw = await reader.read()
    writer.close()
    status = int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/") else 0
    return status, raw.partition(b"\r\n\r\n")[2]


async def _load(port, work, clients, seconds):
    done = {
        "ok": [], "write_ms": [], "read_ms": [], "repeats_refused": 0, "errors": 0, "error_samples": [],
        "doubled_repeats": 0, "races": 0, "races_both_accepted": 0, "queues_emptied": set(),
    }
    submitted = []
    begun = time.perf_counter()
    deadline = begun + seconds

    async def client(index):
        chooser = random.Random(index)
        unit = work["units"][index % len(work["units"])]
        token, queue = work["tokens"][unit], work["reports"][unit]
        reads = [
            "/api/my-work/",
            "/api/tasks/overdue/",
            *[work["project_path"].format(pk) for pk in work["projects"][unit][:5]],
        ]
        while time.perf_counter() < deadline:
            write = chooser.random() < 0.5 and bool(queue or submitted)
            if write:
                # bool(): ``submitted`` itself, empty now, would turn true while the request waits.
                repeat = not queue or (bool(submitted) and chooser.random() < REPEAT_SHARE)
                report, report_token = chooser.choice(submitted) if repeat else (queue.popleft(), token)
                if not queue:
                    done["queues_emptied"].add(unit)
                path = f"/api/reports/{report}/submit/"
                started = time.perf_counter()
                if not repeat and chooser.random() < RACE_SHARE:
                    # The same report sent twice at once: the flow's lock lets exactly one through.
                    done["races"] += 1
                    answers = await asyncio.gather(*(_request(port, "POST", path, token, BODY) for _twice in range(2)))
                    elapsed = (time.perf_counter() - started) * 1000
                    statuses = sorted(status for status, _body in answers)
                    if statuses in ([200, 400], [200, 409]):  # the second refused: not waiting, or submitted already
                        done["ok"].append(report)
                        done["write_ms"].append(elapsed)
                        submitted.append((report, token))
                    elif statuses == [200, 200]:
                        done["races_both_accepted"] += 1
                    else:
                        _error(done, statuses[-1], path, answers[-1][1])
                    continue
                status, body = await _request(port, "POST", path, report_token, BODY)
                elapsed = (time.perf_counter() - started) * 1000
                if repeat:
                    if status == 409:
                        done["repeats_refused"] += 1
                    elif 200 <= status < 300:
                        done["doubled_repeats"] += 1
                        done["error_samples"].append(f"repeat accepted: {status} {path}")
                    else:
                        _error(done, status, path, body)
                elif status == 200:
                    done["ok"].append(report)
                    done["write_ms"].append(elapsed)
                    submitted.append((report, token))
                else:
                    _error(done, status, path, body)
            else:
                path = chooser.choice(reads)
                started = time.perf_counter()
                status, body = await _request(port, "GET", path, token)
                if status == 200:
                    done["read_ms"].append((time.perf_counter() - started) * 1000)
                else:
                    _error(done, status, path, body)

    await asyncio.gather(*(client(index) for index in range(clients)))
    done["seconds"] = time.perf_counter() - begun
    done["completed"] = len(done["ok"])
    return done


def _purge_broker():
    """The notifications the submissions enqueued: no worker ran them; they go."""
    import redis

    redis.Redis.from_url(_broker()).flushdb()


def _broker():
    return os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/13")


def _error(done, status, path, body):
    done["errors"] += 1
    done["error_samples"].append(f"{status} {path} {body[:160].decode(errors='replace')}")


def _check(load):
    """From the database, after the load: what a 200 promised, and nothing done twice."""
    from django.db.models import Count, Q
    from viewflow.workflow.models import Task

    from workflow.monthly.flows import ReportFlow
    from workflow.monthly.models import MonthlyReport

    ok = set(load["ok"])
    # A 200 promised: the report submitted, its write step done once, its review opened once.
    submitted = set(
        MonthlyReport.objects.filter(pk__in=ok, state=MonthlyReport.State.SUBMITTED)
        .annotate(
            writes=Count("process__task", filter=Q(process__task__flow_task=ReportFlow.write, process__task__status="DONE")),
            reviews=Count("process__task", filter=Q(process__task__flow_task=ReportFlow.review)),
        )
        .filter(writes=1, reviews=1)
        .values_list("pk", flat=True)
    )
    twice = (
        Task.objects.filter(flow_task__in=[ReportFlow.write, ReportFlow.review])
        .values("process_id")
        .annotate(
            writes=Count("pk", filter=Q(flow_task=ReportFlow.write, status="DONE")),
            reviews=Count("pk", filter=Q(flow_task=ReportFlow.review)),
        )
        .filter(Q(writes__gt=1) | Q(reviews__gt=1))
        .count()
    )
    return {
        "lost": len(ok - submitted),
        "doubled": twice + load["doubled_repeats"] + load["races_both_accepted"],
        "done_twice": twice,
        "repeats_accepted": load["doubled_repeats"],
        "races": load["races"],
        "races_both_accepted": load["races_both_accepted"],
        "units_out_of_reports": len(load["queues_emptied"]),
    }


def _pgbench(clients, seconds):
    """PostgreSQL's write ceiling here: pgbench's simple-update script without the branch and
    teller updates (``-N``), on a throwaway database of its own."""
    pgbench = shutil.which("pgbench") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"))), None)
    if pgbench is None:
        log("pgbench is not installed: the ceiling is not measured")
        return None
    name = f"bench_pgbench_{os.getpid()}"
    base = ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]
    import psycopg

    admin = psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        log(f"pgbench -N, {clients} clients, {seconds} s")
        subprocess.run([pgbench, *base, "-i", "-q", "-s", "10", name], check=True, capture_output=True)
        out = subprocess.run(
            [pgbench, *base, "-N", "-T", str(seconds), "-c", str(clients), "-j", str(os.cpu_count() or 1), name],
            check=True, capture_output=True, text=True,
        ).stdout
        found = re.search(r"tps = ([0-9.]+)", out)
        return round(float(found.group(1)), 1) if found else None
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


def _percentiles(values):
    if not values:
        return {"p50": None, "p95": None, "p99": None}
    ordered = sorted(values)
    pick = lambda share: round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)  # noqa: E731
    return {"p50": round(statistics.median(ordered), 1), "p95": pick(0.95), "p99": pick(0.99)}


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _reachable(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def format_table(result):
    lines = [
        f"throughput: {result['clients']} clients, {result['gunicorn_workers']} gunicorn workers on {result['cores']} cores, "
        f"{result['seconds']} s",
        f"  completions  {result['completed']} ({result['completions_per_second']}/s, "
        f"{result['completions_per_second_per_core']}/s a core), {result['statements_per_completion']} statements each",
        f"  writes ms    p50 {result['write_ms']['p50']}  p95 {result['write_ms']['p95']}  p99 {result['write_ms']['p99']}",
        f"  reads        {result['reads']} ({result['reads_per_second']}/s); ms p50 {result['read_ms']['p50']}  "
        f"p95 {result['read_ms']['p95']}  p99 {result['read_ms']['p99']}",
        f"  lost {result['lost']}, doubled {result['doubled']}, repeats refused {result['repeats_refused']}, "
        f"races {result['races']}, errors {result['errors']}; {result['units_out_of_reports']} units ran out of reports",
        f"  pgbench -N   {result['pgbench_tps']} tps",
    ]
    return "\n".join(lines)

