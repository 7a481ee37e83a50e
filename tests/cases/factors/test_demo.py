"""seed_factors after seed_demo: this year's ledgers with quota, reservations, allocations, a
return and a shortfall; running it twice changes nothing. One test, as the demo takes half a
minute to seed."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from cases.factors import selectors
from cases.factors.models import FactorLedger, FactorLine, FactorRequest, LineKind, RequestState

pytestmark = pytest.mark.django_db


def test_the_demo_has_this_years_ledgers_a_return_and_a_shortfall_and_seeds_them_once():
    # Given the demo city, when its ledgers are seeded
    call_command("seed_demo", verbosity=0)
    call_command("seed_factors", verbosity=0)
    year = timezone.localdate().year
    ledgers = FactorLedger.objects.filter(year=year)

    # Then each factor has this year's ledger with its quota and a balance never below zero
    assert ledgers.count() == 7 and all(ledger.received > 0 and ledger.balance >= 0 for ledger in ledgers)
    assert ledgers.get(factor="land").bureau.name == "临江市自然资源和规划局"
    # with requests reserved and allocated, one return of land recovered, and a case short of its quota
    assert FactorRequest.objects.filter(state=RequestState.RESERVED).exists()
    assert FactorRequest.objects.filter(state=RequestState.ALLOCATED).exists()
    assert FactorLine.objects.filter(kind=LineKind.RETURNED, project__isnull=False).count() == 1
    assert [r for r in FactorRequest.objects.select_related("ledger") if selectors.shortfall(r) > 0]

    # and seeding again changes nothing
    before = (FactorLedger.objects.count(), FactorLine.objects.count(), FactorRequest.objects.count())
    call_command("seed_factors", verbosity=0)
    assert (FactorLedger.objects.count(), FactorLine.objects.count(), FactorRequest.objects.count()) == before
