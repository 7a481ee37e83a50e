"""The bulletin (通报): each measure against figures worked out by hand, the weighted total,
ranking in the two groups with ties, the red and black lists at their limits, exemptions,
issuing, the pages and the API by role, the command, and query counts at two sizes."""

import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from cases.models import (
    PIPELINE_STAGES,
    AnnualPlan,
    AuditEvent,
    Blocker,
    BlockerState,
    Industry,
    KeyProject,
    Stage,
    Unit,
    UnitKind,
)
from notifications.models import Notification
from tests.cases.factories import (
    BlockerFactory,
    KeyProjectFactory,
    PersonFactory,
    UnitFactory,
    set_stage,
)
from workflow.coordination.flows import PreworkFlow
from workflow.engine.models import TaskClock, TaskKind
from workflow.monthly import bulletin
from workflow.monthly.models import (
    Bulletin,
    Light,
    LightSnapshot,
    MonthlyReport,
    ScoreExemption,
    ScoreMeasure,
    ScoreWeight,
    UnitScore,
)

D = datetime.date
OCTOBER, SEPTEMBER = D(2026, 10, 1), D(2026, 9, 1)
NOW = timezone.make_aware(datetime.datetime(2026, 11, 12, 9))
M = ScoreMeasure


def at(month, day, hour=10):
    return timezone.make_aware(datetime.datetime(2026, month, day, hour))


def compute(month=OCTOBER):
    with time_machine.travel(NOW, tick=False):
        return bulletin.bulletin_compute(month=month)


def score_of(unit, month=OCTOBER):
    return UnitScore.objects.get(bulletin__month=month, unit=unit)


def measure(unit, name, month=OCTOBER):
    return score_of(unit, month).measures[name]


def led_case(unit, stage=Stage.CONSTRUCTION, **fields):
    return set_stage(KeyProjectFactory(lead_unit=unit), stage, **fields)


def clocks(rows):
    """Task clocks of finished (or open) tasks: ``rows`` of (unit, case, due_at, closed_at[, status])."""
    processes = Process.objects.bulk_create([Process(flow_class=PreworkFlow, status=STATUS.DONE) for _row in rows])
    tasks = Task.objects.bulk_create(
        [
            Task(
                process=process,
                flow_task=PreworkFlow.approve,
                flow_task_type="HUMAN",
                status=row[4] if len(row) > 4 else (STATUS.DONE if row[3] else STATUS.NEW),
                created=at(8, 3),
            )
            for process, row in zip(processes, rows, strict=True)
        ]
    )
    return TaskClock.objects.bulk_create(
        [
            TaskClock(
                task=task,
                kind=TaskKind.PREWORK,
                project=row[1],
                unit=row[0],
                title="审批",
                started_at=at(8, 3),
                working_days=5,
                due_at=row[2],
                closed_at=row[3],
            )
            for task, row in zip(tasks, rows, strict=True)
        ]
    )


def blocker(unit, case, reported, *, state=BlockerState.ASSIGNED, resolved=None, closed=None):
    made = BlockerFactory(project=case, lead_unit=unit)
    Blocker.objects.filter(pk=made.pk).update(state=state, created_at=reported, resolved_at=resolved, closed_at=closed)
    return made


def report(unit, case, *, due, submitted=None, month=OCTOBER):
    return MonthlyReport.objects.create(
        project=case,
        month=month,
        unit=unit,
        due_at=due,
        state=MonthlyReport.State.SUBMITTED if submitted else MonthlyReport.State.OPEN,
        submitted_at=submitted,
        created_at=at(11, 2),
    )


def light(case, colour, month=OCTOBER):
    return LightSnapshot.objects.create(
        project=case, month=month, light=colour, expected_progress=Decimal("83.29"), forecast=colour, computed_at=NOW
    )


def plan(case, planned, completed, year=2026):
    AnnualPlan.objects.update_or_create(
        project=case, year=year, defaults={"planned_investment": Decimal(planned), "completed_investment": Decimal(completed)}
    )


# Each measure against figures worked out by hand


def test_tasks_on_time_is_the_share_of_the_months_finished_tasks_finished_by_their_deadline(org):
    case = org.project
    clocks(
        [
            (org.park, case, at(10, 20), at(10, 19)),  # on time
            (org.park, case, at(10, 20), at(10, 20, 9)),  # on time, the same day
            (org.park, case, at(10, 28), at(10, 9)),  # on time
            (org.park, case, at(10, 12), at(10, 15)),  # late
            (org.park, case, at(9, 20), at(9, 25)),  # finished in September: not this month's
            (org.park, case, at(10, 30), at(11, 3)),  # finished in November
            (org.park, case, at(10, 30), None),  # still open
            (org.park, case, at(10, 30), at(10, 29), STATUS.CANCELED),  # cancelled, not done
        ]
    )

    compute()

    assert measure(org.park, M.TASKS_ON_TIME) == {"score": 75.0, "done": 3, "of": 4, "exempt": False}


