"""Each role's working day in a real browser, in Chinese, from login to done, on a desktop and on a
390 x 844 phone: the page never scrolls sideways, and no string of the catalog shows untranslated.

head finds the park's monthly report on My work, takes it, is refused impossible figures in 万元
and submits; staff gives the park's input on a blocker; leader approves an interview from the home
page; supervisor filters the overdue board, issues an order with an urgency and an answer day and
is offered no second one; secretariat reads a red light's reason, edits the meeting without
retyping its date, publishes it and downloads its Word and PDF files; bank answers a docking and
sees its amount; owner writes its case's report and submits its financing need."""

import datetime
import re
from decimal import Decimal

import polib
import pytest
from django.conf import settings
from django.utils import timezone, translation
from playwright.sync_api import expect

from cases import services as case_services
from cases.financing import services as financing_services
from cases.financing.models import Docking, DockingState, FinancingNeed, NeedState
from cases.models import AnnualPlan, Blocker, PreworkItem, Stage
from tests.cases.factories import PreworkItemFactory, set_stage
from tests.e2e.conftest import TIMEOUT_MS, log_in_on
from workflow.coordination import launch
from workflow.coordination.flows import InterviewFlow, PreworkFlow
from workflow.coordination.models import Interview, SupervisionOrder
from workflow.engine.calendar import WorkingCalendar
from workflow.engine.models import TaskClock
from workflow.monthly import services as monthly_services
from workflow.monthly.models import Light, LightSnapshot, Meeting, MonthlyReport

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def catalog_strings():
    """The English strings of our catalogs a page could show untranslated: whole phrases (a space,
    at least ten letters, no placeholder), whose translation differs."""
    found = set()
    for name in ("django.po", "djangojs.po"):
        for entry in polib.pofile(str(settings.BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / name)):
            text = entry.msgid
            if entry.obsolete or "%" in text or "{" in text or "<" in text or " " not in text.strip():
                continue
            if len(text) >= 10 and entry.msgstr and entry.msgstr != text:
                found.add(text)
    return found


CATALOG = catalog_strings()


@pytest.fixture(autouse=True)
def _chinese(_english_unless_asked, settings):
    """What the setup writes (a task's subject, a notification) is written in Chinese, the city's
    language and the product's default, as it is when the records are made."""
    settings.LANGUAGE_CODE = "zh-hans"
    translation.activate("zh-hans")
    yield


@pytest.fixture(params=list(VIEWPORTS))
def zh(request, browser, live_server):
    """A Chinese-speaking browser at the parametrized size, with a check of every page it shows."""
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport=VIEWPORTS[request.param],
        extra_http_headers={"Accept-Language": "zh-hans"},
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def check(page):
    """The page as shown: no sideways scrolling, and nothing of the catalog left in English."""
    page.wait_for_load_state("networkidle")
    scroll, width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= width + 1, f"{page.url} scrolls sideways: {scroll} > {width}"
    text = page.locator("body").inner_text()
    english = sorted(phrase for phrase in CATALOG if phrase in text)
    assert english == [], f"{page.url} shows untranslated: {english} in {[line for line in text.splitlines() if any(e in line for e in english)]}"


def log_in(page, person):
    log_in_on(page, person)
    check(page)
    return page


def open_my_work_from_home(page, count):
    page.goto("/")
    link = page.locator(f"[data-my-work='{count}'] a.kp-my-work-counts__total")
    expect(link).to_contain_text(f"我的待办：{count} 项待办理")
    link.click()
    page.wait_for_url(re.compile(r"/my-work/$"))
    check(page)


def take(page, task_pk):
    item = page.locator(f"li[data-task='{task_pk}']")
    item.get_by_role("button", name="领取并办理").click()
    page.wait_for_url(re.compile(rf"/{task_pk}/execute/$"))
    check(page)


def execute(page):
    page.get_by_role("button", name="办理", exact=True).click()


