"""Financing docking at the national platform's scale: matching needs with products in the database.

Builds a city of ``--projects`` key projects (all in financing docking or financing), then, in
bulk, ``--institutions`` financial institutions (every tenth a branch of another), ``--products``
products spread over them (every type and special line, a third of them for named districts,
half for named industries) and ``--needs`` published financing needs of those cases. Then:

- ``rematch_all_first_seconds``: every published need matched from scratch, set-based
  (``cases.matching.rematch_all`` on an empty table), writing ``matches``;
- ``rematch_product_seconds`` and ``rematch_product_needs``: a broad product's terms changed through
  ``cases.services.product_update``, which rematches the needs it touches;
- ``rematch_all_seconds`` and ``rematch_all_queries``: every published need rematched again after
  that change and a rate change of every fiftieth product (what a nightly rematch does);
- ``match_one_ms`` and ``match_one_queries``: the median time and the most queries of matching one
  new need (``cases.matching.match_need``), over ``--samples`` needs just published;
  ``publish_one_ms`` and ``publish_one_queries``: the whole publishing service around it (the
  version-checked step, the audit row, the notifications, the matching);
- ``statistics_ms`` and ``statistics_queries``: ``cases.financing.stats.statistics`` for the
  secretariat, the median of three runs (null when that module is not there).
"""

import datetime
import importlib
import random
import statistics as stats
import time
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from cases.financing import services as financing_services

from .city import build_city
from .environment import log, throwaway_database
from .escalation import counting

NAME = "docking"
HELP = "financing docking: matching one need, rematching every need, and the statistics, at national scale"
BATCH = 5000
M = Decimal(1_000_000)


def add_arguments(parser):
    parser.add_argument("--needs", type=int, default=50_000, help="published financing needs (default 50000)")
    parser.add_argument("--products", type=int, default=741, help="financial products (default 741)")
    parser.add_argument("--institutions", type=int, default=2965, help="financial institutions (default 2965)")
    parser.add_argument("--projects", type=int, default=400, help="key projects the needs belong to (default 400)")
    parser.add_argument("--samples", type=int, default=50, help="new needs published and matched one by one (default 50)")


def _amount(rng, low, high):
    """A round amount between ``low`` and ``high`` million yuan, spread evenly on a log scale."""
    return (Decimal(str(round(10 ** rng.uniform(low, high), 4))) * M).quantize(Decimal("1"))


