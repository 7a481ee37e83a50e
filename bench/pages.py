"""The pages benchmark: SQL queries and median server time of the project list, detail and API list.

A page whose query count grows with the number of cases makes a query per row; run at two
sizes and compare ``queries``. ``--sql`` prints each page's statements to stderr, with the
ones that repeat within a request marked, to find such a query.
"""

import re
import statistics
import time
from collections import Counter

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from .city import build_city
from .environment import log, throwaway_database

NAME = "pages"
HELP = "query count and median server time of the project list, project detail and API list"


def add_arguments(parser):
    parser.add_argument("--projects", type=int, default=100, help="key projects in the city (default 100)")
    parser.add_argument("--runs", type=int, default=15, help="measured requests per page (default 15)")
    parser.add_argument(
        "--sql", action="store_true", help="print each page's SQL to stderr, marking statements that repeat"
    )


class PageFailed(RuntimeError):
    """A page answered with something other than 200 OK."""


def _pages(city):
    return {
        "project_list": reverse("cases:projects:index"),
        "project_detail": reverse("cases:projects:detail", args=[city.showcase_project_id]),
        "api_list": reverse("api:project-list"),
    }


def _get(client, url):
    response = client.get(url)
    if response.status_code != 200:
        raise PageFailed(f"GET {url} answered {response.status_code}, not 200:\n{response.content[:2000]!r}")
    return response


_LITERALS = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")


def statement_shape(sql):
    """The statement with its literal values blanked, so one query per row looks the same every time."""
    return _LITERALS.sub("?", sql)


def repeated_statements(queries):
    """{shape: times} for the statements that ran more than once in one request."""
    shapes = Counter(statement_shape(query["sql"]) for query in queries)
    return {shape: times for shape, times in shapes.items() if times > 1}


def measure_page(client, url, runs, *, show_sql=False):
    """Warm up once, then time ``runs`` requests; warns when the query count differs between runs."""
    _get(client, url)
    timings_ms, query_counts = [], []
    for _run in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            _get(client, url)
            timings_ms.append((time.perf_counter() - started) * 1000)
        query_counts.append(len(captured.captured_queries))
    if len(set(query_counts)) > 1:
        log(f"warning: {url} made {sorted(set(query_counts))} queries in different runs")
    repeated = repeated_statements(captured.captured_queries)
    if show_sql:
        log(f"SQL of GET {url} ({len(captured.captured_queries)} statements):")
        for number, query in enumerate(captured.captured_queries, start=1):
            mark = "REPEATED " if statement_shape(query["sql"]) in repeated else ""
            log(f"  {number:3d}. [{query['time']}s] {mark}{query['sql']}")
    for shape, times in repeated.items():
        log(f"{url}: the same statement ran {times} times in one request: {shape[:300]}")
    return {
        "url": url,
        "queries": max(query_counts),
        "median_ms": round(statistics.median(timings_ms), 2),
        "runs": runs,
    }


def run(options):
    """Build a city of ``options.projects`` key projects and measure the pages as the secretariat."""
    if options.projects < 1 or options.runs < 1:
        raise SystemExit("--projects and --runs must be at least 1")
    with throwaway_database():
        log(f"building a city of {options.projects} key projects")
        started = time.perf_counter()
        city = build_city(options.projects)
        build_seconds = time.perf_counter() - started
        log(f"built in {build_seconds:.1f}s: {city.rows}")

        client = Client()
        client.force_login(city.secretariat_user)
        pages = {}
        for page, url in _pages(city).items():
            log(f"measuring {page} ({url}), {options.runs} runs")
            pages[page] = measure_page(client, url, options.runs, show_sql=options.sql)
        return {
            "benchmark": NAME,
            "projects": options.projects,
            "database": connection.vendor,
            "pages": pages,
            "build_seconds": round(build_seconds, 2),
            "rows": city.rows,
        }


def format_table(result):
    lines = [
        f"{result['benchmark']}: {result['projects']} key projects on {result['database']}, "
        f"built in {result['build_seconds']}s",
        f"{'page':<16} {'queries':>7} {'median ms':>10} {'runs':>5}",
    ]
    for page, figures in result["pages"].items():
        lines.append(f"{page:<16} {figures['queries']:>7} {figures['median_ms']:>10.2f} {figures['runs']:>5}")
    return "\n".join(lines)
