"""The secretariat accepts the month's submitted reports together in a real browser: it ticks
two on the status page, then takes all that are left, and reads the outcome of each."""

import pytest
from playwright.sync_api import expect

from cases.models import KeyProject
from tests.workflow.monthly.test_reports_accept_many import make_submitted  # noqa: F401 - the fixture
from workflow.monthly.models import MonthlyReport

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_secretariat_accepts_ticked_reports_then_all_the_rest(org, log_in, make_submitted):  # noqa: F811
    # Given three submitted reports on October
    first, second, third = make_submitted(3)
    codes = dict(MonthlyReport.objects.filter(pk__in=[first, second, third]).values_list("pk", "project__code"))

    # When the secretariat ticks two on the status page and accepts them
    page = log_in(org.secretariat)
    page.goto("/workflow/reports/?month=2026-10")
    page.get_by_role("checkbox", name=f"Accept the report of {codes[first]}").check()
    page.get_by_role("checkbox", name=f"Accept the report of {codes[second]}").check()
    page.get_by_role("button", name="Accept the ticked reports").click()

    # Then the page says both were accepted, and only the third is left to tick
    expect(page.locator("#acceptance [data-accepted]")).to_have_text("2 of 2 accepted")
    expect(page.locator("#report-table input[name=report]")).to_have_count(1)

    # When it accepts all that the filter still finds
    page.get_by_role("button", name="Accept the 1 submitted report of this filter").click()

    # Then the third is accepted too, each case holding its own month's investment
    expect(page.locator("#acceptance [data-accepted]")).to_have_text("1 of 1 accepted")
    expect(page.locator("#report-table input[name=report]")).to_have_count(0)
    assert set(MonthlyReport.objects.values_list("state", flat=True)) == {MonthlyReport.State.ACCEPTED}
    totals = sorted(KeyProject.objects.filter(monthly_reports__isnull=False).values_list("investment_completed_total", flat=True))
    assert [str(total) for total in totals] == ["1100000.00", "1101000.00", "1102000.00"]