def test_blockers_resolved_is_the_share_of_the_months_open_blockers_resolved_by_its_end(org):
    case = org.project
    blocker(org.park, case, at(9, 10), state=BlockerState.RESOLVED, resolved=at(10, 5))  # done
    blocker(org.park, case, at(10, 10))  # open, not done
    blocker(org.park, case, at(10, 20), state=BlockerState.CLOSED_OUT, resolved=at(11, 3), closed=at(11, 4))  # late
    blocker(org.park, case, at(8, 1), state=BlockerState.CLOSED_OUT, resolved=at(9, 20), closed=at(9, 22))  # before
    blocker(org.park, case, at(10, 12), state=BlockerState.REJECTED)  # not a blocker after all
    blocker(org.park, case, at(11, 2))  # reported after the month
    blocker(org.department, case, at(10, 2))  # another unit's

    compute()

    assert measure(org.park, M.BLOCKERS_RESOLVED) == {"score": 33.33, "done": 1, "of": 3, "exempt": False}


def test_blocker_speed_scores_each_resolution_linearly_between_the_target_and_the_zero_mark(org):
    case = org.project
    # Fri 16 to Fri 30 October: 10 working days, within the target: 100
    blocker(org.park, case, at(10, 16), state=BlockerState.RESOLVED, resolved=at(10, 30))
    # Mon 12 to Fri 30 October: 4 + 5 + 5 = 14 working days: 100 * (30 - 14) / (30 - 10) = 80
    blocker(org.park, case, at(10, 12), state=BlockerState.RESOLVED, resolved=at(10, 30))
    # From 3 August: far beyond 30 working days: 0
    blocker(org.park, case, at(8, 3), state=BlockerState.CLOSED_OUT, resolved=at(10, 20), closed=at(10, 21))
    # resolved in September: not this month's
    blocker(org.park, case, at(9, 1), state=BlockerState.RESOLVED, resolved=at(9, 2))

    compute()

    assert bulletin.BLOCKER_SPEED_TARGET_DAYS == 10 and bulletin.BLOCKER_SPEED_ZERO_DAYS == 30
    assert measure(org.park, M.BLOCKER_SPEED) == {"score": 60.0, "done": 1, "of": 3, "exempt": False}


def test_reports_on_time_counts_the_reports_submitted_and_those_past_due(org):
    cases = [led_case(org.park) for _n in range(5)]
    report(org.park, cases[0], due=at(11, 6, 23), submitted=at(11, 5))  # on time
    report(org.park, cases[1], due=at(11, 6, 23), submitted=at(11, 9))  # late
    report(org.park, cases[2], due=at(11, 6, 23))  # not submitted, past due
    report(org.park, cases[3], due=at(11, 20, 23))  # not due yet: not counted
    report(org.park, cases[4], due=at(10, 9, 23), submitted=at(10, 8), month=SEPTEMBER)  # another month

    compute()

    assert measure(org.park, M.REPORTS_ON_TIME) == {"score": 33.33, "done": 1, "of": 3, "exempt": False}


def test_investment_is_completed_against_the_plan_times_the_expected_progress(org):
    behind, ahead = led_case(org.park), led_case(org.park)
    plan(behind, 1_000_000, 500_000)  # 50 % of the plan
    plan(ahead, 3_000_000, 2_700_000)  # 90 %, ahead of the 83.29 % expected at the end of October
    plan(ahead, 9_000_000, 0, year=2025)  # last year's plan: not counted
    plan(led_case(org.park, Stage.RESERVE), 5_000_000, 0)  # not in the key list yet
    plan(led_case(org.park, Stage.SUSPENDED), 5_000_000, 0)

    compute()

    # 3,200,000 / (4,000,000 * 83.29 %) = 3,200,000 / 3,331,600 = 96.05 %
    assert measure(org.park, M.INVESTMENT) == {"score": 96.05, "done": 1, "of": 2, "exempt": False}


def test_investment_is_capped_at_a_hundred(org):
    plan(led_case(org.department), 1_000_000, 1_000_000)

    compute()

    assert measure(org.department, M.INVESTMENT)["score"] == 100.0


