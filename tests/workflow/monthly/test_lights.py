"""Traffic lights: each rule at its boundaries, the reasons, consecutive red and the interview it
proposes, red turning yellow, the forecast, the monthly trigger, pages, API and query counts."""

import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from rest_framework.test import APIClient

from bench.city import build_city
from cases.models import AnnualPlan, PreworkItem, Stage
from tests.cases.factories import PreworkItemFactory, set_stage
from workflow.coordination import launch
from workflow.coordination.flows import PreworkFlow
from workflow.coordination.models import Interview, Source, SupervisionOrder
from workflow.engine.models import Escalation, EscalationStep, TaskClock
from workflow.monthly import lights
from workflow.monthly.models import Light, LightRule, LightSnapshot

D = datetime.date
OCTOBER, SEPTEMBER, AUGUST = D(2026, 10, 1), D(2026, 9, 1), D(2026, 8, 1)
TODAY = timezone.make_aware(datetime.datetime(2026, 11, 12, 9))
M = LightRule.Check


@pytest.fixture
def rules(db):
    return list(LightRule.objects.filter(is_active=True))


# Each default rule at its boundaries: (measure, value, light)
BOUNDARIES = [
    (M.LAG, None, Light.GREEN),
    (M.LAG, Decimal("9.99"), Light.GREEN),
    (M.LAG, Decimal("10"), Light.YELLOW),
    (M.LAG, Decimal("30"), Light.YELLOW),
    (M.LAG, Decimal("30.01"), Light.RED),
    (M.START_MISSED, None, Light.GREEN),
    (M.START_MISSED, Decimal("0.03"), Light.YELLOW),
    (M.START_MISSED, Decimal("3"), Light.YELLOW),
    (M.START_MISSED, Decimal("3.01"), Light.RED),
    (M.TASK_LEVEL, 1, Light.GREEN),
    (M.TASK_LEVEL, 2, Light.YELLOW),
    (M.TASK_LEVEL, 4, Light.YELLOW),
    (M.ORDER_OVERDUE, None, Light.GREEN),
    (M.ORDER_OVERDUE, 1, Light.RED),
]


@pytest.mark.parametrize(("measure", "value", "light"), BOUNDARIES)
def test_each_default_rule_at_its_boundaries(rules, measure, value, light):
    judged, reasons = lights.judge({measure: value}, rules)
    assert judged == light
    assert [reason["measure"] for reason in reasons] == ([] if light == Light.GREEN else [measure] * len(reasons))


def test_the_worst_light_wins_and_every_holding_rule_is_a_reason(rules):
    judged, reasons = lights.judge({M.LAG: Decimal("12"), M.ORDER_OVERDUE: 2, M.TASK_LEVEL: 3}, rules)
    assert judged == Light.RED
    assert sorted(reason["measure"] for reason in reasons) == [M.LAG, M.ORDER_OVERDUE, M.TASK_LEVEL]


def test_a_rule_edited_in_the_admin_changes_the_light(rules):
    LightRule.objects.filter(measure=M.LAG, light=Light.YELLOW).update(threshold=Decimal("5"))
    judged, _reasons = lights.judge({M.LAG: Decimal("6")}, list(LightRule.objects.filter(is_active=True)))
    assert judged == Light.YELLOW


@pytest.fixture
def case(org):
    """The park's case under construction, planned to invest 1,000,000 yuan in 2026."""
    set_stage(org.project, Stage.CONSTRUCTION, planned_start=D(2026, 3, 1), actual_start=D(2026, 3, 10))
    AnnualPlan.objects.update_or_create(
        project=org.project, year=2026, defaults={"planned_investment": Decimal("1000000")}
    )
    return org.project


def completed(case, yuan):
    AnnualPlan.objects.filter(project=case, year=2026).update(completed_investment=Decimal(yuan))


def compute(month):
    with time_machine.travel(TODAY, tick=False):
        return {snapshot.project_id: snapshot for snapshot in lights.lights_compute(month=month)}


