"""Pre-work items asking the ledgers, given / when / then: what may be asked, the guard on the
item's "done", and a shortfall raised as a blocker in one click."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cases import guards
from cases.factors import services
from cases.factors.guards import factor_allocated
from cases.models import Blocker, PreworkItem, PreworkKind

from .factories import ask, land_item, open_ledger

pytestmark = pytest.mark.django_db


def test_an_item_asks_only_for_the_factors_of_its_kind(org):
    open_ledger(org, "energy")
    item = land_item(org)

    with pytest.raises(ValidationError) as refused:
        services.factor_request(item=item, factor="energy", year=2026, quantity="5", actor=org.secretariat.user)

    assert "factor" in refused.value.message_dict


def test_asking_a_ledger_that_is_not_open_says_so(org):
    item = land_item(org)

    with pytest.raises(ValidationError) as refused:
        services.factor_request(item=item, factor="land", year=2031, quantity="5", actor=org.secretariat.user)

    assert "2031" in refused.value.message_dict["year"][0]


def test_the_lead_unit_and_the_approving_bureau_ask_and_other_units_do_not(org):
    ledger = open_ledger(org)
    item = land_item(org)

    services.factor_request(item=item, factor="land", year=2026, quantity="5", actor=org.staff.user)
    services.factor_request(item=item, factor="land", year=2026, quantity="5", actor=org.dept_head.user)
    for person in (org.other_head, org.bank, org.owner, org.supervisor):
        with pytest.raises(PermissionDenied):
            services.factor_request(item=item, factor="land", year=ledger.year, quantity="5", actor=person.user)


def test_the_item_is_not_done_while_its_factor_is_not_allocated(org):
    ledger = open_ledger(org, received=Decimal("100"))
    request = ask(org, ledger, "20")
    item = PreworkItem.objects.prefetch_related("factor_requests__ledger").get(pk=request.item_id)

    reasons = factor_allocated(item)

    assert len(reasons) == 1 and "not allocated yet" in reasons[0] and "20 mu" in reasons[0]


def test_the_item_may_be_done_once_its_factor_is_allocated(org):
    ledger = open_ledger(org, received=Decimal("100"))
    request = ask(org, ledger, "20")
    services.request_allocate(request=request, actor=org.dept_head.user, reason="同意")

    assert factor_allocated(PreworkItem.objects.get(pk=request.item_id)) == []


def test_the_check_is_contributed_to_the_items_done_guard():
    assert factor_allocated in guards._contributed["prework_done"]


def test_marking_the_item_done_is_refused_while_its_factor_is_not_allocated(org):
    ledger = open_ledger(org, received=Decimal("100"))
    request = ask(org, ledger, "20")
    item = PreworkItem.objects.get(pk=request.item_id)
    item.done_on = datetime.date(2026, 10, 1)

    assert any("not allocated yet" in reason for reason in guards.prework_done(item))


def test_a_shortfall_is_raised_as_a_blocker_in_the_factors_category(org):
    ledger = open_ledger(org, "forest_land", received=Decimal("10"))
    item = land_item(org)
    request = services.factor_request(item=item, factor="forest_land", year=2026, quantity="14", actor=org.staff.user)

    blocker = services.shortfall_raise(request=request, actor=org.staff.user)

    assert (blocker.category, blocker.project_id) == ("forestry", org.project.pk)
    assert "4" in blocker.title and ledger.bureau.name in blocker.description


def test_no_blocker_is_raised_when_the_balance_covers_the_request(org):
    ledger = open_ledger(org, received=Decimal("100"))
    request = ask(org, ledger, "14")

    with pytest.raises(ValidationError):
        services.shortfall_raise(request=request, actor=org.staff.user)
    assert not Blocker.objects.exists()


def test_an_energy_review_and_an_eia_ask_their_ledgers(org):
    open_ledger(org, "energy")
    open_ledger(org, "nh3n")

    energy = services.factor_request(
        item=land_item(org, kind=PreworkKind.ENERGY), factor="energy", year=2026, quantity="5", actor=org.secretariat.user
    )
    eia = services.factor_request(
        item=land_item(org, kind=PreworkKind.EIA), factor="nh3n", year=2026, quantity="0.5", actor=org.secretariat.user
    )

    assert (str(energy.unit), str(eia.unit)) == ("tonnes of standard coal", "tonnes")
