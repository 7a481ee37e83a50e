"""The annual plan's fixtures: the miniature city on 15 June 2026, compiling the plan of 2027."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from tests.cases.factories import KeyProjectFactory, OrgFactory

NOW = timezone.make_aware(datetime.datetime(2026, 6, 15, 10))
YEAR = 2027
WAN = Decimal("10000")


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def org(db, clock):
    org = OrgFactory.create()
    org.second = KeyProjectFactory(code="2026-GX-0003", lead_unit=org.park)
    return org


def figures(year=YEAR, planned=3000, start=None):
    return {
        "planned_year": Decimal(planned) * WAN,
        "planned_next": Decimal(2000) * WAN,
        "planned_after": Decimal(1000) * WAN,
        "planned_start": start or datetime.date(year, 3, 1),
    }