def test_the_lag_is_the_expected_progress_minus_the_share_of_the_annual_plan_done(case):
    # Given 500,000 of 1,000,000 done; the end of October is 304/365 = 83.29 % of the year
    completed(case, 500000)

    snapshot = compute(OCTOBER)[case.pk]

    assert snapshot.expected_progress == Decimal("83.29")
    assert snapshot.completed_progress == Decimal("50.00") and snapshot.lag == Decimal("33.29")
    assert snapshot.light == Light.RED
    assert [reason["measure"] for reason in snapshot.reasons] == [M.LAG, M.LAG]
    stored = LightSnapshot.objects.get(project=case, month=OCTOBER)
    with translation.override("zh-hans"):
        texts = [lights.reason_text(reason) for reason in stored.reasons]
    assert any("33.29" in text for text in texts)


def test_red_two_months_in_a_row_proposes_one_interview_of_the_responsible_leader(org, case):
    completed(case, 400000)  # September: 74.79 - 40 = 34.79 points behind
    assert compute(SEPTEMBER)[case.pk].consecutive_red == 1
    assert not Interview.objects.exists()

    october = compute(OCTOBER)[case.pk]
    compute(OCTOBER)  # computed again on demand

    assert october.consecutive_red == 2 and october.interview_proposed
    interview = Interview.objects.get()
    assert interview.leader == org.leader and interview.source == Source.RULE and interview.project == case
    assert "2026-10" in interview.reason
    assert LightSnapshot.objects.get(project=case, month=OCTOBER).interview_proposed


def test_a_case_red_for_months_is_not_summoned_again_while_its_interview_is_unsettled(org, case):
    # Given a case red in August and September, whose leader was proposed for an interview
    completed(case, 100000)
    compute(AUGUST)
    compute(SEPTEMBER)
    first = Interview.objects.get()

    # When it is red again in October while that interview is still to be held
    october = compute(OCTOBER)[case.pk]

    # Then no second interview is proposed
    assert october.consecutive_red == 3 and not october.interview_proposed
    assert Interview.objects.get() == first

    # and once the interview is held and closed, a case still red is proposed again
    Interview.objects.filter(pk=first.pk).update(state=Interview.State.CLOSED)
    assert compute(OCTOBER)[case.pk].interview_proposed
    assert Interview.objects.count() == 2


def test_an_interview_whose_flow_was_cancelled_does_not_hold_back_the_next(org, case, django_capture_on_commit_callbacks):
    from viewflow.workflow.status import STATUS

    from workflow.coordination.models import InterviewProcess

    completed(case, 100000)
    compute(AUGUST)
    with django_capture_on_commit_callbacks(execute=True):  # the interview's flow starts after commit
        compute(SEPTEMBER)
    first = Interview.objects.get()
    # an administrator cancels its flow: the interview's own state stays "proposed"
    assert InterviewProcess.objects.filter(interview=first).update(status=STATUS.CANCELED) == 1

    assert compute(OCTOBER)[case.pk].interview_proposed
    assert Interview.objects.count() == 2


def test_red_turns_yellow_once_the_lag_is_made_up(case):
    completed(case, 400000)
    compute(SEPTEMBER)
    completed(case, 900000)  # 90 % done by October: ahead of the 83.29 % expected

    october = compute(OCTOBER)[case.pk]

    assert october.lag == Decimal("-6.71")
    assert october.light == Light.YELLOW and october.consecutive_red == 0
    assert [reason["measure"] for reason in october.reasons] == [lights.RECOVERING]


def test_the_forecast_extends_the_lags_trend(case):
    # Given lags of 10 in August and 20 in September, and 25 in October (58.29 % done)
    for month, lag, light in ((AUGUST, "10", Light.YELLOW), (SEPTEMBER, "20", Light.YELLOW)):
        LightSnapshot.objects.create(
            project=case, month=month, light=light, expected_progress=Decimal("60"), lag=Decimal(lag),
            forecast=light, computed_at=TODAY,
        )
    completed(case, 582900)

    october = compute(OCTOBER)[case.pk]

    # Then October is yellow, but 25 + (25 - 10) / 2 = 32.5 points forecasts red
    assert october.light == Light.YELLOW and october.lag == Decimal("25.00")
    assert october.forecast_lag == Decimal("32.50") and october.forecast == Light.RED


