"""My work (待办): one list of what a person may act on now, on a page and in the API: the unit's
tasks to take (one click, a colleague who took one first named), a leader's approvals, an
institution's dockings, a project owner's monthly reports; the home page opens with its counts."""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from cases import services as case_services
from cases.financing import services as financing_services
from cases.models import AnnualPlan, PreworkItem, Stage
from notifications import delivery as sending
from notifications import services as notifying
from notifications.models import Preference
from tests.cases.factories import KeyProjectFactory, PreworkItemFactory, set_stage
from workflow.coordination import launch
from workflow.coordination.flows import InterviewFlow, PreworkFlow
from workflow.engine.models import TaskClock
from workflow.monthly import services as monthly_services
from workflow.monthly.flows import ReportFlow
from workflow.monthly.models import MonthlyReport

D = datetime.date


def local(day, hour=0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def api(person):
    client = APIClient()
    client.force_login(person.user)
    return client


def approvals(org, count=1, project=None):
    """Pre-work approvals of the park, started on Wednesday 30 September 2026, 5 working days each."""
    set_stage(project or org.project, Stage.PREWORK)
    with time_machine.travel(local(D(2026, 9, 30), 10), tick=False):
        for index in range(count):
            item = PreworkItemFactory(
                project=project or org.project, approving_unit=org.park, statutory_days=5, title=f"用地预审{index}"
            )
            launch.start_prework_flow(PreworkItem.objects.select_related("project").get(pk=item.pk))
    return list(TaskClock.objects.filter(task__flow_task=PreworkFlow.approve).order_by("pk"))


def test_the_units_task_waits_to_be_taken_with_the_day_its_deadline_ends(org):
    clock = approvals(org)[0]
    with time_machine.travel(local(D(2026, 10, 9), 10), tick=False):  # the deadline's day (5 working days on, after the holiday)
        body = api(org.head).get("/api/my-work/").json()
    assert body["count"] == 1
    item = body["results"][0]
    assert item["kind"] == "task" and item["id"] == clock.task_id and item["state"] == "to_take"
    assert item["taken_by"] is None and item["project"]["code"] == org.project.code
    # Stored as the midnight that ends the day; read as that day.
    assert item["due_day"] == (timezone.localtime(clock.due_at) - datetime.timedelta(seconds=1)).date().isoformat()
    assert item["page"].startswith("/workflow/flows/prework/")
    # Not the work of another unit, nor of the supervisor.
    assert api(org.other_head).get("/api/my-work/").json()["count"] == 0
    assert api(org.bank).get("/api/my-work/").json()["count"] == 0


def test_taking_is_one_click_and_a_colleague_who_took_it_first_is_named(org, client):
    task = approvals(org)[0].task
    client.force_login(org.head.user)
    taken = client.post(f"/my-work/{task.pk}/take/")
    assert taken.status_code == 302 and f"/{task.pk}/" in taken["Location"]
    task.refresh_from_db()
    assert task.owner == org.head.user
    assert api(org.head).get("/api/my-work/").json()["results"][0]["state"] == "mine"

    client.force_login(org.staff.user)
    late = client.post(f"/my-work/{task.pk}/take/", follow=True)
    assert "head took this task first." in late.content.decode()
    task.refresh_from_db()
    assert task.owner == org.head.user
    assert api(org.staff).get("/api/my-work/").json()["count"] == 0  # no longer theirs to take


def test_the_list_filters_by_deadline_whose_and_step_and_refuses_unknown_filters(org):
    clocks = approvals(org, count=2)
    TaskClock.objects.filter(pk=clocks[1].pk).update(due_at=local(D(2026, 12, 31)))
    head = api(org.head)
    with time_machine.travel(local(D(2026, 10, 20), 10), tick=False):
        assert [row["id"] for row in head.get("/api/my-work/?due=overdue").json()["results"]] == [clocks[0].task_id]
        everything = head.get("/api/my-work/").json()["results"]
        assert [row["id"] for row in everything] == [clocks[0].task_id, clocks[1].task_id]  # soonest deadline first
        assert head.get("/api/my-work/?state=mine").json()["count"] == 0
        assert head.get("/api/my-work/?kind=workflow_coordination/flows.PreworkFlow.approve").json()["count"] == 2
        for bad in ("kind=nothing", "due=tomorrow", "state=theirs", "project=x"):
            response = head.get(f"/api/my-work/?{bad}")
            assert response.status_code == 400 and bad.split("=")[0] in response.json()


def statements(client, path):
    """The statements one GET of ``path`` runs (it must answer 200)."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_the_api_costs_the_same_queries_for_one_task_and_for_six(org):
    approvals(org, count=1)
    head = api(org.head)
    one = statements(head, "/api/my-work/")
    approvals(org, count=5, project=KeyProjectFactory(lead_unit=org.park, code="2026-GX-0009"))
    assert head.get("/api/my-work/").json()["count"] == 6
    assert statements(head, "/api/my-work/") == one


def test_the_home_page_opens_with_the_counts_linking_to_my_work_in_chinese(org, client):
    approvals(org, count=2)
    client.force_login(org.head.user)
    with time_machine.travel(local(D(2026, 10, 20), 10), tick=False):
        home = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        page = client.get("/my-work/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-my-work="2"' in home and 'href="/my-work/"' in home
    assert re.search(r'data-count="overdue">\s*2', home)
    assert page.count('class="kp-work-item"') == 2 and "领取并办理" in page


def test_a_city_leader_finds_an_interview_to_approve(org):
    interview = launch.propose_interview(
        project=org.other_project, leader=org.other_leader, reason="项目推进滞后", actor=org.supervisor.user
    )
    rows = api(org.leader).get("/api/my-work/").json()["results"]
    approve = interview.process.task_set.get(flow_task=InterviewFlow.approve)
    assert [(row["id"], row["state"]) for row in rows] == [(approve.pk, "to_take")]
    assert api(org.head).get("/api/my-work/").json()["count"] == 0


def test_an_institution_finds_its_open_dockings_with_the_amount(org, client):
    set_stage(org.project, Stage.DOCKING, capital_gap=Decimal("30000000"))
    financing_services.docking_create(project=org.project, institution=org.bank_unit, actor=org.secretariat.user)
    body = api(org.bank).get("/api/my-work/").json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["kind"] == "docking" and row["state"] == "recommended" and row["amount_yuan"] == "30000000.00"
    client.force_login(org.bank.user)
    portal = client.get("/financing/portal/", follow=True).content.decode()
    assert 'data-my-work="1"' in portal and "3,000.00" in portal


@pytest.fixture
def report(org, django_capture_on_commit_callbacks):
    set_stage(org.project, Stage.CONSTRUCTION, total_investment=Decimal("5000000"), capital_gap=Decimal("0"))
    AnnualPlan.objects.update_or_create(project=org.project, year=2026, defaults={"planned_investment": Decimal("2000000")})
    with time_machine.travel(local(D(2026, 11, 2), 9), tick=False), django_capture_on_commit_callbacks(execute=True):
        monthly_services.reports_open(month=D(2026, 10, 1))
    return MonthlyReport.objects.get(project=org.project, month=D(2026, 10, 1))


def test_a_project_owner_takes_and_opens_its_cases_monthly_report(org, report, client):
    task = report.process.task_set.get(flow_task=ReportFlow.write)
    rows = api(org.owner).get("/api/my-work/").json()["results"]
    assert [(row["id"], row["state"]) for row in rows] == [(task.pk, "to_take")]
    # Still the lead unit's too.
    assert task.pk in [row["id"] for row in api(org.head).get("/api/my-work/").json()["results"]]

    client.force_login(org.owner.user)
    taken = client.post(f"/my-work/{task.pk}/take/")
    assert taken.status_code == 302
    task.refresh_from_db()
    assert task.owner == org.owner.user
    page = client.get(f"/workflow/flows/report/{task.process_id}/write/{task.pk}/execute/")
    assert page.status_code == 200 and b"monthly-report-form" in page.content


def test_an_owner_sees_no_other_cases_report_nor_other_flows_tasks(org, report):
    case_services.blocker_report(project=org.project, actor=org.staff.user, data={"title": "用地", "category": "land"})
    set_stage(org.other_project, Stage.CONSTRUCTION, capital_gap=Decimal("0"))
    other_owner = type(org.owner).objects.create(
        user=type(org.owner.user).objects.create(username="other_owner"), name="other", unit=org.other_unit, role="owner"
    )
    assert api(other_owner).get("/api/my-work/").json()["count"] == 0
    kinds = {row["title"] for row in api(org.owner).get("/api/my-work/").json()["results"]}
    assert kinds == {"Write the monthly report"}


def test_the_daily_digest_opens_with_the_counts_of_my_work(org):
    approvals(org, count=2)
    user = org.head.user
    user.email = "head@linjiang.gov.cn"
    user.save(update_fields=["email"])
    Preference.objects.create(user=user, daily_digest=True)
    context = {"case": "CASE-5", "month": "2026-05", "due": "2026-06-10"}
    for _ in range(2):
        notifying.notify(recipients=[user], key="report_due", context=context, link="/cases/projects/5/")
    with time_machine.travel(local(D(2026, 10, 20), 10), tick=False):
        sending.send_digests()
    (email,) = [message for message in mail.outbox if message.to == [user.email]]
    assert "My work: 2 waiting, 0 due soon, 2 overdue." in email.body
    assert "/my-work/" in email.body and 'data-work="2"' in email.alternatives[0][0]


def bell(page):
    """(the number on the bell, whether it shows overdue work, where it leads), or None without a number."""
    found = re.search(
        r'class="mdc-icon-button kp-bell" href="([^"]+)"[^>]*>.*?'
        r'<span class="kp-bell__count( kp-bell__count--overdue)?" data-work="(\d+)" data-overdue="(\d+)">(\d+)</span>',
        page,
    )
    if not found:
        return None
    assert found.group(3) == found.group(5)
    return int(found.group(3)), bool(found.group(2)), found.group(1)


@pytest.mark.parametrize("path", ["/", "/cases/projects/", "/notifications/"])
def test_the_bell_counts_my_work_on_every_page_and_leads_there(org, client, path):
    approvals(org, count=2)
    notifying.notify(recipients=[org.head.user], key="report_due", context={"case": "C", "month": "2026-05", "due": "2026-06-10"}, link="/")
    with time_machine.travel(local(D(2026, 10, 2), 10), tick=False):  # before the deadlines: nothing overdue
        client.force_login(org.head.user)
        on_time = client.get(path, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        listed = api(org.head).get("/api/my-work/").json()["count"]
    with time_machine.travel(local(D(2026, 10, 20), 10), tick=False):
        client.force_login(org.head.user)
        late = client.get(path).content.decode()
    assert listed == 2
    assert bell(on_time) == (2, False, "/my-work/")
    assert "我的待办：2 项待办理" in on_time  # the bell's label, in Chinese
    assert bell(late) == (2, True, "/my-work/")
    # The notifications keep their own icon, with the unread count.
    assert 'class="kp-messages__count" data-unread="1"' in late


def test_the_bell_shows_no_number_without_work_and_counts_an_institutions_dockings(org, client):
    client.force_login(org.head.user)
    assert bell(client.get("/").content.decode()) is None
    set_stage(org.project, Stage.DOCKING, capital_gap=Decimal("30000000"))
    financing_services.docking_create(project=org.project, institution=org.bank_unit, actor=org.secretariat.user)
    client.force_login(org.bank.user)
    assert bell(client.get("/financing/portal/", follow=True).content.decode()) == (1, False, "/my-work/")


def test_the_bell_costs_the_same_queries_for_one_task_and_for_six(org, client):
    approvals(org, count=1)
    client.force_login(org.head.user)
    one = statements(client, "/cases/projects/")
    approvals(org, count=5, project=KeyProjectFactory(lead_unit=org.park, code="2026-GX-0009"))
    assert bell(client.get("/cases/projects/").content.decode())[0] == 6
    assert statements(client, "/cases/projects/") == one