def test_lights_average_green_100_yellow_60_red_0(org):
    cases = [led_case(org.park) for _n in range(4)]
    for case, colour in zip(cases, [Light.GREEN, Light.YELLOW, Light.RED, Light.YELLOW], strict=True):
        light(case, colour)
    light(cases[2], Light.GREEN, month=SEPTEMBER)

    compute()

    assert measure(org.park, M.LIGHTS) == {"score": 55.0, "done": 1, "of": 4, "exempt": False}


def test_the_total_is_the_weighted_mean_of_the_measures_present(org):
    # Given the park's tasks (75) and lights (55) and nothing else
    clocks([(org.park, org.project, at(10, 20), at(10, 19))] * 3 + [(org.park, org.project, at(10, 12), at(10, 15))])
    for colour in (Light.GREEN, Light.YELLOW, Light.RED, Light.YELLOW):
        light(led_case(org.park), colour)

    compute()

    park = score_of(org.park)
    assert {name for name, value in park.measures.items() if value["score"] is None} == {
        M.BLOCKERS_RESOLVED, M.BLOCKER_SPEED, M.REPORTS_ON_TIME, M.INVESTMENT
    }
    # (25 * 75 + 15 * 55) / (25 + 15) = 67.50
    assert park.total == Decimal("67.50")


def test_a_weight_switched_off_in_the_admin_leaves_its_measure_out(org):
    clocks([(org.park, org.project, at(10, 20), at(10, 19)), (org.park, org.project, at(10, 12), at(10, 15))])
    light(led_case(org.park), Light.GREEN)
    ScoreWeight.objects.filter(measure=M.TASKS_ON_TIME).update(is_active=False)

    compute()

    park = score_of(org.park)
    assert park.measures[M.TASKS_ON_TIME]["score"] == 50.0 and park.total == Decimal("100.00")


def test_units_are_ranked_in_their_own_group_and_banks_are_not_scored(org):
    for unit, colour in ((org.park, Light.GREEN), (org.district, Light.RED), (org.department, Light.YELLOW)):
        light(led_case(unit), colour)
    light(led_case(org.bank_unit), Light.RED)

    compute()

    scores = {s.unit: s for s in UnitScore.objects.filter(bulletin__month=OCTOBER)}
    assert set(scores) == {org.park, org.district, org.department}
    assert (scores[org.park].group, scores[org.park].rank) == ("territorial", 1)
    assert (scores[org.district].group, scores[org.district].rank) == ("territorial", 2)
    assert (scores[org.department].group, scores[org.department].rank) == ("functional", 1)


def ranked(totals, group="territorial"):
    scores = [UnitScore(unit_id=n, group=group, total=None if t is None else Decimal(t)) for n, t in enumerate(totals)]
    bulletin.rank_and_list(scores)
    return [(s.rank, s.listing) for s in scores]


def test_ties_share_a_rank_and_the_next_rank_skips():
    assert ranked(["80", "95", "80", "70", None]) == [(2, ""), (1, "red"), (2, ""), (4, ""), (None, "")]


def test_the_red_list_is_the_best_three_of_a_group_from_90():
    assert ranked(["95", "90", "90", "89.99", "75"]) == [(1, "red"), (2, "red"), (2, "red"), (4, ""), (5, "")]
    assert ranked(["92", "91", "90.5", "90.5", "70"]) == [(1, "red"), (2, "red"), (3, "red"), (3, "red"), (5, "")]
    assert ranked(["98", "97", "96", "95", "70"])[3] == (4, "")
    assert ranked(["89.99", "80"]) == [(1, ""), (2, "")]


def test_the_black_list_is_the_last_of_a_group_below_60():
    assert ranked(["80", "59.99", "70"]) == [(1, ""), (3, "black"), (2, "")]
    assert ranked(["80", "60.00", "70"]) == [(1, ""), (3, ""), (2, "")]
    assert ranked(["80", "50", "50"]) == [(1, ""), (2, "black"), (2, "black")]


def test_each_group_has_its_own_lists():
    scores = [
        UnitScore(unit_id=1, group="territorial", total=Decimal("95")),
        UnitScore(unit_id=2, group="territorial", total=Decimal("50")),
        UnitScore(unit_id=3, group="functional", total=Decimal("55")),
        UnitScore(unit_id=4, group="functional", total=Decimal("91")),
    ]
    bulletin.rank_and_list(scores)
    assert [(s.rank, s.listing) for s in scores] == [(1, "red"), (2, "black"), (2, "black"), (1, "red")]


def test_the_bulletin_is_numbered_and_a_draft_is_scored_again_with_fresh_scores(org):
    light(led_case(org.park), Light.GREEN)
    first = compute()
    assert first.number == "通报〔2026〕10号" and first.state == Bulletin.State.DRAFT

    light(led_case(org.park), Light.RED)
    again = compute()

    assert again.pk == first.pk and UnitScore.objects.filter(bulletin=again).count() == 1
    assert measure(org.park, M.LIGHTS)["score"] == 50.0


