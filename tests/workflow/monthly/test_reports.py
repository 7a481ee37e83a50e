"""Monthly reports: created in bulk and idempotently, resumed after a crash, a flow per case at a
bounded number of queries, validation of impossible figures, problems raised as blockers, photos
and files, review and the investment an accepted report adds; pages, API and who may see what."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from bench.city import build_city
from cases.models import ACTIVE_STAGES, AnnualPlan, AuditEvent, Blocker, KeyProject, Stage
from tests.cases.factories import set_stage
from workflow.engine import services as engine_services
from workflow.engine.models import TaskClock, TaskKind
from workflow.monthly import launch, reports, selectors
from workflow.monthly import services as monthly_services
from workflow.monthly.models import MonthlyReport, ReportAttachment, ReportProcess

D = datetime.date
OCTOBER = D(2026, 10, 1)
TODAY = timezone.make_aware(datetime.datetime(2026, 11, 2, 9))  # the first working day of November


@pytest.fixture
def case(org):
    set_stage(
        org.project, Stage.CONSTRUCTION, total_investment=Decimal("5000000"), investment_completed_total=Decimal("1000000"),
        capital_gap=Decimal("0"),
    )
    AnnualPlan.objects.update_or_create(
        project=org.project, year=2026, defaults={"planned_investment": Decimal("2000000"), "completed_investment": Decimal("400000")}
    )
    set_stage(org.other_project, Stage.RESERVE)
    return org.project


@pytest.fixture
def opened(case, django_capture_on_commit_callbacks):
    with time_machine.travel(TODAY, tick=False), django_capture_on_commit_callbacks(execute=True):
        monthly_services.reports_open(month=OCTOBER)
    return MonthlyReport.objects.get(project=case, month=OCTOBER)


def write_task(report):
    return selectors.open_task_of(MonthlyReport.objects.get(pk=report.pk), "write")


def review_task(report):
    return selectors.open_task_of(MonthlyReport.objects.get(pk=report.pk), "review")


GOOD = {
    "investment_month": Decimal("300000"),
    "progress_percent": Decimal("40"),
    "progress_back_reason": "",
    "work_done": "Main structure to the 12th floor.",
    "next_steps": "Curtain wall.",
    "problems": "",
    "support_needed": "",
}


# Creating the reports


def test_opening_creates_one_report_per_active_case_for_its_lead_unit_due_on_the_fifth_working_day(
    org, case, django_capture_on_commit_callbacks
):
    with time_machine.travel(TODAY, tick=False), django_capture_on_commit_callbacks(execute=True):
        result = monthly_services.reports_open(month=OCTOBER)
    report = MonthlyReport.objects.get()
    assert result == {"created": 1, "pending": 1, "batches": 1}
    assert (report.project, report.unit, report.state) == (case, org.park, MonthlyReport.State.OPEN)
    # November 2026: the 2nd is the first working day, so the fifth is Friday the 6th.
    assert timezone.localtime(report.due_at) == timezone.make_aware(datetime.datetime(2026, 11, 7))  # the end of the 6th
    clock = TaskClock.objects.get(project=case, kind=TaskKind.REPORT)
    assert clock.unit == org.park and clock.due_at == report.due_at
    assert clock.next_fire_at is not None  # the ladder applies to it like to any task
    assert write_task(report).owner_permission == f"workflow.unit_task_{org.park.pk}"


def test_opening_twice_creates_nothing_twice(case, django_capture_on_commit_callbacks):
    with time_machine.travel(TODAY, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            monthly_services.reports_open(month=OCTOBER)
        again = monthly_services.reports_open(month=OCTOBER)
    assert again == {"created": 0, "pending": 0, "batches": 0}
    assert MonthlyReport.objects.count() == ReportProcess.objects.count() == 1


def test_a_batch_delivered_twice_starts_each_flow_once(case):
    monthly_services.reports_open(month=OCTOBER, enqueue=False)
    ids = list(MonthlyReport.objects.values_list("pk", flat=True))
    assert launch.start_report_flows(ids) == 1
    assert launch.start_report_flows(ids) == 0
    assert ReportProcess.objects.count() == 1


def test_a_crash_in_a_batch_is_resumed_by_the_next_run(db, monkeypatch):
    build_city(12)
    active = KeyProject.objects.filter(stage__in=ACTIVE_STAGES, lead_unit__isnull=False).count()
    monthly_services.reports_open(month=OCTOBER, enqueue=False)
    ids = list(MonthlyReport.objects.order_by("pk").values_list("pk", flat=True))
    real_clock, calls = reports.start_clock, []

    def crash_on_the_fourth(activation):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("worker killed")
        return real_clock(activation)

    monkeypatch.setattr(reports, "start_clock", crash_on_the_fourth)
    with pytest.raises(RuntimeError):
        launch.start_report_flows(ids)
    assert ReportProcess.objects.count() == 0  # the batch rolled back as a whole
    assert len(calls) == 4
    monkeypatch.setattr(reports, "start_clock", real_clock)
    resumed = monthly_services.reports_open(month=OCTOBER, enqueue=False)
    assert resumed["created"] == 0 and resumed["pending"] == active
    assert launch.start_report_flows(ids) == active
    assert ReportProcess.objects.count() == MonthlyReport.objects.count() == active


def flow_queries(count):
    ids = list(MonthlyReport.objects.filter(process__isnull=True).order_by("pk").values_list("pk", flat=True))[:count]
    with CaptureQueriesContext(connection) as queries:
        assert launch.start_report_flows(ids) == count
    return len(queries)


def test_a_batch_of_report_flows_costs_the_same_statements_at_any_size(db):
    build_city(80)
    monthly_services.reports_open(month=OCTOBER, enqueue=False)
    assert MonthlyReport.objects.count() >= 50
    assert flow_queries(5) == flow_queries(20)  # within SQLite's variables a statement, over which its inserts split


# Writing and validation


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"investment_month": Decimal("-1")}, "investment_month"),
        ({"investment_month": Decimal("4000000.01")}, "investment_month"),  # 1,000,000 done of 5,000,000
        ({"investment_month": None}, "investment_month"),
        ({"progress_percent": Decimal("100.5")}, "progress_percent"),
        ({"progress_percent": None}, "progress_percent"),
    ],
)
def test_impossible_figures_are_refused_by_field(opened, change, field):
    with pytest.raises(ValidationError) as error:
        reports.validate(opened, {**GOOD, **change})
    assert field in error.value.message_dict


def test_the_cumulative_total_may_reach_the_total_investment_exactly(opened):
    reports.validate(opened, {**GOOD, "investment_month": Decimal("4000000")})


def test_progress_going_back_needs_a_reason(org, opened):
    MonthlyReport.objects.create(
        project=opened.project, unit=org.park, month=D(2026, 9, 1), due_at=timezone.now(), state="accepted",
        progress_percent=Decimal("45"), created_at=timezone.now(),
    )
    with pytest.raises(ValidationError) as error:
        reports.validate(opened, GOOD)
    assert "progress_back_reason" in error.value.message_dict
    reports.validate(opened, {**GOOD, "progress_back_reason": "The survey was corrected."})


def test_the_head_submits_with_a_photo_and_a_problem_raised_as_a_blocker(org, opened, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    task = write_task(opened)
    engine_services.claim_task(task=task, user=org.head.user)
    client.force_login(org.head.user)
    url = f"/workflow/flows/report/{task.process_id}/write/{task.pk}/execute/"
    page = client.get(url)
    assert page.status_code == 200 and b"monthly-report-form" in page.content
    photo = SimpleUploadedFile("site.jpg", b"\xff\xd8\xff jpeg", content_type="image/jpeg")
    response = client.post(
        url,
        {
            **{k: v for k, v in GOOD.items() if v is not None},
            "investment_month": "30",  # ten-thousand yuan
            "blockers-TOTAL_FORMS": "2", "blockers-INITIAL_FORMS": "0",
            "blockers-0-title": "Power connection delayed", "blockers-0-category": "utilities",
            "blockers-0-description": "The grid company has not answered.",
            "blockers-1-title": "", "blockers-1-category": "other", "blockers-1-description": "",
            "attachments": [photo],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    report = MonthlyReport.objects.get(pk=opened.pk)
    assert report.state == MonthlyReport.State.SUBMITTED and report.submitted_by == org.head.user
    assert report.investment_month == Decimal("300000")
    attachment = ReportAttachment.objects.get(report=report)
    assert attachment.kind == ReportAttachment.Kind.PHOTO and (tmp_path / attachment.file.name).exists()
    blocker = Blocker.objects.get(title="Power connection delayed")
    assert list(report.raised_blockers.all()) == [blocker]
    assert review_task(report).owner_permission == "workflow.secretariat_task"
    assert AuditEvent.objects.filter(object_id=str(report.pk), transition="submit").exists()


def test_the_page_shows_the_errors_and_changes_nothing(org, opened, client):
    task = write_task(opened)
    engine_services.claim_task(task=task, user=org.head.user)
    client.force_login(org.head.user)
    url = f"/workflow/flows/report/{task.process_id}/write/{task.pk}/execute/"
    response = client.post(
        url,
        {**{k: v for k, v in GOOD.items() if v is not None}, "investment_month": "400.0001",  # 4,000,001 yuan
         "blockers-TOTAL_FORMS": "1", "blockers-INITIAL_FORMS": "0", "blockers-0-title": "Raised?", "blockers-0-category": "other"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "would exceed the total investment" in page
    assert "500.00 ten-thousand yuan" in page and "5000000" not in page  # the total, in the unit people read
    assert MonthlyReport.objects.get(pk=opened.pk).state == MonthlyReport.State.OPEN
    assert not Blocker.objects.filter(title="Raised?").exists()



def write_page(org, report, client):
    task = write_task(report)
    engine_services.claim_task(task=task, user=org.head.user)
    client.force_login(org.head.user)
    return f"/workflow/flows/report/{task.process_id}/write/{task.pk}/execute/"


def form_body(**change):
    body = {k: v for k, v in GOOD.items() if v is not None}
    return {**body, "blockers-TOTAL_FORMS": "0", "blockers-INITIAL_FORMS": "0", **change}


def test_the_report_form_shows_its_amounts_in_ten_thousand_yuan(org, opened, client):
    KeyProject.objects.filter(pk=opened.project_id).update(
        total_investment=Decimal("1500000000"), investment_completed_total=Decimal("123456789")
    )
    page = client.get(write_page(org, opened, client)).content.decode()

    assert "Total investment 150,000.00 ten-thousand yuan; completed so far 12,345.68 ten-thousand yuan." in page
    assert "Investment completed this month (10k yuan)" in page
    assert "1500000000" not in page and "123456789" not in page


def test_a_returned_report_shows_the_amount_it_had_in_ten_thousand_yuan_and_keeps_it_when_sent_again(
    org, opened, client
):
    returned = submit(org, opened, investment_month=Decimal("1234567.89"))
    reports.report_review(task=review_task(returned), user=org.secretariat.user, accepted=False, reason="Photos missing")
    url = write_page(org, returned, client)

    page = client.get(url).content.decode()
    assert 'name="investment_month" value="123.456789"' in page
    sent = client.post(url, form_body(investment_month="123.456789"))

    assert sent.status_code == 302, sent.content.decode()[:2000]
    assert MonthlyReport.objects.get(pk=opened.pk).investment_month == Decimal("1234567.89")


@pytest.mark.parametrize("typed", ["30", "30.00", "30.000000", " 30 万元"])
def test_an_amount_typed_in_ten_thousand_yuan_is_stored_in_yuan(org, opened, client, typed):
    response = client.post(write_page(org, opened, client), form_body(investment_month=typed))

    assert response.status_code == 302, response.content.decode()[:2000]
    assert MonthlyReport.objects.get(pk=opened.pk).investment_month == Decimal("300000")


def test_an_amount_with_separators_is_read_as_one_number(org, opened, client):
    KeyProject.objects.filter(pk=opened.project_id).update(total_investment=Decimal("50000000000"))
    response = client.post(write_page(org, opened, client), form_body(investment_month="1,234.5"))

    assert response.status_code == 302, response.content.decode()[:2000]
    assert MonthlyReport.objects.get(pk=opened.pk).investment_month == Decimal("12345000")


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("-1", "An amount cannot be negative."),
        ("300000", "would exceed the total investment"),  # yuan typed where 万元 are asked
        ("99999999999", "Too large: give the amount in ten-thousand yuan, not in yuan."),
        ("thirty", "Give the amount as a number of ten-thousand yuan"),
        ("0.0000001", "decimal places"),  # less than a cent
    ],
)
def test_an_impossible_amount_is_refused_on_its_field(org, opened, client, typed, says):
    response = client.post(write_page(org, opened, client), form_body(investment_month=typed))

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["investment_month"] and says in " ".join(errors["investment_month"])
    assert MonthlyReport.objects.get(pk=opened.pk).state == MonthlyReport.State.OPEN


# Review


def submit(org, report, **change):
    reports.report_submit(task=write_task(report), user=org.head.user, data={**GOOD, **change})
    return MonthlyReport.objects.get(pk=report.pk)


def test_an_accepted_report_adds_its_investment_to_the_year_and_the_total(org, opened):
    submitted = submit(org, opened)
    reports.report_review(task=review_task(submitted), user=org.secretariat.user, accepted=True)
    report = MonthlyReport.objects.get(pk=opened.pk)
    project = KeyProject.objects.get(pk=opened.project_id)
    assert report.state == MonthlyReport.State.ACCEPTED
    assert project.investment_completed_total == Decimal("1300000")
    assert AnnualPlan.objects.get(project=project, year=2026).completed_investment == Decimal("700000")
    assert report.process.finished is not None
    assert AuditEvent.objects.filter(object_id=str(project.pk), changes__has_key="investment_completed_total").exists()


def test_a_returned_report_goes_back_to_the_unit_with_the_reason(org, opened):
    submitted = submit(org, opened)
    with pytest.raises(ValidationError):
        reports.report_review(task=review_task(submitted), user=org.secretariat.user, accepted=False, reason="")
    reports.report_review(task=review_task(submitted), user=org.secretariat.user, accepted=False, reason="Photos missing")
    report = MonthlyReport.objects.get(pk=opened.pk)
    assert report.state == MonthlyReport.State.RETURNED and report.return_reason == "Photos missing"
    assert write_task(report) is not None
    assert KeyProject.objects.get(pk=opened.project_id).investment_completed_total == Decimal("1000000")
    resubmitted = submit(org, report)
    assert resubmitted.state == MonthlyReport.State.SUBMITTED


def test_another_unit_may_not_write_the_report(org, opened):
    with pytest.raises(PermissionDenied):
        reports.report_submit(task=write_task(opened), user=org.other_head.user, data=GOOD)


# Pages


def test_the_status_page_lists_the_month_for_those_who_may_see_it(org, opened, client):
    for person, sees in [(org.secretariat, True), (org.head, True), (org.leader, True), (org.other_head, False)]:
        client.force_login(person.user)
        page = client.get("/workflow/reports/?month=2026-10")
        assert page.status_code == 200
        assert (opened.project.code in page.content.decode()) is sees, person
        detail = client.get(f"/workflow/reports/{opened.pk}/")
        assert detail.status_code == (200 if sees else 404)
    for person in (org.owner, org.bank):
        client.force_login(person.user)
        assert client.get("/workflow/reports/").status_code == 403
        assert client.get(f"/workflow/reports/{opened.pk}/").status_code == 403


def status_page_queries(client, user):
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/workflow/reports/?month=2026-10").status_code == 200
    return len(queries)


def test_the_status_page_costs_the_same_queries_at_two_sizes(db, client):
    from cases.models import Person, Role

    build_city(40)
    user = Person.objects.filter(role=Role.SECRETARIAT).first().user
    monthly_services.reports_open(month=OCTOBER, enqueue=False)
    small_count = MonthlyReport.objects.count()
    small = status_page_queries(client, user)
    KeyProject.objects.filter(stage=Stage.RESERVE).update(stage=Stage.CONSTRUCTION)
    monthly_services.reports_open(month=OCTOBER, enqueue=False)
    assert MonthlyReport.objects.count() > small_count
    assert status_page_queries(client, user) == small


# API


def test_the_api_submits_and_reviews(org, opened):
    api = APIClient()
    api.force_authenticate(org.head.user)
    body = {k: str(v) for k, v in GOOD.items()}
    bad = api.post(f"/api/reports/{opened.pk}/submit/", {**body, "investment_month": "-5"}, format="json")
    assert bad.status_code == 400
    done = api.post(
        f"/api/reports/{opened.pk}/submit/", {**body, "blockers": [{"title": "Land not handed over"}]}, format="json"
    )
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "submitted" and len(done.json()["raised_blockers"]) == 1
    assert api.post(f"/api/reports/{opened.pk}/submit/", body, format="json").status_code == 409
    assert api.post(f"/api/reports/{opened.pk}/review/", {"accepted": True}, format="json").status_code == 403
    api.force_authenticate(org.secretariat.user)
    accepted = api.post(f"/api/reports/{opened.pk}/review/", {"accepted": True}, format="json")
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    listed = api.get("/api/reports/", {"month": "2026-10", "state": "accepted"})
    assert [row["id"] for row in listed.json()["results"]] == [opened.pk]


def test_the_api_hides_reports_outside_the_scope_and_refuses_bad_input(org, opened):
    api = APIClient()
    api.force_authenticate(org.other_head.user)
    assert api.get(f"/api/reports/{opened.pk}/").status_code == 404
    assert api.post(f"/api/reports/{opened.pk}/submit/", {}, format="json").status_code == 404
    assert api.get("/api/reports/", {"month": "2026-13"}).status_code == 400
    assert api.get("/api/reports/", {"state": "lost"}).status_code == 400
    assert api.post("/api/reports/open/", {"month": "2026-10"}, format="json").status_code == 403
    api.force_authenticate(org.owner.user)
    assert api.get("/api/reports/").status_code == 403
    api.force_authenticate(org.secretariat.user)
    assert api.post("/api/reports/open/", {"month": "2999-01"}, format="json").status_code == 400
    opened_again = api.post("/api/reports/open/", {"month": "2026-10"}, format="json")
    assert opened_again.status_code == 202, opened_again.content
    assert opened_again.json()["created"] == 0


def test_the_secretariat_reviews_on_a_page_that_shows_the_report(org, opened, client):
    submitted = submit(org, opened, work_done="十二层主体封顶")
    task = review_task(submitted)
    engine_services.claim_task(task=task, user=org.secretariat.user)
    client.force_login(org.secretariat.user)
    url = f"/workflow/flows/report/{task.process_id}/review/{task.pk}/execute/"
    page = client.get(url).content.decode()
    assert "report-under-review" in page and "十二层主体封顶" in page
    assert '<dd data-amount="investment_month">30.00</dd>' in page and "300000" not in page
    assert '<dd data-amount="cumulative">100.00 / 500.00</dd>' in page
    refused = client.post(url, {"accepted": "false", "reason": ""})
    assert refused.status_code == 200 and MonthlyReport.objects.get(pk=opened.pk).state == MonthlyReport.State.SUBMITTED
    assert client.post(url, {"accepted": "true", "reason": ""}).status_code == 302
    assert MonthlyReport.objects.get(pk=opened.pk).state == MonthlyReport.State.ACCEPTED


def test_one_report_is_seen_by_exactly_those_of_the_months_scope(org, opened):
    """``report_for`` checks the scope on the one row; it agrees with ``report_scope`` for everyone."""
    for person in org.everyone:
        in_scope = MonthlyReport.objects.filter(selectors.report_scope(person.user), pk=opened.pk).exists()
        assert (selectors.report_for(person.user, opened.pk) is not None) is in_scope, person