def test_a_missed_start_an_overdue_order_and_an_escalated_task_are_measured(org, case):
    set_stage(case, Stage.CONSTRUCTION, planned_start=D(2026, 5, 1), actual_start=None)
    completed(case, 900000)
    # an approval task of the case that has reached level 2 of the ladder
    item = PreworkItemFactory(project=case, approving_unit=org.park, statutory_days=5)
    launch.start_prework_flow(PreworkItem.objects.select_related("project").get(pk=item.pk))
    clock = TaskClock.objects.get(task__flow_task=PreworkFlow.approve)
    step = EscalationStep.objects.get(kind="default", level=2)
    Escalation.objects.create(
        clock=clock, step=step, level=2, action=step.action, fired_at=TODAY, due_at=clock.due_at,
        batch="00000000-0000-0000-0000-000000000001",
    )
    SupervisionOrder.objects.create(
        number="2026-00001", project=case, unit=org.park, subject="用地", source=Source.SUPERVISOR,
        issued_at=TODAY - datetime.timedelta(days=30), respond_by=TODAY - datetime.timedelta(days=20),
    )

    october = compute(OCTOBER)[case.pk]

    measures = {reason["measure"]: reason["value"] for reason in october.reasons}
    assert measures == {M.START_MISSED: "6.01", M.TASK_LEVEL: "2", M.ORDER_OVERDUE: "1"}
    assert october.light == Light.RED


def test_cases_outside_the_active_stages_get_no_light(org, case):
    set_stage(org.other_project, Stage.RESERVE)
    assert set(compute(OCTOBER)) == {case.pk}


# Pages and API


def test_a_red_light_gives_its_red_reason_not_the_yellow_rule_it_supersedes(org, case, client):
    completed(case, 500000)  # 33.29 points behind: "more than 30" (red) and "at least 10" (yellow) both hold
    compute(OCTOBER)
    client.force_login(org.secretariat.user)

    page = client.get("/workflow/lights/?month=2026-10")

    snapshot = page.context["page"][0]
    assert sorted(reason["light"] for reason in snapshot.reasons) == [Light.RED, Light.YELLOW]  # both are kept
    assert snapshot.reason_texts == ["Investment lags the expected progress by 33.29 points (more than 30.00)."]
    html = page.content.decode()
    assert "(more than 30.00)" in html and "(at least 10.00)" not in html


def test_a_yellow_light_gives_its_yellow_reasons(org, case, client):
    completed(case, 700000)  # 13.29 points behind
    compute(OCTOBER)
    client.force_login(org.secretariat.user)

    snapshot = client.get("/workflow/lights/?month=2026-10").context["page"][0]

    assert snapshot.light == Light.YELLOW
    assert snapshot.reason_texts == ["Investment lags the expected progress by 13.29 points (at least 10.00)."]


def test_the_agenda_gives_a_red_case_its_red_reasons_only(case):
    from workflow.monthly import agenda

    completed(case, 500000)
    compute(OCTOBER)

    (drafted,) = agenda._red(OCTOBER)

    assert "(more than 30.00)" in drafted.detail and "(at least 10.00)" not in drafted.detail


def test_the_reasons_column_wraps_instead_of_cutting_them_off(org, case, client):
    from tests.workflow.monthly.test_cycle import assert_wrapping_stylesheet

    completed(case, 500000)
    compute(OCTOBER)
    client.force_login(org.secretariat.user)

    page = client.get("/workflow/lights/?month=2026-10").content.decode()

    assert '<td class="kp-wrap" data-reasons><ul class="kp-reasons">' in page
    assert_wrapping_stylesheet(page)


def test_the_page_shows_the_cases_the_reader_may_see_and_the_secretariat_computes(org, case, client):
    completed(case, 500000)
    compute(OCTOBER)

    client.force_login(org.secretariat.user)
    page = client.get("/workflow/lights/?month=2026-10")
    assert page.status_code == 200 and case.code.encode() in page.content
    assert page.context["page"][0].reason_texts
    client.force_login(org.other_head.user)
    assert case.code.encode() not in client.get("/workflow/lights/?month=2026-10").content
    assert client.post("/workflow/lights/", {"month": "2026-10"}).status_code == 403

    client.force_login(org.secretariat.user)
    with time_machine.travel(TODAY, tick=False):
        response = client.post("/workflow/lights/", {"month": "2026-09"})
        refused = client.post("/workflow/lights/", {"month": "2027-01"}, follow=True)
    assert response.status_code == 302 and LightSnapshot.objects.filter(month=SEPTEMBER).count() == 1
    assert not LightSnapshot.objects.filter(month=D(2027, 1, 1)).exists()
    assert "YYYY-MM" in refused.content.decode()