# Exemptions


@pytest.fixture
def scored_park(org):
    """The park with tasks at 50 (one on time, one late) on two cases, and a green and a red case."""
    other = led_case(org.park)
    clocks([(org.park, org.project, at(10, 20), at(10, 19)), (org.park, other, at(10, 12), at(10, 15))])
    green, red = led_case(org.park), led_case(org.park)
    light(green, Light.GREEN)
    light(red, Light.RED)
    compute()
    return {"late_case": other, "red_case": red}


def grant(org, who="secretariat", **kwargs):
    fields = {"unit": org.park, "month": OCTOBER, "measure": M.LIGHTS, "reason": "特大暴雨停工", **kwargs}
    with time_machine.travel(NOW, tick=False):
        return bulletin.exemption_grant(actor=getattr(org, who).user, **fields)


def test_an_exemption_without_a_case_takes_the_whole_measure_out(org, scored_park):
    assert score_of(org.park).total == Decimal("50.00")  # (25 * 50 + 15 * 50) / 40

    grant(org, measure=M.TASKS_ON_TIME)

    park = score_of(org.park)
    assert park.measures[M.TASKS_ON_TIME] == {"score": None, "done": 0, "of": 0, "exempt": True}
    assert park.total == Decimal("50.00")  # lights alone
    grant(org, measure=M.LIGHTS)
    assert score_of(org.park).total is None and score_of(org.park).rank is None


def test_an_exemption_with_a_case_takes_only_its_items_out(org, scored_park):
    grant(org, measure=M.LIGHTS, project=scored_park["red_case"])
    grant(org, measure=M.TASKS_ON_TIME, project=scored_park["late_case"])

    park = score_of(org.park)
    assert park.measures[M.LIGHTS] == {"score": 100.0, "done": 1, "of": 1, "exempt": True}
    assert park.measures[M.TASKS_ON_TIME] == {"score": 100.0, "done": 1, "of": 1, "exempt": True}
    assert park.total == Decimal("100.00")


def test_an_exemption_needs_a_reason(org, scored_park):
    with pytest.raises(ValidationError) as error:
        grant(org, reason="   ")
    assert "reason" in error.value.message_dict
    assert not ScoreExemption.objects.exists()


def test_only_the_secretariat_grants_and_revokes(org, scored_park):
    for who in ("supervisor", "leader", "head"):
        with pytest.raises(PermissionDenied):
            grant(org, who=who)
    exemption = grant(org)
    with pytest.raises(PermissionDenied):
        bulletin.exemption_revoke(exemption=exemption, actor=org.head.user)
    assert ScoreExemption.objects.count() == 1


def test_granting_and_revoking_are_audited_and_the_draft_follows(org, scored_park):
    exemption = grant(org, project=scored_park["red_case"])
    pk = exemption.pk
    granted = AuditEvent.objects.get(object_id=str(pk), action="created")
    assert granted.reason == "特大暴雨停工" and granted.actor == org.secretariat.user
    assert granted.project_id == scored_park["red_case"].pk

    with time_machine.travel(NOW, tick=False):
        bulletin.exemption_revoke(exemption=exemption, actor=org.secretariat.user, reason="核实后不予豁免")

    revoked = AuditEvent.objects.get(object_id=str(pk), transition="revoke")
    assert revoked.reason == "核实后不予豁免" and not ScoreExemption.objects.exists()
    assert measure(org.park, M.LIGHTS) == {"score": 50.0, "done": 1, "of": 2, "exempt": False}


def test_a_unit_outside_the_two_groups_gets_no_exemption(org, scored_park):
    with pytest.raises(ValidationError):
        grant(org, unit=org.bank_unit)


# Issuing


def test_issuing_makes_the_scores_final_and_tells_every_scored_units_head(org, scored_park):
    draft = Bulletin.objects.get(month=OCTOBER)
    with time_machine.travel(NOW, tick=False):
        issued = bulletin.bulletin_issue(bulletin=draft, actor=org.secretariat.user)

    assert issued.state == Bulletin.State.ISSUED and issued.issued_by == org.secretariat.user
    assert issued.issued_at == NOW
    assert AuditEvent.objects.filter(object_id=str(draft.pk), transition="issue", to_state="issued").exists()
    told = Notification.objects.get(key="bulletin_issued")
    assert told.recipient == org.head.user and told.context["rank"] == 1
    assert "通报〔2026〕10号" in told.context["title"] and told.link == "/workflow/bulletin/?month=2026-10"

    with pytest.raises(bulletin.BulletinIssued):
        compute()
    with pytest.raises(bulletin.BulletinIssued):
        grant(org)
    with pytest.raises(bulletin.BulletinIssued):
        bulletin.bulletin_issue(bulletin=draft, actor=org.secretariat.user)
    assert score_of(org.park).total == Decimal("50.00")


