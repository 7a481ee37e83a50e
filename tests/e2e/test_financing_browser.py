"""Financing needs in a real browser: the secretariat recommends a matched product's institution from
the need's page and lands on the docking it opened; a project owner finds its draft need through
the Financing menu and submits it for review."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.financing import matching
from cases.financing import services as financing_services
from cases.financing.models import Docking, FinancingNeed, NeedState
from cases.models import Stage
from tests.cases.factories import set_stage
from tests.cases.financing.factories import FinancialProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def need_of(org, project, actor, purpose):
    return financing_services.need_create(
        project=project,
        actor=actor,
        data={
            "amount": Decimal("30000000"),
            "financing_type": "loan",
            "purpose": purpose,
            "term_months": 60,
            "deadline": timezone.localdate() + datetime.timedelta(days=180),
            "collateral": "土地使用权抵押",
        },
    )


def test_the_secretariat_recommends_a_matched_product_from_the_needs_page(org, log_in):
    # Given a published need of the park's case that a product of the bank fits
    project = set_stage(org.project, Stage.DOCKING)
    need = need_of(org, project, org.secretariat.user, "新建智能产线设备购置")
    financing_services.need_transition(need=need, transition="submit", actor=org.secretariat.user)
    need = financing_services.need_transition(need=FinancingNeed.objects.get(pk=need.pk), transition="publish", actor=org.secretariat.user)
    product = FinancialProductFactory(institution=org.bank_unit, name="科技成果转化贷")
    matching.match_need(need)

    # When the secretariat opens the need, recommends the match with a note and confirms
    page = log_in(org.secretariat)
    page.goto(f"/financing/needs/{need.pk}/")
    page.locator(f"tr[data-match='{product.pk}']").get_by_role("link", name="Recommend", exact=True).click()
    page.wait_for_url(re.compile(rf"/financing/needs/{need.pk}/recommend/{product.pk}/$"))
    page.locator("textarea[name=note]").fill("该行有同类项目经验")
    page.locator("#need-recommend-confirm").click()

    # Then they are on the docking it opened, recommended, with the note on its trail
    page.wait_for_url(re.compile(r"/financing/dockings/\d+/$"))  # the POST is answered before the docking is read
    docking = Docking.objects.get(need=need)
    assert page.url.endswith(f"/financing/dockings/{docking.pk}/")
    expect(page.locator("#docking-state")).to_have_text("Recommended")
    expect(page.locator("#trail")).to_contain_text("该行有同类项目经验")

    # and the need's page shows the docking where the button was
    page.goto(f"/financing/needs/{need.pk}/")
    match = page.locator(f"tr[data-match='{product.pk}']")
    expect(match.locator(f"[data-match-docking='{docking.pk}']")).to_be_visible()
    expect(match.get_by_role("link", name="Recommend", exact=True)).to_have_count(0)


def test_an_owner_finds_its_draft_need_and_submits_it_for_review(org, log_in):
    # Given a draft the enterprise wrote for its case in financing docking
    project = set_stage(org.project, Stage.DOCKING)
    need = need_of(org, project, org.owner.user, "购置检测设备")

    # When the owner's person logs in, opens the Financing menu and its need
    page = log_in(org.owner)
    page.goto("/financing/")
    page.wait_for_url(re.compile(r"/financing/needs/own/$"))
    page.locator(f"tr[data-need='{need.pk}']").get_by_role("link").first.click()
    page.wait_for_url(re.compile(rf"/financing/needs/{need.pk}/$"))

    # and submits it for review
    page.locator("li.kp-transition[data-transition=submit]").get_by_role("link").click()
    page.locator("#need-transition-confirm").click()

    # Then the need waits for the secretariat's review
    page.wait_for_url(re.compile(rf"/financing/needs/{need.pk}/$"))
    expect(page.locator(".kp-badge[data-state]").first).to_have_attribute("data-state", NeedState.SUBMITTED)
    assert FinancingNeed.objects.get(pk=need.pk).state == NeedState.SUBMITTED
