import datetime
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import browser, log_in, page  # noqa: F401
from cases.models import AnnualPlan, Stage
from tests.cases.factories import set_stage
from workflow.monthly import meetings, selectors, services
from workflow.monthly.models import MonthlyReport

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_probe_meeting(org, log_in, browser, live_server):
    meeting = meetings.meeting_draft(month=datetime.date(2026, 10, 1))
    p = log_in(org.secretariat)
    p.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_server.url}])
    p.goto(f"/workflow/meetings/{meeting.pk}/edit/")
    inp = p.locator("input[name=scheduled_at]")
    print("TYPE", inp.get_attribute("type"), "VALUE", inp.input_value(), "STORED", meeting.scheduled_at)
    p.screenshot(path="/tmp/probe/meeting.png", full_page=True)
    p.locator("#meeting-details-save").click()
    p.wait_for_url(re.compile(rf"/workflow/meetings/{meeting.pk}/$"))
    meeting.refresh_from_db()
    print("AFTER", meeting.scheduled_at)


def test_probe_report(org, log_in, live_server):
    project = set_stage(org.project, Stage.CONSTRUCTION, total_investment=Decimal("8000000"),
                        investment_completed_total=Decimal("2000000"), capital_gap=Decimal("0"))
    AnnualPlan.objects.update_or_create(project=project, year=2026, defaults={"planned_investment": Decimal("3000000")})
    services.reports_open(month=datetime.date(2026, 10, 1))
    report = MonthlyReport.objects.get(project=project)
    task = selectors.open_task_of(report, "write")
    from workflow.engine import services as es
    es.claim_task(task=task, user=org.head.user)
    p = log_in(org.head)
    p.goto(f"/workflow/flows/report/{task.process_id}/write/{task.pk}/execute/")
    p.locator("input[name=investment_month]").fill("1,234.5")
    p.locator("input[name=progress_percent]").fill("35")
    p.locator("textarea[name=work_done]").fill("x")
    p.locator("#submit-report").click()
    p.screenshot(path="/tmp/probe/report.png", full_page=True)
    print("ERR", p.locator(".mdc-text-field-helper-text, .vf-field__helptext, [role=alert]").all_inner_texts())
    print("VALUE", p.locator("input[name=investment_month]").input_value())