def test_only_the_secretariat_issues(org, scored_park):
    with pytest.raises(PermissionDenied):
        bulletin.bulletin_issue(bulletin=Bulletin.objects.get(), actor=org.supervisor.user)
    assert Bulletin.objects.get().state == Bulletin.State.DRAFT


# Pages and API by role

INTERNAL = ["secretariat", "supervisor", "leader", "head", "staff"]


def clients(person):
    page, api = APIClient(), APIClient()
    page.force_login(person.user)
    api.force_login(person.user)
    return page, api


@pytest.mark.parametrize(
    ("who", "reads_draft"),
    [("secretariat", True), ("supervisor", True), ("leader", True), ("head", False), ("staff", False),
     ("bank", None), ("owner", None)],
)
def test_the_bulletin_page_and_api_follow_the_role(org, scored_park, who, reads_draft):
    with time_machine.travel(NOW, tick=False):
        page_client, api_client = clients(getattr(org, who))
        page = page_client.get("/workflow/bulletin/", {"month": "2026-10"})
        listed = api_client.get("/api/bulletins/")
        dashboard = page_client.get("/workflow/dashboard/")
        dashboard_api = api_client.get("/api/dashboard/")
    if reads_draft is None:
        assert {page.status_code, listed.status_code, dashboard.status_code, dashboard_api.status_code} == {403}
        return
    assert page.status_code == 200 and dashboard.status_code == 200 and dashboard_api.status_code == 200
    assert ("通报〔2026〕10号" in page.content.decode()) is reads_draft
    assert len(listed.json()["results"]) == (1 if reads_draft else 0)


@pytest.mark.parametrize("who", ["supervisor", "leader", "head", "staff", "bank", "owner"])
def test_only_the_secretariat_scores_issues_and_exempts(org, scored_park, who):
    draft = Bulletin.objects.get()
    with time_machine.travel(NOW, tick=False):
        page_client, api_client = clients(getattr(org, who))
        answers = [
            page_client.post("/workflow/bulletin/", {"month": "2026-10", "action": "score"}),
            page_client.post("/workflow/bulletin/", {"month": "2026-10", "action": "issue"}),
            page_client.post(
                "/workflow/bulletin/exemptions/",
                {"month": "2026-10", "unit": org.park.pk, "measure": "lights", "reason": "x"},
            ),
            api_client.post("/api/bulletins/compute/", {"month": "2026-10"}),
            api_client.post(f"/api/bulletins/{draft.pk}/issue/"),
            api_client.post(
                "/api/bulletins/exemptions/", {"month": "2026-10", "unit": org.park.pk, "measure": "lights", "reason": "x"}
            ),
        ]
    assert [answer.status_code for answer in answers] == [403] * 6
    assert Bulletin.objects.get().state == Bulletin.State.DRAFT and not ScoreExemption.objects.exists()


def test_units_read_an_issued_bulletin_with_every_units_scores(org, scored_park):
    draft = Bulletin.objects.get()
    bulletin.bulletin_issue(bulletin=draft, actor=org.secretariat.user)
    with time_machine.travel(NOW, tick=False):
        page_client, api_client = clients(org.other_head)
        page = page_client.get("/workflow/bulletin/", {"month": "2026-10"})
        detail = api_client.get(f"/api/bulletins/{draft.pk}/")
    assert page.status_code == 200 and "高新区" in page.content.decode()
    assert detail.status_code == 200
    row = detail.json()["scores"][0]
    assert row["unit"]["name"] == "高新区" and row["total"] == "50.00" and row["rank"] == 1
    assert row["measures"]["lights"] == {"score": 50.0, "done": 1, "of": 2, "exempt": False}


def test_a_draft_is_out_of_a_units_reach(org, scored_park):
    with time_machine.travel(NOW, tick=False):
        _page, api_client = clients(org.head)
        assert api_client.get(f"/api/bulletins/{Bulletin.objects.get().pk}/").status_code == 404
        assert api_client.get("/api/bulletins/abc/").status_code == 404


