"""The annual plan in a real browser, in Chinese: a unit head takes the park's task "propose
projects" from My work, proposes a reserve case for next year (a start outside the year refused
on the page), submits; the secretariat sends one proposal back with a reason, accepts the other,
publishes the key list, opens an adjustment window and re-plans a case, and reads the difference."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.cases.factories import KeyProjectFactory
from tests.e2e.conftest import TIMEOUT_MS, log_in_on
from workflow.planning import services
from workflow.planning.models import PlanCompilation, PlanEntry, PlanProposal, PlanVersion

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def chinese_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


def test_a_unit_proposes_and_the_secretariat_sends_back_publishes_and_adjusts(org, browser, live_server):
    # Given next year's compilation open, and the park leading two reserve cases
    today = timezone.localdate()
    year = today.year + 1
    second = KeyProjectFactory(code="2026-GX-0100", name="智能装备产业园", lead_unit=org.park)
    services.compilation_open(actor=org.secretariat.user, year=year, deadline=today + datetime.timedelta(days=20),
                              target_total=Decimal("100000000"))
    context, page = chinese_page(browser, live_server)

    # When the park's head takes the task from My work and proposes the first case
    log_in_on(page, org.head)
    page.goto("/my-work/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    item = page.locator("li.kp-work-item").filter(has_text=str(year))
    item.locator("form button[type=submit]").click()
    page.locator("#edit-proposals").click()
    page.wait_for_url(re.compile(r"/planning/propose/"))
    form = page.locator("#proposal-form")
    form.locator("select[name=project]").select_option(str(org.project.pk))
    form.locator("input[name=planned_year]").fill("3,000")
    form.locator("input[name=planned_next]").fill("2000")
    form.locator("input[name=planned_after]").fill("1000")
    form.locator("input[name=planned_start]").fill(f"{year + 1}-02-01")
    page.locator("#proposal-submit").click()
    # a start outside the year is refused on the page, and nothing is saved
    expect(page.locator("[data-error=planned_start]")).to_contain_text(str(year))
    assert not PlanProposal.objects.exists()
    page.locator("#proposal-form input[name=planned_start]").fill(f"{year}-03-01")
    page.locator("#proposal-submit").click()
    expect(page.locator(f"#our-proposal-list tr[data-code='{org.project.code}']")).to_be_visible()
    form.locator("select[name=project]").select_option(str(second.pk))
    form.locator("input[name=planned_year]").fill("1500")
    form.locator("input[name=planned_next]").fill("0")
    form.locator("input[name=planned_after]").fill("0")
    form.locator("input[name=planned_start]").fill(f"{year}-06-01")
    page.locator("#proposal-submit").click()
    expect(page.locator(f"#our-proposal-list tr[data-code='{second.code}']")).to_be_visible()
    # and submits them from the task
    page.goto("/my-work/")
    page.locator("li.kp-work-item").filter(has_text=str(year)).locator("a.mdc-button--raised").click()
    page.locator("button.mdc-card__action.mdc-button--raised").click()
    page.wait_for_url(re.compile(r"/my-work/"))
    assert set(PlanProposal.objects.values_list("state", flat=True)) == {PlanProposal.State.SUBMITTED}
    context.close()

    # Then the secretariat sends the second back with a reason and accepts the first
    context, page = chinese_page(browser, live_server)
    log_in_on(page, org.secretariat)
    page.goto(f"/planning/compilation/?year={year}")
    back = page.locator(f"#proposals tr[data-code='{second.code}']")
    back.locator("input[name=reason]").fill("前期工作不足，请核实开工时间")
    back.locator("button[value=return]").click()
    expect(page.locator(f"#proposals tr[data-code='{second.code}']")).to_have_attribute("data-state", "returned")
    page.locator(f"#proposals tr[data-code='{org.project.code}'] button[value=accept]").click()
    expect(page.locator(f"#proposals tr[data-code='{org.project.code}']")).to_have_attribute("data-state", "accepted")
    # publishes the key list
    page.locator("#publish-submit").click()
    expect(page.locator("#versions li[data-version='1']")).to_be_visible()
    assert PlanCompilation.objects.get(year=year).state == PlanCompilation.State.PUBLISHED
    # opens an adjustment window and re-plans the case, with a reason
    page.locator("#adjustment-window input[name=adjust_from]").fill(today.isoformat())
    page.locator("#adjustment-window input[name=adjust_to]").fill((today + datetime.timedelta(days=10)).isoformat())
    page.locator("#window-submit").click()
    page.locator("#adjust").click()
    adjust = page.locator("#adjust-form")
    adjust.locator("select[name=change]").select_option("replanned")
    adjust.locator("select[name=project]").select_option(str(org.project.pk))
    adjust.locator("input[name=planned_year]").fill("2800")
    adjust.locator("input[name=planned_next]").fill("2200")
    adjust.locator("input[name=planned_after]").fill("1000")
    adjust.locator("input[name=planned_start]").fill(f"{year}-03-01")
    adjust.locator("input[name=reason]").fill("市级资金安排调整")
    page.locator("#adjust-submit").click()
    # and reads the difference between version 1 and 2
    page.wait_for_url(re.compile(r"/planning/diff/"))
    expect(page.locator(f"ul[data-diff=changed] li[data-code='{org.project.code}']")).to_contain_text("3,000.00 → 2,800.00")
    version = PlanVersion.objects.get(number=2)
    assert version.change == PlanVersion.Change.REPLANNED and version.reason == "市级资金安排调整"
    assert PlanEntry.objects.get(version=version).planned_year == Decimal("28000000")
    context.close()


def test_the_check_page_fits_a_phone(org, browser, live_server):
    # Given next year's compilation with a proposal, on a 390 px phone in Chinese
    today = timezone.localdate()
    compilation = services.compilation_open(actor=org.secretariat.user, year=today.year + 1,
                                            deadline=today + datetime.timedelta(days=20), target_total=Decimal("100000000"))
    services.proposal_save(actor=org.head.user, compilation_id=compilation.pk, project_id=org.project.pk, data={
        "planned_year": Decimal("30000000"), "planned_next": Decimal("0"), "planned_after": Decimal("0"),
        "planned_start": datetime.date(compilation.year, 3, 1)})
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 844})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    log_in_on(page, org.secretariat)
    # When the secretariat opens the check page
    page.goto(f"/planning/compilation/?year={compilation.year}")
    expect(page.locator("#plan-check")).to_be_visible()
    # Then the page itself does not scroll sideways (wide tables scroll in their own box)
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
    context.close()
