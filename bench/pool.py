"""The reserve pool at scale: a city whose ``--projects`` key projects (10,000 by default) are all
in the pipeline (a tenth of them ideas, the rest in the reserve pool, with the pre-work items the
city builds for them as their readiness), and the pool's page and API as the secretariat reads
them, unfiltered and filtered by readiness, threshold and pool: queries and median time, at the
full size and at a tenth of it. The query counts must be the same at both sizes.
"""

from django.db import connection
from django.test import Client
from django.urls import reverse

from .city import build_city
from .environment import log, throwaway_database
from .pages import measure_page

NAME = "pool"
HELP = "the reserve pool's page and API over many reserve projects, in constant queries"
FILTERED = "?stage=reserve&readiness=incomplete&threshold=meets&horizon=execution&strategic_emerging=true"


def add_arguments(parser):
    parser.add_argument("--projects", type=int, default=10_000, help="cases in the pipeline (default 10000)")
    parser.add_argument("--runs", type=int, default=5, help="measured requests per page (default 5)")


def _pipeline_city(projects):
    from cases.models import KeyProject, Stage

    city = build_city(projects)
    KeyProject.objects.update(stage=Stage.RESERVE, stage_before_suspension="")
    ideas = list(KeyProject.objects.order_by("pk").values_list("pk", flat=True)[:: 10])
    KeyProject.objects.filter(pk__in=ideas).update(stage=Stage.IDEA)
    return city


def _measure(projects, runs):
    with throwaway_database():
        log(f"building a city of {projects} key projects, all in the pipeline")
        city = _pipeline_city(projects)
        client = Client()
        client.force_login(city.secretariat_user)
        pages = {
            "pool_page": reverse("cases:pool:list"),
            "pool_page_filtered": reverse("cases:pool:list") + FILTERED,
            "pool_api": reverse("api:pool-list"),
            "pool_api_filtered": reverse("api:pool-list") + FILTERED,
        }
        figures = {}
        for name, url in pages.items():
            log(f"measuring {name} at {projects} cases ({runs} runs)")
            figures[name] = measure_page(client, url, runs)
        return figures


def run(options):
    if options.projects < 10 or options.runs < 1:
        raise SystemExit("--projects must be at least 10 and --runs at least 1")
    small = _measure(options.projects // 10, options.runs)
    full = _measure(options.projects, options.runs)
    return {
        "benchmark": NAME,
        "projects": options.projects,
        "database": connection.vendor,
        "pages": {
            name: {
                "queries": full[name]["queries"],
                "queries_at_a_tenth": small[name]["queries"],
                "median_ms": full[name]["median_ms"],
                "median_ms_at_a_tenth": small[name]["median_ms"],
            }
            for name in full
        },
        "constant_queries": all(full[name]["queries"] == small[name]["queries"] for name in full),
    }


def format_table(result):
    lines = [
        f"{result['benchmark']}: {result['projects']} cases in the pipeline on {result['database']}",
        f"{'page':<20} {'queries':>7} {'at 1/10':>7} {'median ms':>10} {'at 1/10':>8}",
    ]
    for name, figures in result["pages"].items():
        lines.append(
            f"{name:<20} {figures['queries']:>7} {figures['queries_at_a_tenth']:>7} "
            f"{figures['median_ms']:>10.1f} {figures['median_ms_at_a_tenth']:>8.1f}"
        )
    lines.append(f"constant queries: {'yes' if result['constant_queries'] else 'NO'}")
    return "\n".join(lines)