def test_the_secretariat_scores_grants_and_issues_through_the_page(org, scored_park):
    with time_machine.travel(NOW, tick=False):
        page_client, _api = clients(org.secretariat)
        page = page_client.get("/workflow/bulletin/", {"month": "2026-10"})
        assert page.status_code == 200 and page.context["editable"]
        rules = " ".join(page.context["rules"])
        assert "at most 10 working days" in rules and "from 30 on" in rules
        assert "best 3 of each group scoring at least 90" in rules and "below 60" in rules
        docx = reverse("workflow:bulletin_document", args=[Bulletin.objects.get().pk, "docx"])
        assert f'href="{docx}"' in page.content.decode()
        refused = page_client.post(
            "/workflow/bulletin/exemptions/",
            {"month": "2026-10", "action": "grant", "unit": org.park.pk, "measure": "lights", "reason": ""},
            follow=True,
        )
        assert not ScoreExemption.objects.exists() and refused.status_code == 200
        page_client.post(
            "/workflow/bulletin/exemptions/",
            {"month": "2026-10", "action": "grant", "unit": org.park.pk, "measure": "lights",
             "project": scored_park["red_case"].code, "reason": "特大暴雨停工"},
        )
        assert measure(org.park, M.LIGHTS)["score"] == 100.0
        page_client.post("/workflow/bulletin/", {"month": "2026-10", "action": "issue"})
        issued = page_client.get("/workflow/bulletin/", {"month": "2026-10"})
        rescored = page_client.post("/workflow/bulletin/", {"month": "2026-10", "action": "score"}, follow=True)
    assert Bulletin.objects.get().state == Bulletin.State.ISSUED and not issued.context["editable"]
    assert rescored.status_code == 200 and "final" in rescored.content.decode()


def test_the_api_scores_exempts_revokes_and_issues(org, scored_park):
    with time_machine.travel(NOW, tick=False):
        _page, api = clients(org.secretariat)
        scored = api.post("/api/bulletins/compute/", {"month": "2026-10"})
        assert scored.status_code == 200 and scored.json()["number"] == "通报〔2026〕10号"
        assert api.post("/api/bulletins/compute/", {"month": "2027-01"}).status_code == 400
        missing = api.post("/api/bulletins/exemptions/", {"month": "2026-10", "unit": org.park.pk, "measure": "lights"})
        assert missing.status_code == 400 and "reason" in missing.json()
        made = api.post(
            "/api/bulletins/exemptions/",
            {"month": "2026-10", "unit": org.park.pk, "measure": "lights", "project": scored_park["red_case"].pk,
             "reason": "特大暴雨停工"},
        )
        assert made.status_code == 201, made.content
        assert made.json()["project"]["code"] == scored_park["red_case"].code
        assert [row["id"] for row in api.get("/api/bulletins/exemptions/", {"month": "2026-10"}).json()["results"]] == [
            made.json()["id"]
        ]
        assert api.delete(f"/api/bulletins/exemptions/{made.json()['id']}/").status_code == 204
        issued = api.post(f"/api/bulletins/{scored.json()['id']}/issue/")
        assert issued.status_code == 200 and issued.json()["state"] == "issued"
        assert api.post(f"/api/bulletins/{scored.json()['id']}/issue/").status_code == 409
        assert api.post("/api/bulletins/compute/", {"month": "2026-10"}).status_code == 409
        dashboard = api.get("/api/dashboard/").json()
    assert dashboard["bulletin"]["number"] == "通报〔2026〕10号"
    assert dashboard["ranking"][0]["scores"][0]["unit"]["name"] == "高新区"
    assert dashboard["lights"] == [{"month": "2026-10-01", "green": 1, "yellow": 0, "red": 1}]


