"""seed_factors after seed_demo: this year's ledgers with quota, reservations, allocations, a
return and a shortfall; running it twice changes nothing."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from cases.factors import selectors
from cases.factors.models import FactorLedger, FactorLine, FactorRequest, LineKind, RequestState

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    call_command("seed_demo", verbosity=0)
    call_command("seed_factors", verbosity=0)


def test_the_demo_has_this_years_ledgers_with_balances_reservations_allocations_and_a_return(seeded):
    year = timezone.localdate().year
    ledgers = FactorLedger.objects.filter(year=year)

    assert ledgers.count() == 7 and all(ledger.received > 0 and ledger.balance >= 0 for ledger in ledgers)
    assert FactorRequest.objects.filter(state=RequestState.RESERVED).exists()
    assert FactorRequest.objects.filter(state=RequestState.ALLOCATED).exists()
    assert FactorLine.objects.filter(kind=LineKind.RETURNED, project__isnull=False).count() == 1
    assert ledgers.get(factor="land").bureau.name == "临江市自然资源和规划局"


def test_the_demo_has_a_case_with_a_shortfall(seeded):
    short = [r for r in FactorRequest.objects.select_related("ledger") if selectors.shortfall(r) > 0]

    assert short


def test_seeding_twice_changes_nothing(seeded):
    before = (FactorLedger.objects.count(), FactorLine.objects.count(), FactorRequest.objects.count())

    call_command("seed_factors", verbosity=0)

    assert (FactorLedger.objects.count(), FactorLine.objects.count(), FactorRequest.objects.count()) == before