def test_the_api_lists_a_months_lights_and_only_the_secretariat_computes(org, case):
    completed(case, 500000)
    secretariat, head = APIClient(), APIClient()

    # (all at one moment: the idle-session timeout would log them out across a time jump)
    with time_machine.travel(TODAY, tick=False):
        secretariat.force_login(org.secretariat.user)
        head.force_login(org.head.user)
        assert head.post("/api/lights/compute/", {"month": "2026-10"}).status_code == 403
        assert secretariat.post("/api/lights/compute/", {"month": "2027-01"}).status_code == 400
        computed = secretariat.post("/api/lights/compute/", {"month": "2026-10"})
        assert computed.status_code == 200 and computed.json() == {"month": "2026-10", "computed": 1}
        listed = head.get("/api/lights/", {"month": "2026-10", "light": "red"})
        assert listed.status_code == 200, listed.content
        rows = listed.json()["results"]
        assert [row["project"]["code"] for row in rows] == [case.code]
        assert rows[0]["lag"] == "33.29" and rows[0]["reasons"][0]["text"]
        assert head.get("/api/lights/", {"light": "green"}).json()["results"] == []
        assert head.get("/api/lights/", {"month": "October"}).status_code == 400
        assert head.get("/api/lights/", {"light": "blue"}).status_code == 400


@pytest.mark.parametrize("cases", [20, 200])
def test_computing_the_lights_costs_the_same_queries_for_20_and_200_cases(db, cases):
    build_city(cases)
    with time_machine.travel(TODAY, tick=False), CaptureQueriesContext(connection) as queries:
        computed = lights.lights_compute(month=OCTOBER)
    assert len(computed) > cases // 4
    # The reads (rules, cases, their history, their unsettled interviews), the savepoints and
    # the upsert, whose rows SQLite takes in batches of its parameter limit.
    statements = [query["sql"].split()[0] for query in queries]
    fields = [field for field in LightSnapshot._meta.concrete_fields if not field.primary_key]
    batches = -(-len(computed) // connection.ops.bulk_batch_size(fields, computed))
    assert statements.count("INSERT") == batches
    assert len(statements) - batches == 6


def test_the_lights_command_computes_a_month_and_refuses_a_bad_one(case):
    completed(case, 500000)
    out = io.StringIO()
    with time_machine.travel(TODAY, tick=False):
        call_command("lights", "--month", "2026-10", stdout=out)
        with pytest.raises(CommandError):
            call_command("lights", "--month", "2026-13")
        with pytest.raises(CommandError):
            call_command("lights", "--month", "2027-01")
    assert "2026-10: 1 cases, 0 green, 0 yellow, 1 red." in out.getvalue()
    assert LightSnapshot.objects.filter(month=OCTOBER).count() == 1


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("secretariat", True),
        ("supervisor", True),
        ("leader", True),  # the case's responsible leader
        ("other_leader", False),
        ("head", True),  # the lead unit's head
        ("staff", True),
        ("other_head", False),
        ("bank", None),  # institutions and owners have no lights page
        ("owner", None),
    ],
)
def test_lights_follow_role_and_unit(org, case, who, sees):
    completed(case, 500000)
    compute(OCTOBER)
    page_client, api_client = APIClient(), APIClient()
    with time_machine.travel(TODAY, tick=False):
        page_client.force_login(getattr(org, who).user)
        api_client.force_login(getattr(org, who).user)
        page = page_client.get("/workflow/lights/", {"month": "2026-10"})
        listed = api_client.get("/api/lights/", {"month": "2026-10"})
    if sees is None:
        assert page.status_code == 403 and listed.status_code == 403
        return
    assert page.status_code == 200 and listed.status_code == 200
    codes = [row["project"]["code"] for row in listed.json()["results"]]
    assert (case.code in codes) is sees
    assert (case.code.encode() in page.content) is sees
