"""The monthly cycle in a real browser: a unit head finds the month's report in the park's
queue and submits it with a photo and a problem raised as a blocker; the secretariat drafts
the meeting's agenda, moves an item, publishes it and downloads the Word file."""

import datetime
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from cases.models import AnnualPlan, Blocker, KeyProject, Stage
from tests.cases.factories import set_stage
from workflow.monthly import selectors, services
from workflow.monthly.models import MonthlyReport, ReportAttachment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
OCTOBER = datetime.date(2026, 10, 1)


def test_unit_head_submits_the_monthly_report_with_a_photo_and_a_blocker(org, log_in, tmp_path, settings):
    # Given the park's case under construction and the month's report tasks created
    settings.MEDIA_ROOT = tmp_path
    project = set_stage(
        org.project, Stage.CONSTRUCTION, total_investment=Decimal("8000000"),
        investment_completed_total=Decimal("2000000"), capital_gap=Decimal("0"),
    )
    AnnualPlan.objects.update_or_create(project=project, year=2026, defaults={"planned_investment": Decimal("3000000")})
    services.reports_open(month=OCTOBER)
    report = MonthlyReport.objects.get(project=project)
    task = selectors.open_task_of(report, "write")
    task_link = f"#{task.process_id}/{task.pk}"
    photo = tmp_path / "site.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)

    # When the head opens the park's queue, takes the report and fills it in
    page = log_in(org.head)
    page.goto("/workflow/queue/")
    row = page.locator("tr").filter(has=page.get_by_role("link", name=task_link, exact=True))
    expect(row).to_contain_text("Write the monthly report")
    row.get_by_role("link", name=task_link, exact=True).click()
    page.get_by_role("button", name="Assign and continue").click()
    page.wait_for_url(re.compile(rf"/report/{task.process_id}/write/{task.pk}/execute/"))
    page.locator("input[name=investment_month]").fill("-5")
    page.locator("input[name=progress_percent]").fill("35")
    page.locator("textarea[name=work_done]").fill("主体结构封顶")
    page.locator("#submit-report").click()
    # an impossible figure is refused on the page, and nothing is submitted
    expect(page.get_by_text("An amount cannot be negative.")).to_be_visible()
    assert MonthlyReport.objects.get(pk=report.pk).state == MonthlyReport.State.OPEN
    page.locator("input[name=investment_month]").fill("45")  # 万元: 450,000 yuan
    page.locator("#id_attachments").set_input_files(str(photo))
    page.locator("input[name='blockers-0-title']").fill("电力接入迟滞")
    page.locator("textarea[name='blockers-0-description']").fill("供电公司未答复接入方案")
    page.locator("#submit-report").click()

    # Then he is back on his work, and the report waits for the secretariat's review
    page.wait_for_url(re.compile(r"/my-work/$"))
    submitted = MonthlyReport.objects.get(pk=report.pk)
    assert submitted.state == MonthlyReport.State.SUBMITTED and submitted.investment_month == Decimal("450000")
    assert ReportAttachment.objects.get(report=submitted).kind == ReportAttachment.Kind.PHOTO
    assert Blocker.objects.get(title="电力接入迟滞").project_id == project.pk
    page.goto(f"/workflow/reports/{report.pk}/")
    expect(page.locator("dd[data-state]")).to_have_text("Submitted")
    expect(page.get_by_role("link", name="site.png")).to_be_visible()
    expect(page.get_by_role("link", name="电力接入迟滞")).to_be_visible()
    # the case's investment waits for the acceptance
    assert KeyProject.objects.get(pk=project.pk).investment_completed_total == Decimal("2000000")


def test_secretariat_drafts_the_agenda_moves_an_item_publishes_it_and_downloads_the_word_file(org, log_in, tmp_path):
    # Given two red cases in October, with their reasons
    from django.utils import timezone

    from workflow.monthly.models import Light, LightSnapshot, Meeting

    red = [
        set_stage(org.project, Stage.CONSTRUCTION),
        set_stage(org.other_project, Stage.CONSTRUCTION),
    ]
    for project, lag in zip(red, ("35.00", "42.00"), strict=True):
        LightSnapshot.objects.create(
            project=project, month=OCTOBER, light=Light.RED, expected_progress=Decimal("83.33"),
            completed_progress=Decimal("40"), lag=Decimal(lag), forecast=Light.RED, computed_at=timezone.now(),
            reasons=[{"measure": "lag", "value": lag, "threshold": "30", "comparison": "gt", "light": "red"}],
        )

    # When the secretariat drafts October's agenda
    page = log_in(org.secretariat)
    page.goto("/workflow/meetings/")
    page.locator("#draft-month").fill("2026-10")
    page.locator("#draft-agenda-submit").click()
    page.wait_for_url(re.compile(r"/workflow/meetings/\d+/$"))
    meeting = Meeting.objects.get(month=OCTOBER)
    items = page.locator("section[data-section=red] .kp-agenda__item")
    expect(items).to_have_count(2)
    first, second = items.nth(0).get_attribute("data-item"), items.nth(1).get_attribute("data-item")
    # moves the first red project down
    page.locator(f"#item-{first}-down").click()
    expect(items.first).to_have_attribute("data-item", second)
    # and publishes it
    page.locator("#publish-meeting").click()
    expect(page.locator("#meeting-state")).to_have_attribute("data-state", "published")

    # Then the Word file has the agenda in its new order
    with page.expect_download() as download:
        page.locator("#agenda-docx").click()
    path = tmp_path / "agenda.docx"
    download.value.save_as(path)
    import docx

    text = "\n".join(paragraph.text for paragraph in docx.Document(path).paragraphs)
    tables = "\n".join(cell.text for table in docx.Document(path).tables for row in table.rows for cell in row.cells)
    everything = text + "\n" + tables
    assert meeting.number in everything
    from workflow.monthly.models import AgendaItem

    moved_down, moved_up = (AgendaItem.objects.get(pk=pk).project.code for pk in (first, second))
    assert everything.index(moved_up) < everything.index(moved_down)
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.PUBLISHED and meeting.published_at is not None