# The unit: a monthly report in 万元, a blocker input


@pytest.fixture
def report(org):
    set_stage(
        org.project, Stage.CONSTRUCTION, total_investment=Decimal("5000000"),
        investment_completed_total=Decimal("1000000"), capital_gap=Decimal("0"),
    )
    AnnualPlan.objects.update_or_create(project=org.project, year=timezone.localdate().year, defaults={"planned_investment": Decimal("2000000")})
    month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    monthly_services.reports_open(month=month)
    return MonthlyReport.objects.get(project=org.project, month=month)


def write_report(page, report):
    task = report.process.task_set.get(flow_task__endswith="write")
    take(page, task.pk)
    amount = page.locator("input[name=investment_month]")
    # 500 万元 would take the case past its total investment of 500 万元 (100 万元 done already)
    amount.fill("500")
    page.locator("input[name=progress_percent]").fill("35")
    page.locator("textarea[name=work_done]").fill("主体结构封顶")
    page.locator("#submit-report").click()
    expect(page.get_by_text("将超过总投资")).to_be_visible()
    amount.fill("-5")
    page.locator("#submit-report").click()
    expect(page.get_by_text("金额不能为负数。")).to_be_visible()
    assert MonthlyReport.objects.get(pk=report.pk).state == MonthlyReport.State.OPEN
    amount.fill("45")
    page.locator("#submit-report").click()
    page.wait_for_url(re.compile(r"/my-work/$"))
    check(page)
    submitted = MonthlyReport.objects.get(pk=report.pk)
    assert submitted.state == MonthlyReport.State.SUBMITTED and submitted.investment_month == Decimal("450000")
    return submitted


def test_head_takes_the_parks_report_from_my_work_and_submits_it_in_wan(org, report, zh):
    page = log_in(zh, org.head)
    open_my_work_from_home(page, 1)
    expect(page.locator("li.kp-work-item")).to_contain_text("填写月报")
    submitted = write_report(page, report)
    assert submitted.submitted_by == org.head.user
    expect(page.locator("li.kp-work-item")).to_have_text("目前没有待您办理的事项。")


def test_staff_gives_the_parks_input_on_a_blocker(org, zh):
    set_stage(org.project, Stage.PREWORK)
    reported = case_services.blocker_report(project=org.project, actor=org.secretariat.user, data={"title": "用地指标不足", "category": "land"})
    case_services.blocker_transition(
        blocker=Blocker.objects.select_related("project").get(pk=reported.pk), transition="assign",
        actor=org.secretariat.user, fields={"lead_unit": org.department, "cooperating_units": [org.park]},
    )
    page = log_in(zh, org.staff)
    open_my_work_from_home(page, 1)
    task_pk = int(page.locator("li.kp-work-item").first.get_attribute("data-task"))
    take(page, task_pk)
    page.locator("textarea[name=text]").fill("高新区可调剂用地指标 50 亩")
    execute(page)
    page.wait_for_url(re.compile(r"/my-work/$"))
    check(page)
    assert Blocker.objects.get(pk=reported.pk).inputs.filter(text="高新区可调剂用地指标 50 亩").exists()


# The leader: an interview to approve


def test_leader_approves_an_interview_from_the_home_page(org, zh):
    interview = launch.propose_interview(
        project=org.other_project, leader=org.other_leader, reason="项目推进滞后", actor=org.supervisor.user
    )
    page = log_in(zh, org.leader)
    open_my_work_from_home(page, 1)
    approve = interview.process.task_set.get(flow_task=InterviewFlow.approve)
    expect(page.locator(f"li[data-task='{approve.pk}']")).to_contain_text("审批约谈提请")
    take(page, approve.pk)
    page.locator("input[name=approved][value='1']").check()
    execute(page)
    page.wait_for_url(re.compile(r"/my-work/$"))
    check(page)
    assert Interview.objects.get(pk=interview.pk).state == Interview.State.APPROVED


