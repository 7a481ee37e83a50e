"""The demo's factor ledgers: this year's ledger of each factor with the quota received, kept by
the city's bureaus, requests of the demo cases' pre-work items (land, energy review, EIA), some
reserved, some allocated, one return of land recovered, and shortfalls on two cases (idempotent).
"""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from cases.demo.city import COMMISSION
from cases.demo.projects import demo_exists
from cases.models import PreworkItem, Role, Stage, Unit

from . import services
from .models import EMISSIONS, Factor, FactorLedger

NATURAL_RESOURCES = "临江市自然资源和规划局"
ECOLOGY = "临江市生态环境局"
BUREAU_OF_FACTOR = {
    Factor.LAND: NATURAL_RESOURCES,
    Factor.FOREST_LAND: NATURAL_RESOURCES,
    Factor.ENERGY: COMMISSION,
    **{factor: ECOLOGY for factor in EMISSIONS},
}
# This year's quota received, with its document.
RECEIVED = {
    Factor.LAND: (Decimal("1200"), "临自然资〔{year}〕12号"),
    Factor.FOREST_LAND: (Decimal("150"), "临自然资〔{year}〕13号"),
    Factor.ENERGY: (Decimal("60000"), "临发改能〔{year}〕3号"),
    Factor.SO2: (Decimal("120"), "临环〔{year}〕21号"),
    Factor.NOX: (Decimal("200"), "临环〔{year}〕21号"),
    Factor.COD: (Decimal("90"), "临环〔{year}〕21号"),
    Factor.NH3N: (Decimal("8"), "临环〔{year}〕21号"),
}
# What the first cases' items ask, per kind of item: (factor, quantity, what the bureau does).
REQUESTS = {
    "land": [
        (Factor.LAND, Decimal("320"), "allocate"),
        (Factor.LAND, Decimal("260"), "allocate"),
        (Factor.LAND, Decimal("180"), "reserve"),
        (Factor.FOREST_LAND, Decimal("45"), "reserve"),
        (Factor.LAND, Decimal("560"), ""),  # more than the 455 mu left: a shortfall
    ],
    "energy": [
        (Factor.ENERGY, Decimal("18000"), "allocate"),
        (Factor.ENERGY, Decimal("12000"), "reserve"),
        (Factor.ENERGY, Decimal("9000"), ""),
    ],
    "eia": [
        (Factor.SO2, Decimal("35"), "allocate"),
        (Factor.NOX, Decimal("48"), "reserve"),
        (Factor.NH3N, Decimal("11.5"), ""),  # more than the 8 t the city has: a shortfall
    ],
}
RETURNED_LAND = Decimal("15")


def factors_demo_exists(year=None):
    return FactorLedger.objects.filter(year=year or timezone.localdate().year).exists()


def _secretariat_user():
    person = (
        Unit.objects.get(name=COMMISSION).people.filter(role=Role.SECRETARIAT).select_related("user").order_by("pk").first()
    )
    return person.user if person else None


def _items(kind, count):
    return list(
        PreworkItem.objects.filter(kind=kind, project__stage__in=[Stage.PREWORK, Stage.DOCKING, Stage.FINANCING])
        .select_related("project", "approving_unit")
        .order_by("project__code", "id")[:count]
    )


def seed_factors(stdout=None):
    """Seed this year's ledgers unless there are some; returns whether it wrote them. The demo
    city (seed_demo) must be there first."""
    year = timezone.localdate().year
    if not demo_exists() or factors_demo_exists(year):
        return False
    actor = _secretariat_user()
    if actor is None:
        return False
    with transaction.atomic():
        ledgers = {}
        for factor, bureau_name in BUREAU_OF_FACTOR.items():
            ledger = services.ledger_open(factor=factor, year=year, bureau=Unit.objects.get(name=bureau_name), actor=actor)
            quantity, document = RECEIVED[factor]
            services.ledger_receive(
                ledger=ledger, quantity=quantity, actor=actor, reason="省下达年度指标", document_number=document.format(year=year)
            )
            ledgers[factor] = ledger
        made = 0
        allocated_land = None
        for kind, wanted in REQUESTS.items():
            for item, (factor, quantity, step) in zip(_items(kind, len(wanted)), wanted, strict=False):
                request = services.factor_request(item=item, factor=factor, year=year, quantity=quantity, actor=actor)
                made += 1
                if step == "reserve":
                    services.request_reserve(request=request, actor=actor, reason="项目已列入年度用地计划")
                elif step == "allocate":
                    services.request_allocate(
                        request=request, actor=actor, reason="经专题会研究同意", document_number=f"临要素〔{year}〕{made}号"
                    )
                    if factor == Factor.LAND and allocated_land is None:
                        allocated_land = request
        if allocated_land is not None:
            services.ledger_return(
                ledger=ledgers[Factor.LAND],
                quantity=RETURNED_LAND,
                actor=actor,
                request=allocated_land,
                reason="批而未供土地收回",
                document_number=f"临自然资〔{year}〕40号",
            )
    if stdout is not None:
        stdout.write(f"{len(ledgers)} factor ledgers for {year}, {made} requests")
    return True