def build_institutions(count, rng):
    from cases.models import InstitutionType, Unit, UnitKind

    kinds = [InstitutionType.BANK] * 6 + [
        InstitutionType.INSURER,
        InstitutionType.FUND,
        InstitutionType.GUARANTEE,
        InstitutionType.LEASING,
    ]
    heads = Unit.objects.bulk_create(
        [
            Unit(name=f"金融机构{n:05d}", short_name=f"机构{n:05d}", kind=UnitKind.INSTITUTION, institution_type=kinds[n % 10])
            for n in range(count - count // 10)
        ],
        batch_size=BATCH,
    )
    branches = Unit.objects.bulk_create(
        [
            Unit(
                name=f"{parent.name}分支机构{n:05d}",
                short_name=f"分支{n:05d}",
                kind=UnitKind.INSTITUTION,
                institution_type=parent.institution_type,
                parent=parent,
            )
            for n, parent in enumerate(rng.sample(heads, count // 10))
        ],
        batch_size=BATCH,
    )
    return heads + branches


def build_products(count, institutions, districts, rng):
    from cases.financing.matching import SPECIAL_LINE_FIT
    from cases.financing.models import (
        INDUSTRY_BITS,
        STAGE_BITS,
        FinancialProduct,
        FinancingType,
        mask_of,
    )
    from cases.models import Industry, Stage

    types = [FinancingType.LOAN] * 5 + [
        FinancingType.BOND,
        FinancingType.EQUITY,
        FinancingType.LEASE,
        FinancingType.GUARANTEE,
        FinancingType.INSURANCE,
        FinancingType.COMBINED,
    ]
    lines = ["", "", "", "", *SPECIAL_LINE_FIT]
    industries = list(Industry.values)
    products = []
    for n in range(count):
        low = rng.uniform(0, 2)
        rate_min = Decimal(str(round(rng.uniform(0.5, 6), 2)))
        term_min = rng.choice([1, 6, 12, 24])
        products.append(
            FinancialProduct(
                institution=institutions[n % len(institutions)],
                name=f"金融产品{n:04d}",
                financing_type=types[n % len(types)],
                special_line=rng.choice(lines),
                amount_min=_amount(rng, low, low + 0.5),
                amount_max=_amount(rng, low + 1, low + 3),
                rate_min=rate_min,
                rate_max=rate_min + Decimal(str(round(rng.uniform(0, 2), 2))),
                term_months_min=term_min,
                term_months_max=term_min + rng.choice([24, 60, 120, 240]),
                industries_mask=0 if rng.random() < 0.5 else mask_of(rng.sample(industries, rng.randint(1, 4)), INDUSTRY_BITS),
                stages_mask=0 if rng.random() < 0.7 else mask_of([Stage.DOCKING, Stage.FINANCING][: rng.randint(1, 2)], STAGE_BITS),
            )
        )
    products = FinancialProduct.objects.bulk_create(products, batch_size=BATCH)
    through = FinancialProduct.regions.through
    links = []
    for product in products:
        if rng.random() < 1 / 3:
            links += [through(financialproduct=product, unit=unit) for unit in rng.sample(districts, rng.randint(1, 2))]
    through.objects.bulk_create(links, batch_size=BATCH)
    return products


def _need(project, rng, state, now):
    from cases.financing.models import FinancingNeed, FinancingType

    types = [FinancingType.LOAN] * 5 + [
        FinancingType.BOND,
        FinancingType.EQUITY,
        FinancingType.LEASE,
        FinancingType.GUARANTEE,
        FinancingType.INSURANCE,
        FinancingType.COMBINED,
    ]
    published = state == "published"
    return FinancingNeed(
        project=project,
        amount=_amount(rng, 0, 3),
        financing_type=rng.choice(types),
        purpose="项目建设及设备购置",
        term_months=rng.choice([12, 24, 36, 48, 60, 84, 120]),
        deadline=timezone.localdate() + datetime.timedelta(days=rng.randint(30, 365)),
        collateral="土地使用权抵押",
        state=state,
        industry=project.industry,
        stage=project.stage,
        region_id=project.region_id,
        submitted_at=now,
        published_at=now - datetime.timedelta(days=rng.randint(0, 700)) if published else None,
    )


def build_needs(count, projects, rng, state="published"):
    from cases.financing.models import FinancingNeed

    now = timezone.now()
    return FinancingNeed.objects.bulk_create(
        [_need(projects[n % len(projects)], rng, state, now) for n in range(count)], batch_size=BATCH
    )


def _median_ms(samples):
    return round(stats.median(samples) * 1000, 2)


def _statistics(user):
    try:
        module = importlib.import_module("cases.financing.stats")
    except ImportError:
        return None, None
    function = getattr(module, "statistics", None)
    if function is None:
        return None, None
    timings, queries = [], 0
    for _run in range(3):
        with counting() as statements:
            began = time.perf_counter()
            function(user)
            timings.append(time.perf_counter() - began)
        queries = max(queries, statements.count)
    return _median_ms(timings), queries


def run(options):
    for name in ("needs", "products", "institutions", "projects", "samples"):
        if getattr(options, name) < 1:
            raise SystemExit(f"--{name} must be at least 1")
    from django.db.models import F

    from cases.financing import matching
    from cases.financing.models import FinancialProduct, NeedMatch
    from cases.models import KeyProject, Stage, Unit, UnitKind

    rng = random.Random(2026)
    with throwaway_database():
        log(f"building a city of {options.projects} key projects in docking and financing")
        city = build_city(options.projects)
        for index, stage in enumerate((Stage.DOCKING, Stage.FINANCING)):
            KeyProject.objects.filter(pk__in=[p for p in KeyProject.objects.values_list("pk", flat=True) if p % 2 == index]).update(
                stage=stage
            )
        projects = list(KeyProject.objects.order_by("pk"))
        districts = list(Unit.objects.filter(kind=UnitKind.DISTRICT))
        started = time.perf_counter()
        with transaction.atomic():
            log(f"{options.institutions} institutions, {options.products} products, {options.needs} needs")
            institutions = build_institutions(options.institutions, rng)
            products = build_products(options.products, institutions, districts, rng)
            build_needs(options.needs, projects, rng)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        build_seconds = round(time.perf_counter() - started, 2)

        log("matching every need from scratch")
        with counting() as statements:
            began = time.perf_counter()
            written = matching.rematch_all()
            first_seconds = time.perf_counter() - began
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {NeedMatch._meta.db_table}")

        log("changing a broad product's terms")
        user = city.secretariat_user
        broad = max(products, key=lambda p: (p.industries_mask == 0, p.amount_max - p.amount_min))
        touched = len(matching._needs_touched_by(broad.pk))
        began = time.perf_counter()
        financing_services.product_update(product=broad, actor=user, data={"rate_min": Decimal("0.50"), "rate_max": Decimal("1.00")})
        rematch_product_seconds = time.perf_counter() - began

        log("rematching every need after the change")
        FinancialProduct.objects.filter(pk__in=[p.pk for p in products[1::50]]).update(rate_max=F("rate_max") + 1)
        with counting() as statements:
            began = time.perf_counter()
            again = matching.rematch_all()
            rematch_seconds = time.perf_counter() - began
        rematch_queries = statements.count

        log(f"publishing and matching {options.samples} new needs one by one")
        fresh = build_needs(options.samples, projects, rng, state="submitted")
        publish_times, publish_queries, match_times, match_queries, match_counts = [], 0, [], 0, []
        for need in fresh:
            need.refresh_from_db()
            with counting() as statements:
                began = time.perf_counter()
                financing_services.need_transition(need=need, transition="publish", actor=user)
                publish_times.append(time.perf_counter() - began)
            publish_queries = max(publish_queries, statements.count)
            with counting() as statements:
                began = time.perf_counter()
                match_counts.append(matching.match_need(need))
                match_times.append(time.perf_counter() - began)
            match_queries = max(match_queries, statements.count)

        log("the statistics")
        statistics_ms, statistics_queries = _statistics(user)
        return {
            "benchmark": NAME,
            "database": connection.vendor,
            "needs": options.needs,
            "products": options.products,
            "institutions": options.institutions,
            "projects": options.projects,
            "build_seconds": build_seconds,
            "matches": written,
            "matches_per_need": matching.MATCHES_PER_NEED,
            "rematch_all_first_seconds": round(first_seconds, 2),
            "rematch_all_seconds": round(rematch_seconds, 2),
            "rematch_all_queries": rematch_queries,
            "rematch_all_matches": again,
            "samples": options.samples,
            "match_one_ms": _median_ms(match_times),
            "match_one_max_ms": round(max(match_times) * 1000, 2),
            "match_one_queries": match_queries,
            "match_one_matches_median": stats.median(match_counts),
            "publish_one_ms": _median_ms(publish_times),
            "publish_one_queries": publish_queries,
            "rematch_product_seconds": round(rematch_product_seconds, 2),
            "rematch_product_needs": touched,
            "statistics_ms": statistics_ms,
            "statistics_queries": statistics_queries,
        }


def format_table(result):
    statistics_line = (
        f"  statistics          {result['statistics_ms']} ms, {result['statistics_queries']} queries"
        if result["statistics_ms"] is not None
        else "  statistics          not measured (cases.financing.stats.statistics is not there)"
    )
    return "\n".join(
        [
            f"financing docking on {result['database']}: {result['needs']} needs, {result['products']} products, "
            f"{result['institutions']} institutions, {result['projects']} cases (built in {result['build_seconds']} s)",
            f"  match every need    {result['rematch_all_first_seconds']} s from scratch, {result['matches']} matches "
            f"(the best {result['matches_per_need']} of each need)",
            f"  rematch every need  {result['rematch_all_seconds']} s after products changed, "
            f"{result['rematch_all_queries']} queries",
            f"  match one need      {result['match_one_ms']} ms median (max {result['match_one_max_ms']} ms), "
            f"{result['match_one_queries']} queries, {result['match_one_matches_median']} matches",
            f"  publish one need    {result['publish_one_ms']} ms median, {result['publish_one_queries']} queries",
            f"  change a product    {result['rematch_product_seconds']} s, {result['rematch_product_needs']} needs rematched",
            statistics_line,
        ]
    )