# The supervisor: the board, an order with its urgency and answer day, no second one


def overdue_approval(org):
    set_stage(org.project, Stage.PREWORK)
    item = PreworkItemFactory(project=org.project, approving_unit=org.park, statutory_days=5)
    launch.start_prework_flow(PreworkItem.objects.select_related("project").get(pk=item.pk))
    clock = TaskClock.objects.get(task__flow_task=PreworkFlow.approve)
    cal = WorkingCalendar.load()
    started_at = timezone.now() - datetime.timedelta(days=30)
    TaskClock.objects.filter(pk=clock.pk).update(started_at=started_at, due_at=cal.add_working_days(started_at, clock.working_days))
    return clock


def test_supervisor_filters_the_board_and_issues_one_order_with_urgency_and_answer_day(org, zh):
    clock = overdue_approval(org)
    page = log_in(zh, org.supervisor)
    page.goto(f"/workflow/overdue/?unit={org.park.pk}")
    check(page)
    row = page.locator(f"tr[data-clock='{clock.pk}']")
    expect(row).to_contain_text(org.project.code)
    row.get_by_role("link", name="下发督办单").click()
    page.wait_for_url(re.compile(r"/order/"))
    check(page)
    page.locator("input[name=subject]").fill("用地预审超期，请限期办结")
    answer_day = WorkingCalendar.load().add_working_days_to_date(timezone.localdate(), 3)
    page.locator("input[name=respond_by]").fill(answer_day.isoformat())
    page.locator("vf-field-select[name=urgency] .mdc-select__anchor").click()
    page.locator("vf-field-select[name=urgency] li[data-value='2']").click()
    expect(page.locator("vf-field-select[name=urgency] .mdc-select__selected-text")).to_have_text("紧急")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/workflow/orders/\d+/$"))
    check(page)
    order = SupervisionOrder.objects.get()
    assert order.urgency == SupervisionOrder.Urgency.URGENT and order.clock_id == clock.pk
    assert WorkingCalendar.deadline_day(order.respond_by) == answer_day
    page.goto(f"/workflow/overdue/?unit={org.park.pk}")
    row = page.locator(f"tr[data-clock='{clock.pk}']")
    expect(row).to_contain_text("督办单办理中")
    expect(row.get_by_role("link", name="下发督办单")).to_have_count(0)


# The secretariat: a red light's reason, the meeting edited without retyping its date, published, its files


