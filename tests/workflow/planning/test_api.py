"""The annual plan's API: the check, a unit's proposal refused in words and saved, the
secretariat's decision, outsiders refused."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from workflow.planning import services
from workflow.planning.models import PlanProposal, PlanVersion

from .conftest import WAN, YEAR
from .helpers import open_compilation, propose, submit

pytestmark = pytest.mark.django_db


def api_as(person):
    client = APIClient()
    client.force_authenticate(person.user)
    return client


def body(org, **kwargs):
    return {"year": YEAR, "project": org.project.pk, "planned_year": "30000000", "planned_next": "0",
            "planned_after": "0", "planned_start": f"{YEAR}-03-01", **kwargs}


def test_a_unit_proposes_through_the_api_and_a_guard_names_the_field(org):
    open_compilation(org)
    client = api_as(org.head)
    refused = client.post("/api/planning/propose/", body(org, planned_start=f"{YEAR + 1}-01-01"), format="json")
    assert refused.status_code == 400 and "planned_start" in refused.json()
    assert not PlanProposal.objects.exists()
    saved = client.post("/api/planning/propose/", body(org), format="json")
    assert saved.status_code == 201
    assert PlanProposal.objects.get().planned_year == Decimal("30000000")


def test_the_check_gives_the_gap_against_the_targets(org):
    compilation = open_compilation(org)
    propose(org, compilation, org.project)
    submit(org, compilation)
    check = api_as(org.secretariat).get(f"/api/planning/check/?year={YEAR}").json()
    assert Decimal(check["total"]["amount"]) == Decimal(3000) * WAN
    assert Decimal(check["total"]["gap"]) == Decimal(-7000) * WAN
    territorial = next(row for row in check["groups"] if row["key"] == "territorial")
    assert Decimal(territorial["percent"]) == Decimal("50.0")


def test_the_secretariat_sends_back_through_the_api_with_a_reason(org):
    compilation = open_compilation(org)
    proposal = propose(org, compilation, org.project)
    submit(org, compilation)
    client = api_as(org.secretariat)
    assert client.post("/api/planning/decide/", {"proposal": proposal.pk, "decision": "return"}, format="json").status_code == 400
    answer = client.post("/api/planning/decide/", {"proposal": proposal.pk, "decision": "return", "reason": "金额偏高"}, format="json")
    assert answer.json()["state"] == "returned"


def test_a_unit_may_not_decide_and_an_owner_reads_nothing(org):
    compilation = open_compilation(org)
    proposal = propose(org, compilation, org.project)
    assert api_as(org.head).post("/api/planning/decide/", {"proposal": proposal.pk, "decision": "accept"}, format="json").status_code == 403
    assert api_as(org.owner).get("/api/planning/").status_code == 403
    assert APIClient().get("/api/planning/").status_code in (401, 403)


def test_a_unit_sees_only_its_proposals(org):
    compilation = open_compilation(org)
    propose(org, compilation, org.project)
    assert api_as(org.other_head).get(f"/api/planning/proposals/?year={YEAR}").json() == []
    assert len(api_as(org.staff).get(f"/api/planning/proposals/?year={YEAR}").json()) == 1


def published_with_a_window(org):
    compilation = open_compilation(org)
    proposal = propose(org, compilation, org.project)
    submit(org, compilation)
    services.proposal_accept(actor=org.secretariat.user, proposal_id=proposal.pk)
    services.compilation_publish(actor=org.secretariat.user, compilation_id=compilation.pk)
    today = timezone.localdate()
    window = api_as(org.secretariat).post(
        "/api/planning/window/", {"year": YEAR, "start": str(today), "end": str(today + datetime.timedelta(days=30))},
        format="json",
    )
    assert window.status_code == 200 and window.json()["adjust_from"] == str(today)
    return compilation


def test_the_secretariat_adjusts_the_published_plan_through_the_api_and_reads_the_difference(org):
    # Given the published plan of one case and an adjustment window open today
    published_with_a_window(org)
    client = api_as(org.secretariat)
    # When the second case is added without a reason, then with one, and the first is dropped
    no_reason = client.post("/api/planning/adjust/", {**body(org, project=org.second.pk), "change": "added", "reason": " "}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    added = client.post("/api/planning/adjust/", {**body(org, project=org.second.pk, planned_year="20000000"),
                                                  "change": "added", "reason": "市政府新增"}, format="json")
    assert added.status_code == 201, added.json()
    assert added.json()["number"] == 2 and added.json()["entry_count"] == 2
    dropped = client.post("/api/planning/adjust/", {"year": YEAR, "project": org.project.pk, "change": "dropped",
                                                    "reason": "项目暂缓"}, format="json")
    assert dropped.status_code == 201 and dropped.json()["number"] == 3
    # Then the versions list the three with their reasons, and each difference names its case
    versions = client.get(f"/api/planning/versions/?year={YEAR}").json()
    assert [(v["number"], v["change"], v["reason"]) for v in versions] == [
        (1, "published", ""), (2, "added", "市政府新增"), (3, "dropped", "项目暂缓"),
    ]
    latest = client.get(f"/api/planning/diff/?year={YEAR}").json()
    assert (latest["older"], latest["newer"]) == (2, 3)
    assert [row["project"] for row in latest["dropped"]] == [org.project.pk] and latest["added"] == []
    overall = client.get(f"/api/planning/diff/?year={YEAR}&older=1&newer=2").json()
    assert [(row["project"], row["planned_year"]) for row in overall["added"]] == [(org.second.pk, "20000000.00")]
    assert client.get(f"/api/planning/diff/?year={YEAR}&older=3&newer=2").status_code == 400
    assert client.get(f"/api/planning/diff/?year={YEAR}&older=9").status_code == 400
    assert client.get(f"/api/planning/diff/?year={YEAR}&older=x").status_code == 400


def test_a_unit_may_not_adjust_the_plan_nor_open_the_window(org):
    published_with_a_window(org)
    client = api_as(org.head)
    assert client.post("/api/planning/adjust/", {"year": YEAR, "project": org.project.pk, "change": "dropped",
                                                 "reason": "不做了"}, format="json").status_code == 403
    assert client.post("/api/planning/window/", {"year": YEAR, "start": "2026-12-01", "end": "2026-12-31"},
                       format="json").status_code == 403
    assert PlanVersion.objects.count() == 1