def test_the_dashboard_draws_its_charts_with_their_data(org, scored_park):
    report(org.park, scored_park["late_case"], due=at(11, 6, 23), submitted=at(11, 5))
    MonthlyReport.objects.update(state=MonthlyReport.State.ACCEPTED, investment_month=Decimal("1234567"))
    AnnualPlan.objects.update_or_create(  # as accepting the report records it
        project=scored_park["late_case"], year=2026,
        defaults={"planned_investment": Decimal("3000000"), "completed_investment": Decimal("1234567")},
    )
    clocks([(org.park, org.project, at(11, 2), None)])
    # Given every case in infrastructure at 300 万元, but the late one in new energy at 500 万元
    KeyProject.objects.update(industry=Industry.INFRASTRUCTURE, total_investment=Decimal("3000000"), capital_gap=0)
    KeyProject.objects.filter(pk=scored_park["late_case"].pk).update(industry=Industry.NEW_ENERGY, total_investment=Decimal("5000000"))
    # the listed ones the head sees (past the reserve pool)
    others = KeyProject.objects.filter(lead_unit=org.park).exclude(stage__in=PIPELINE_STAGES).exclude(pk=scored_park["late_case"].pk).count()
    with time_machine.travel(NOW, tick=False):
        page_client, _api = clients(org.head)
        Bulletin.objects.update(state=Bulletin.State.ISSUED)
        page = page_client.get("/workflow/dashboard/")
    html = page.content.decode()
    # investment, lights, the two groups' rankings, overdue, key projects by industry
    assert html.count('<svg class="kp-chart') == 6
    # the industry bars: strategic emerging industries first, each with its cases' total in 万元
    assert [(bar["label"], bar["value"], bar["css"]) for bar in page.context["industry_chart"]["bars"]] == [
        ("New energy", Decimal("500.00"), "strategic"),
        ("Infrastructure", Decimal("300.00") * others, "plain"),
    ]
    assert 'role="img"' in html and "<title" in html
    assert page.context["overdue"] == {"units": [{"unit": org.park.pk, "name": org.park.short_name, "overdue": 1}], "total": 1}
    october = page.context["investment_points"][9]
    assert october["in_month"] == Decimal("123.46") and october["completed"] == Decimal("123.46")
    assert page.context["lights"] == [{"month": OCTOBER, "green": 1, "yellow": 0, "red": 1}]


def dashboard_page(person):
    with time_machine.travel(NOW, tick=False):
        page_client, _api = clients(person)
        return page_client.get("/workflow/dashboard/")


def test_the_cumulative_line_and_the_headline_tell_the_same_figure(org):
    """7,000,000 yuan recorded before the monthly reports (the list's import), 1,000,000 added by
    October's accepted report: the line starts from the first and ends on the headline."""
    case = led_case(org.park)
    AnnualPlan.objects.update_or_create(
        project=case, year=2026, defaults={"planned_investment": Decimal("10000000"), "completed_investment": Decimal("8000000")}
    )
    report(org.park, case, due=at(11, 6, 23), submitted=at(11, 5))
    MonthlyReport.objects.update(state=MonthlyReport.State.ACCEPTED, investment_month=Decimal("1000000"))

    page = dashboard_page(org.head)

    html = page.content.decode()
    points = page.context["investment_points"]
    assert [point["completed"] for point in points] == [Decimal("700.00")] * 9 + [Decimal("800.00")] * 2
    assert [point["in_month"] for point in points][8:] == [Decimal("0.00"), Decimal("100.00"), Decimal("0.00")]
    assert 'data-figure="completed">800.00</strong>' in html and "(80.0&#8239;%)" in html
    assert html.count("<td data-completed-to-date>800.00</td>") == 2  # October and November, the last point
    assert "includes 700.00 ten-thousand yuan recorded this year other than by monthly reports" in html
    assert "Completed, to date" in html and "Reported completed, to date" not in html


def test_the_api_gives_the_same_account_of_the_investment(org):
    case = led_case(org.park)
    AnnualPlan.objects.update_or_create(
        project=case, year=2026, defaults={"planned_investment": Decimal("10000000"), "completed_investment": Decimal("8000000")}
    )
    report(org.park, case, due=at(11, 6, 23), submitted=at(11, 5))
    MonthlyReport.objects.update(state=MonthlyReport.State.ACCEPTED, investment_month=Decimal("1000000"))
    with time_machine.travel(NOW, tick=False):
        _page, api = clients(org.head)
        investment = api.get("/api/dashboard/").json()["investment"]

    assert investment["completed"] == investment["months"][-1]["completed_to_date"] == "8000000.00"
    assert investment["months"][0]["completed_to_date"] == "7000000.00"


def test_the_ranking_chart_has_a_legend_for_its_colours_and_its_lines(org, scored_park):
    with time_machine.travel(NOW, tick=False):
        Bulletin.objects.update(state=Bulletin.State.ISSUED)
    html = dashboard_page(org.head).content.decode()

    legend = html[html.index('id="ranking-legend"'):]
    legend = legend[: legend.index("</ul>")]
    for swatch, label in (("red", "Red list"), ("black", "Black list"), ("plain", "Not listed")):
        assert f'<span class="kp-chart__swatch kp-chart__bar--{swatch}"></span>{label}</li>' in legend
    assert "Red list: at least 90" in legend and "Black list: below 60" in legend


# The command


def test_the_command_scores_last_month_and_prints_the_ranking(org, scored_park):
    out = io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("bulletin", stdout=out)
        with pytest.raises(CommandError):
            call_command("bulletin", "--month", "2026-13")
        Bulletin.objects.update(state=Bulletin.State.ISSUED)
        with pytest.raises(CommandError):
            call_command("bulletin", "--month", "2026-10")
    printed = out.getvalue()
    assert "通报〔2026〕10号 (2026-10" in printed and "高新区" in printed and "50.00" in printed