def test_secretariat_reads_a_red_reason_edits_and_publishes_the_meeting_and_downloads_its_files(org, zh, tmp_path):
    # Given last month's red light of the park's case: red for its lag, which also passed the yellow rule
    period = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    set_stage(org.project, Stage.CONSTRUCTION)
    LightSnapshot.objects.create(
        project=org.project, month=period, light=Light.RED, expected_progress=Decimal("83.33"),
        completed_progress=Decimal("40"), lag=Decimal("43.33"), forecast=Light.RED, computed_at=timezone.now(),
        reasons=[
            {"measure": "lag", "value": "43.33", "threshold": "30", "comparison": "gt", "light": "red"},
            {"measure": "lag", "value": "43.33", "threshold": "10", "comparison": "gt", "light": "yellow"},
        ],
    )
    page = log_in(zh, org.secretariat)
    expect(page.locator(".kp-home-lines")).to_contain_text("月度调度")

    # the lights page gives the red reason alone
    page.goto(f"/workflow/lights/?month={period:%Y-%m}")
    check(page)
    reasons = page.locator(f"tr[data-project='{org.project.code}'] [data-reasons] li")
    expect(reasons).to_have_count(1)
    expect(reasons.first).to_contain_text("30")

    # drafts the month's meeting, edits its details without retyping the date, and publishes it
    page.goto("/workflow/meetings/")
    page.locator("#draft-month").fill(f"{period:%Y-%m}")
    page.locator("#draft-agenda-submit").click()
    page.wait_for_url(re.compile(r"/workflow/meetings/\d+/$"))
    check(page)
    meeting = Meeting.objects.get(month=period)
    page.goto(f"/workflow/meetings/{meeting.pk}/edit/")
    check(page)
    expect(page.locator("input[name=scheduled_at]")).not_to_have_value("")
    page.locator("input[name=place]").fill("市政府第一会议室")
    page.locator("#meeting-details-save").click()
    page.wait_for_url(re.compile(rf"/workflow/meetings/{meeting.pk}/$"))
    saved = Meeting.objects.get(pk=meeting.pk)
    assert saved.place == "市政府第一会议室" and saved.scheduled_at == meeting.scheduled_at
    page.locator("#publish-meeting").click()
    expect(page.locator("#meeting-state")).to_have_attribute("data-state", "published")
    check(page)

    # and downloads the agenda as Word and as PDF
    for link, name in (("#agenda-docx", "agenda.docx"), ("#agenda-pdf", "agenda.pdf")):
        with page.expect_download() as download:
            page.locator(link).click()
        download.value.save_as(tmp_path / name)
    import docx
    from pypdf import PdfReader

    assert saved.number in "\n".join(paragraph.text for paragraph in docx.Document(tmp_path / "agenda.docx").paragraphs)
    assert saved.number in "".join(pdf_page.extract_text() for pdf_page in PdfReader(tmp_path / "agenda.pdf").pages)


# The bank: a docking answered, with its amount


def test_bank_answers_a_docking_from_my_work_and_sees_its_amount(org, zh):
    set_stage(org.project, Stage.DOCKING, capital_gap=Decimal("30000000"))
    docking = financing_services.docking_create(project=org.project, institution=org.bank_unit, actor=org.secretariat.user)
    page = log_in(zh, org.bank)
    page.wait_for_url(re.compile(r"/financing/portal/$"))
    expect(page.locator(f"tr[data-docking='{docking.pk}']")).to_contain_text("3,000.00")
    page.locator("[data-my-work='1'] a.kp-my-work-counts__total").click()
    page.wait_for_url(re.compile(r"/my-work/$"))
    check(page)
    item = page.locator(f"li[data-docking='{docking.pk}']")
    expect(item).to_contain_text("3,000.00 万元")
    item.get_by_role("link", name="去办理").click()
    page.wait_for_url(re.compile(rf"/financing/dockings/{docking.pk}/$"))
    check(page)
    page.locator("#step-contact-submit").click()
    expect(page.locator("#docking-state")).to_have_text("已接洽")
    check(page)
    assert Docking.objects.get(pk=docking.pk).state == DockingState.CONTACTED


# The owner: its case's report, and its financing need


def test_owner_writes_its_cases_report_and_submits_its_financing_need(org, report, zh):
    other = set_stage(org.other_project, Stage.DOCKING)
    other.owner = org.enterprise
    other.save(update_fields=["owner"])
    need = financing_services.need_create(
        project=other, actor=org.owner.user,
        data={
            "amount": Decimal("30000000"), "financing_type": "loan", "purpose": "购置检测设备", "term_months": 60,
            "deadline": timezone.localdate() + datetime.timedelta(days=180), "collateral": "土地使用权抵押",
        },
    )
    page = log_in(zh, org.owner)
    open_my_work_from_home(page, 1)
    submitted = write_report(page, report)
    assert submitted.submitted_by == org.owner.user
    page.goto(f"/financing/needs/{need.pk}/")
    check(page)
    page.locator("li.kp-transition[data-transition=submit]").get_by_role("link").click()
    page.locator("#need-transition-confirm").click()
    page.wait_for_url(re.compile(rf"/financing/needs/{need.pk}/$"))
    check(page)
    assert FinancingNeed.objects.get(pk=need.pk).state == NeedState.SUBMITTED
