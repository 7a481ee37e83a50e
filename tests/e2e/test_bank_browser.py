"""A bank in a real browser: its person logs in, lands on the institution portal, finds a need on
the white list, expresses interest, moves the docking to approved credit with its amounts, and
cannot open another bank's docking by its address."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.financing import services as financing_services
from cases.financing.models import Docking, DockingState, FinancingNeed
from cases.models import Stage, UnitKind
from tests.cases.factories import UnitFactory, set_stage

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def published_need(org, project, amount, purpose):
    need = financing_services.need_create(
        project=project,
        actor=org.secretariat.user,
        data={
            "amount": Decimal(amount),
            "financing_type": "loan",
            "purpose": purpose,
            "term_months": 60,
            "deadline": timezone.localdate() + datetime.timedelta(days=180),
            "collateral": "土地使用权抵押",
        },
    )
    financing_services.need_transition(need=need, transition="submit", actor=org.secretariat.user)
    return financing_services.need_transition(
        need=FinancingNeed.objects.get(pk=need.pk), transition="publish", actor=org.secretariat.user
    )


def take_step(page, name, amount=None):
    if amount is not None:
        page.locator(f"input[name='{name}-{'intent_amount' if name == 'sign_intent' else 'credit_approved_amount'}']").fill(amount)
    page.locator(f"#step-{name}-submit").click()


def test_a_bank_docks_a_need_to_approved_credit_and_cannot_open_another_banks_docking(org, log_in):
    # Given a need of the park's case on the white list, and another bank docking a need of another case
    project = set_stage(org.project, Stage.DOCKING)
    need = published_need(org, project, "30000000", "新建智能产线设备购置")
    other_project = set_stage(org.other_project, Stage.DOCKING)
    other_need = published_need(org, other_project, "8000000", "仓储扩建")
    other_bank = UnitFactory(name="城市商业银行", kind=UnitKind.INSTITUTION)
    other_docking = financing_services.docking_create(need=other_need, institution=other_bank, actor=org.secretariat.user)

    # When the bank's person logs in, the portal is their home
    page = log_in(org.bank)
    page.wait_for_url(re.compile(r"/financing/portal/$"))
    expect(page.locator("h1.vf-card__title").first).to_have_text("Institution portal")

    # they open the white list and find the need by its case
    page.locator("#portal").get_by_role("link", name="White list").click()
    page.wait_for_url(re.compile(r"/financing/portal/needs/$"))
    row = page.locator(f"tr[data-need='{need.pk}']")
    expect(row).to_contain_text(project.name)
    expect(row).to_contain_text("3,000.00")
    row.get_by_role("link", name=project.name).click()
    page.wait_for_url(re.compile(rf"/financing/portal/needs/{need.pk}/$"))
    expect(page.locator("#need")).to_contain_text("新建智能产线设备购置")

    # and express interest: a docking opens, and its page is where they move it forward
    page.locator("#express-interest").click()
    page.wait_for_url(re.compile(r"/financing/dockings/\d+/$"))
    docking = Docking.objects.get(need=need, institution=org.bank_unit)
    assert page.url.endswith(f"/financing/dockings/{docking.pk}/")
    expect(page.locator("#docking-state")).to_have_text("Recommended")

    take_step(page, "contact")
    expect(page.locator("#docking-state")).to_have_text("Contacted")
    take_step(page, "start_due_diligence")
    expect(page.locator("#docking-state")).to_have_text("Due diligence")
    take_step(page, "sign_intent", "2000")
    expect(page.locator("#docking-state")).to_have_text("Intent signed")
    take_step(page, "approve_credit", "1800")
    expect(page.locator("#docking-state")).to_have_text("Credit approved")
    expect(page.locator("[data-step='credit_approved'] .kp-funnel__amount")).to_contain_text("1,800.00")

    # Then the docking holds the amounts, each step audited as the bank's person
    docking.refresh_from_db()
    assert docking.state == DockingState.CREDIT_APPROVED
    assert (docking.intent_amount, docking.credit_approved_amount) == (Decimal("20000000.00"), Decimal("18000000.00"))
    # and the portal lists it with its credit
    page.goto("/financing/portal/dockings/")
    expect(page.locator(f"tr[data-docking='{docking.pk}']")).to_contain_text("1,800.00")

    # and another bank's docking cannot be opened by its address, in a page or through the API
    response = page.goto(f"/financing/dockings/{other_docking.pk}/")
    assert response.status == 404
    expect(page.locator("body")).not_to_contain_text("城市商业银行")
    assert page.request.get(f"/api/dockings/{other_docking.pk}/").status == 404
    # nor is it among theirs
    page.goto("/financing/portal/dockings/")
    expect(page.locator(f"tr[data-docking='{other_docking.pk}']")).to_have_count(0)