# Query counts at two sizes


def grow(units_per_kind, cases_per_unit):
    """Units of the four scored kinds, each leading cases with a finished task, a blocker, a
    report, an annual plan and a light for October, and an exemption; bulk-written."""
    existing = Unit.objects.count()
    units = Unit.objects.bulk_create(
        [
            Unit(name=f"{kind}-{existing}-{n}", kind=kind)
            for kind in (UnitKind.DISTRICT, UnitKind.PARK, UnitKind.DEPARTMENT, UnitKind.PLATFORM)
            for n in range(units_per_kind)
        ]
    )
    region = UnitFactory(kind=UnitKind.DISTRICT)
    start = KeyProject.objects.count()
    cases = KeyProject.objects.bulk_create(
        [
            KeyProject(
                code=f"2026-QC-{start + n:04d}", name=f"项目{start + n}", industry="new_materials", region=region,
                lead_unit=units[n % len(units)], stage=Stage.CONSTRUCTION, total_investment=Decimal("1e8"),
            )
            for n in range(len(units) * cases_per_unit)
        ]
    )
    clocks([(case.lead_unit, case, at(10, 20), at(10, 10 + n % 20)) for n, case in enumerate(cases)])
    clocks([(case.lead_unit, case, at(10, 20), None, STATUS.NEW) for case in cases[::2]])
    with time_machine.travel(at(10, 2), tick=False):
        made = Blocker.objects.bulk_create(
            [Blocker(project=case, title="用地", category="land", lead_unit=case.lead_unit) for case in cases]
        )
    Blocker.objects.filter(pk__in=[b.pk for b in made[::2]]).update(state=BlockerState.RESOLVED, resolved_at=at(10, 22))
    MonthlyReport.objects.bulk_create(
        [
            MonthlyReport(project=case, month=OCTOBER, unit=case.lead_unit, due_at=at(11, 6, 23),
                          submitted_at=at(11, 4 + n % 4), state=MonthlyReport.State.ACCEPTED,
                          investment_month=Decimal("100000"), created_at=at(11, 2))
            for n, case in enumerate(cases)
        ]
    )
    AnnualPlan.objects.bulk_create(
        [AnnualPlan(project=case, year=2026, planned_investment=Decimal("3e7"), completed_investment=Decimal("2e7"))
         for case in cases]
    )
    LightSnapshot.objects.bulk_create(
        [
            LightSnapshot(project=case, month=month, light=[Light.GREEN, Light.YELLOW, Light.RED][n % 3],
                          expected_progress=Decimal("80"), forecast=Light.GREEN, computed_at=NOW)
            for n, case in enumerate(cases)
            for month in (SEPTEMBER, OCTOBER)
        ]
    )
    secretariat = PersonFactory(role="secretariat").user
    ScoreExemption.objects.bulk_create(
        [ScoreExemption(unit=unit, month=OCTOBER, measure=M.LIGHTS, project=cases[n], reason="停工",
                        created_by=secretariat, created_at=NOW) for n, unit in enumerate(units)]
    )


def count(action):
    with CaptureQueriesContext(connection) as queries:
        action()
    return len(queries)


def test_scoring_costs_the_same_queries_for_20_and_200_cases(org):
    grow(units_per_kind=1, cases_per_unit=5)  # 4 units, 20 cases
    with time_machine.travel(NOW, tick=False):
        compute()  # the draft exists from here on: both counts score it again
        small = count(compute)
        grow(units_per_kind=5, cases_per_unit=9)  # 20 more units, 180 more cases
        large = count(compute)
    assert UnitScore.objects.count() == 24 and KeyProject.objects.filter(code__contains="-QC-").count() == 200
    assert small == large


def test_the_bulletin_page_and_the_dashboard_cost_the_same_queries_for_20_and_200_cases(org):
    grow(units_per_kind=1, cases_per_unit=5)
    with time_machine.travel(NOW, tick=False):
        page_client, api_client = clients(org.secretariat)
        urls = ["/workflow/bulletin/?month=2026-10", "/workflow/dashboard/", "/api/dashboard/", "/api/bulletins/"]
        compute()
        for url in urls:
            page_client.get(url)  # warm the session and the content types
        small = {url: count(lambda url=url: page_client.get(url)) for url in urls}
        grow(units_per_kind=5, cases_per_unit=9)
        compute()
        large = {url: count(lambda url=url: page_client.get(url)) for url in urls}
        assert page_client.get(urls[0]).context["groups"][0][2]
    assert small == large
