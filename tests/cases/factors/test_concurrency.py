"""Sixteen allocations at once on one ledger (PostgreSQL, real threads): the balance never goes
negative and each request is allocated exactly once."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection

from cases.factors import services
from cases.factors.models import FactorLedger, FactorLine, FactorRequest, LineKind, RequestState

from .factories import ask, open_ledger

THREADS = 16


def _race(jobs):
    barrier = threading.Barrier(len(jobs))
    outcomes, lock = [], threading.Lock()

    def run(job):
        try:
            barrier.wait()
            job()
            result = "allocated"
        except ValidationError:
            result = "refused"
        except Exception as exc:  # anything else fails the guarantee
            result = f"error: {exc!r}"
        finally:
            close_old_connections()
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sixteen_allocations_at_once_never_make_the_balance_negative(org):
    ledger = open_ledger(org, received=Decimal("100"))
    requests = [ask(org, ledger, "10") for _ in range(THREADS)]
    actor = org.dept_head.user

    outcomes = _race(
        [lambda r=r: services.request_allocate(request=r, actor=actor, reason="并发") for r in requests]
    )

    assert outcomes == ["allocated"] * 10 + ["refused"] * 6
    ledger = FactorLedger.objects.get(pk=ledger.pk)
    assert (ledger.allocated, ledger.balance) == (Decimal("100"), Decimal("0"))
    assert FactorRequest.objects.filter(state=RequestState.ALLOCATED).count() == 10
    balances = list(ledger.lines.order_by("position").values_list("balance_after", flat=True))
    assert min(balances) == 0 and balances == sorted(balances, reverse=True)
    assert list(ledger.lines.order_by("position").values_list("position", flat=True)) == list(range(1, 12))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sixteen_allocations_of_the_same_request_allocate_it_exactly_once(org):
    ledger = open_ledger(org, received=Decimal("100"))
    request = ask(org, ledger, "10")
    actor = org.dept_head.user

    outcomes = _race(
        [lambda: services.request_allocate(request=request, actor=actor, reason="并发") for _ in range(THREADS)]
    )

    assert outcomes == ["allocated"] + ["refused"] * 15
    assert FactorLine.objects.filter(request=request, kind=LineKind.ALLOCATED).count() == 1
    ledger = FactorLedger.objects.get(pk=ledger.pk)
    assert (ledger.allocated, ledger.balance) == (Decimal("10"), Decimal("90"))
