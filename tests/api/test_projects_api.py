"""The key-project API: listing, creating, changing, transitions, timeline, schema and tokens."""

import datetime
import json
import re
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from cases import services
from cases.models import AnnualPlan, AuditAction, AuditEvent, KeyProject, Stage
from tests.cases.factories import (
    PASSWORD,
    AnnualPlanFactory,
    BlockerFactory,
    KeyProjectFactory,
    PreworkItemFactory,
    ready_to_select,
    set_stage,
    set_state,
)


@pytest.fixture
def api():
    """``api(person)``: a client logged in as that person; a server error is answered, not raised."""

    def login(person):
        client = APIClient(raise_request_exception=False)
        client.force_login(person.user)
        return client

    return login


def codes(response):
    return [row["code"] for row in response.json()["results"]]


def this_year():
    return timezone.localdate().year


def nothing_written(before):
    return {
        "projects": KeyProject.objects.count(),
        "plans": AnnualPlan.objects.count(),
        "events": AuditEvent.objects.count(),
    } == before


def counts():
    return {
        "projects": KeyProject.objects.count(),
        "plans": AnnualPlan.objects.count(),
        "events": AuditEvent.objects.count(),
    }


# Listing


@pytest.fixture
def catalogue(org):
    """Four cases that differ in every way the list filters by.

    2026-GX-0001 (org.project): reserve, new materials, in the district, led by the park,
    org.leader responsible, municipal, 100 million.
    2026-GX-0002 (org.other_project): reserve, in the other district, led by it, 200 million.
    2026-NE-0003: pre-work, new energy, in the district, led by the department, other_leader
    responsible, provincial, demonstration, 500 million.
    2026-BT-0004: construction, biotech, in the other district, led by the park, national,
    20 million.
    """
    KeyProject.objects.filter(pk=org.other_project.pk).update(total_investment=Decimal("200000000"))
    KeyProjectFactory(
        code="2026-NE-0003",
        name="光伏组件项目",
        industry="new_energy",
        region=org.district,
        lead_unit=org.department,
        responsible_leader=org.other_leader,
        level="provincial",
        demonstration=True,
        total_investment=Decimal("500000000"),
        stage=Stage.PREWORK,
    )
    KeyProjectFactory(
        code="2026-BT-0004",
        name="生物医药产业园",
        industry="biotech",
        region=org.other_unit,
        lead_unit=org.park,
        level="national",
        total_investment=Decimal("20000000"),
        capital_gap=0,
        stage=Stage.CONSTRUCTION,
    )
    return org


FILTERS = {
    "one stage": (lambda org: {"stage": "prework"}, {"2026-NE-0003"}),
    "two stages": (
        lambda org: {"stage": ["prework", "construction"]},
        {"2026-NE-0003", "2026-BT-0004"},
    ),
    "industry": (lambda org: {"industry": "biotech"}, {"2026-BT-0004"}),
    "region": (lambda org: {"region": org.district.pk}, {"2026-GX-0001", "2026-NE-0003"}),
    "lead unit": (lambda org: {"lead_unit": org.park.pk}, {"2026-GX-0001", "2026-BT-0004"}),
    "responsible leader": (
        lambda org: {"responsible_leader": org.other_leader.pk},
        {"2026-NE-0003"},
    ),
    "level": (lambda org: {"level": "national"}, {"2026-BT-0004"}),
    "demonstration": (lambda org: {"demonstration": "true"}, {"2026-NE-0003"}),
    "not demonstration": (
        lambda org: {"demonstration": "false"},
        {"2026-GX-0001", "2026-GX-0002", "2026-BT-0004"},
    ),
    "two filters at once": (
        lambda org: {"region": org.district.pk, "stage": "reserve"},
        {"2026-GX-0001"},
    ),
}


@pytest.mark.parametrize("case", FILTERS)
def test_the_project_list_filters(catalogue, api, case):
    params, expected = FILTERS[case]

    response = api(catalogue.secretariat).get("/api/projects/", params(catalogue))

    assert response.status_code == 200
    assert set(codes(response)) == expected


@pytest.mark.parametrize(
    "params", [{"stage": "dreaming"}, {"level": "galactic"}, {"region": "99999"}]
)
def test_an_unknown_filter_value_is_a_400_naming_the_filter(catalogue, api, params):
    response = api(catalogue.secretariat).get("/api/projects/", params)

    assert response.status_code == 400
    assert set(response.json()) == set(params)


@pytest.mark.parametrize(
    "term,expected",
    [
        ("2026-NE", ["2026-NE-0003"]),
        ("0004", ["2026-BT-0004"]),
        ("生物医药", ["2026-BT-0004"]),
        ("华远", ["2026-GX-0001"]),  # the owner enterprise's name
        ("不存在的项目", []),
    ],
)
def test_the_project_list_searches_code_name_and_owner(catalogue, api, term, expected):
    response = api(catalogue.secretariat).get("/api/projects/", {"search": term})

    assert codes(response) == expected


@pytest.mark.parametrize(
    "ordering,expected",
    [
        (None, ["2026-BT-0004", "2026-GX-0001", "2026-GX-0002", "2026-NE-0003"]),
        ("-code", ["2026-NE-0003", "2026-GX-0002", "2026-GX-0001", "2026-BT-0004"]),
        ("-total_investment", ["2026-NE-0003", "2026-GX-0002", "2026-GX-0001", "2026-BT-0004"]),
        ("total_investment", ["2026-BT-0004", "2026-GX-0001", "2026-GX-0002", "2026-NE-0003"]),
    ],
)
def test_the_project_list_is_ordered_by_code_unless_asked_otherwise(
    catalogue, api, ordering, expected
):
    params = {"ordering": ordering} if ordering else {}

    response = api(catalogue.secretariat).get("/api/projects/", params)

    assert codes(response) == expected


def test_the_project_list_comes_in_pages_of_fifty(org, api):
    KeyProjectFactory.create_batch(49, region=org.district)
    client = api(org.secretariat)

    first = client.get("/api/projects/").json()
    second = client.get("/api/projects/", {"page": 2}).json()

    assert (first["count"], len(first["results"]), first["previous"]) == (51, 50, None)
    assert first["next"].endswith("page=2")
    assert (len(second["results"]), second["next"]) == (1, None)
    all_codes = [row["code"] for row in first["results"] + second["results"]]
    assert len(set(all_codes)) == 51
    assert client.get("/api/projects/", {"page": 3}).status_code == 404


def test_a_list_row_carries_this_years_plan_and_what_holds_the_case_back(org, api):
    AnnualPlanFactory(project=org.project, planned_investment=Decimal("40000000"))
    AnnualPlanFactory(project=org.project, year=this_year() - 1, planned_investment=Decimal("1"))
    BlockerFactory(project=org.project)
    set_state(BlockerFactory(project=org.project), "closed_out")
    PreworkItemFactory(project=org.project)
    PreworkItemFactory(project=org.project, required=False)
    set_state(PreworkItemFactory(project=org.project), "done")

    response = api(org.secretariat).get("/api/projects/", {"search": org.project.code})

    [row] = response.json()["results"]
    assert (
        row["planned_this_year"],
        row["open_blocker_count"],
        row["unsettled_prework_count"],
    ) == (
        "40000000.00",
        1,
        1,
    )


# Creating


def project_body(org, **overrides):
    body = {
        "code": "2026-XC-0101",
        "name": "新材料产业基地",
        "industry": "new_materials",
        "region": org.district.pk,
        "owner": org.enterprise.pk,
        "lead_unit": org.park.pk,
        "cooperating_units": [org.department.pk],
        "responsible_leader": org.leader.pk,
        "total_investment": "300000000.00",
        "investment_completed_total": "0.00",
        "capital_gap": "120000000.00",
        "planned_start": "2026-03-01",
        "planned_finish": "2028-06-30",
        "annual_plans": [{"year": this_year(), "planned_investment": "80000000.00"}],
    }
    body.update(overrides)
    return body


def test_creating_a_project_answers_201_with_the_case_in_reserve_and_audits_it(org, api):
    response = api(org.secretariat).post("/api/projects/", project_body(org), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["code"], body["stage"], body["version"], body["cooperating_units"]) == (
        "2026-XC-0101",
        "reserve",
        1,
        [org.department.pk],
    )
    assert body["annual_plans"] == [
        {"year": this_year(), "planned_investment": "80000000.00", "completed_investment": "0.00"}
    ]
    project = KeyProject.objects.get(code="2026-XC-0101")
    [event] = AuditEvent.objects.filter(project=project)
    assert (event.action, event.actor, event.to_state) == (
        AuditAction.CREATED,
        org.secretariat.user,
        "reserve",
    )
    assert event.changes["code"] == [None, "2026-XC-0101"]
    assert event.changes[f"plan_{this_year()}"] == [None, ["80000000.00", "0.00"]]


BAD_INPUT = {
    "negative total investment": (lambda org: {"total_investment": "-1.00"}, "total_investment"),
    "negative capital gap": (lambda org: {"capital_gap": "-5.00"}, "capital_gap"),
    "capital gap above the total": (lambda org: {"capital_gap": "300000000.01"}, "capital_gap"),
    "completed above the total": (
        lambda org: {"investment_completed_total": "400000000"},
        "investment_completed_total",
    ),
    "finish before start": (lambda org: {"planned_finish": "2026-02-28"}, "planned_finish"),
    "bad code format": (lambda org: {"code": "2026-gx-12"}, "code"),
    "code already taken": (lambda org: {"code": org.project.code}, "code"),
    "region not a district": (lambda org: {"region": org.park.pk}, "region"),
    "owner not an enterprise": (lambda org: {"owner": org.department.pk}, "owner"),
    "negative annual plan": (
        lambda org: {"annual_plans": [{"year": this_year(), "planned_investment": "-1"}]},
        "annual_plans",
    ),
    "implausible plan year": (
        lambda org: {"annual_plans": [{"year": 1999, "planned_investment": "1"}]},
        "annual_plans",
    ),
    "completed this year above the cumulative": (
        lambda org: {
            "annual_plans": [
                {"year": this_year(), "planned_investment": "1", "completed_investment": "9"}
            ]
        },
        "annual_plans",
    ),
    "the same plan year twice": (
        lambda org: {
            "annual_plans": [
                {"year": this_year(), "planned_investment": "1"},
                {"year": this_year(), "planned_investment": "2"},
            ]
        },
        "annual_plans",
    ),
    "a bank as lead unit": (lambda org: {"lead_unit": org.bank_unit.pk}, "lead_unit"),
    "an enterprise as lead unit": (lambda org: {"lead_unit": org.enterprise.pk}, "lead_unit"),
    "a bank as cooperating unit": (
        lambda org: {"cooperating_units": [org.bank_unit.pk]},
        "cooperating_units",
    ),
    "a unit head as responsible leader": (
        lambda org: {"responsible_leader": org.head.pk},
        "responsible_leader",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_to_create_is_a_400_naming_the_field_and_writes_nothing(org, api, case):
    overrides, field = BAD_INPUT[case]
    before = counts()

    response = api(org.secretariat).post(
        "/api/projects/", project_body(org, **overrides(org)), format="json"
    )

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert nothing_written(before)


# Changing


def test_a_change_with_the_current_version_is_saved_and_audited(org, api):
    response = api(org.secretariat).patch(
        f"/api/projects/{org.project.pk}/",
        {"name": "新名字", "version": org.project.version},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["version"]) == (
        "新名字",
        org.project.version + 1,
    )
    [event] = AuditEvent.objects.filter(project=org.project)
    assert (event.action, event.actor) == (AuditAction.UPDATED, org.secretariat.user)
    assert event.changes == {"name": [org.project.name, "新名字"]}


def test_a_change_from_a_stale_version_is_a_409_and_writes_nothing(org, api):
    client = api(org.secretariat)
    read_version = org.project.version
    client.patch(f"/api/projects/{org.project.pk}/", {"name": "先到的修改"}, format="json")
    before = counts()

    response = client.patch(
        f"/api/projects/{org.project.pk}/",
        {"name": "迟到的修改", "version": read_version},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert KeyProject.objects.get(pk=org.project.pk).name == "先到的修改"
    assert nothing_written(before)


def test_a_change_that_breaks_a_rule_is_a_400_and_writes_nothing(org, api):
    before = counts()

    response = api(org.secretariat).patch(
        f"/api/projects/{org.project.pk}/", {"capital_gap": "100000000.01"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["capital_gap"]
    assert KeyProject.objects.get(pk=org.project.pk).version == org.project.version
    assert nothing_written(before)


@pytest.mark.parametrize(
    "field,value",
    [
        ("lead_unit", "department"),
        ("responsible_leader", "other_leader"),
        ("code", None),
        ("demonstration", None),
    ],
)
def test_the_lead_unit_may_not_change_what_only_the_secretariat_decides(org, api, field, value):
    new = {
        "lead_unit": lambda: org.department.pk,
        "responsible_leader": lambda: org.other_leader.pk,
        "code": lambda: "2026-GX-9999",
        "demonstration": lambda: True,
    }[field]()
    before = counts()

    response = api(org.head).patch(f"/api/projects/{org.project.pk}/", {field: new}, format="json")

    assert response.status_code == 400
    assert response.json() == {field: ["Only the secretariat may change this."]}
    assert nothing_written(before)


def test_the_lead_unit_may_change_the_facts_of_its_case(org, api):
    response = api(org.staff).patch(
        f"/api/projects/{org.project.pk}/",
        {"description": "一期厂房封顶", "lead_unit": org.park.pk, "version": org.project.version},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert AuditEvent.objects.get(project=org.project).changes == {
        "description": ["", "一期厂房封顶"]
    }


def test_changing_an_annual_plan_is_audited_with_its_old_and_new_amounts(org, api):
    AnnualPlanFactory(project=org.project, planned_investment=Decimal("40000000"))

    response = api(org.secretariat).patch(
        f"/api/projects/{org.project.pk}/",
        {"annual_plans": [{"year": this_year(), "planned_investment": "45000000.00"}]},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["annual_plans"][0]["planned_investment"] == "45000000.00"
    assert AuditEvent.objects.get(project=org.project).changes == {
        f"plan_{this_year()}": [["40000000.00", "0.00"], ["45000000.00", "0.00"]]
    }


# Transitions


def transitions_url(project):
    return f"/api/projects/{project.pk}/transitions/"


def test_the_transition_options_say_what_may_be_done_and_why_not(org, api):
    response = api(org.secretariat).get(transitions_url(org.project))

    assert response.status_code == 200
    options = {option["name"]: option for option in response.json()}
    assert set(options) == {"select", "withdraw"}
    assert options["select"]["permitted"] is True
    assert options["select"]["possible"] is False
    assert options["select"]["reasons"] == [
        f"No planned investment is set for {this_year()}.",
        "The planned start date is not set.",
        "The planned finish date is not set.",
    ]
    assert (options["withdraw"]["possible"], options["withdraw"]["reason_required"]) == (True, True)


def test_the_transition_options_tell_a_unit_head_what_it_may_not_do(org, api):
    response = api(org.head).get(transitions_url(org.project))

    assert {option["name"]: option["permitted"] for option in response.json()} == {
        "select": False,
        "withdraw": False,
    }


def test_a_blocked_transition_is_a_400_with_the_reasons_in_words(org, api):
    before = counts()

    response = api(org.secretariat).post(
        transitions_url(org.project), {"transition": "select"}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "transition_blocked"
    assert body["reasons"] == [
        f"No planned investment is set for {this_year()}.",
        "The planned start date is not set.",
        "The planned finish date is not set.",
    ]
    assert KeyProject.objects.get(pk=org.project.pk).stage == Stage.RESERVE
    assert nothing_written(before)


def test_a_transition_from_a_stale_version_is_a_409_and_writes_nothing(org, api):
    project = ready_to_select(org.project, leader=org.leader)
    client = api(org.secretariat)
    client.patch(f"/api/projects/{project.pk}/", {"name": "别人先改了"}, format="json")
    before = counts()

    response = client.post(
        transitions_url(project),
        {"transition": "select", "version": project.version},
        format="json",
    )

    assert response.status_code == 409
    assert KeyProject.objects.get(pk=project.pk).stage == Stage.RESERVE
    assert nothing_written(before)


def test_a_transition_moves_the_stage_and_writes_one_audit_event(org, api):
    project = ready_to_select(org.project, leader=org.leader)

    response = api(org.secretariat).post(
        transitions_url(project),
        {"transition": "select", "version": project.version},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert (response.json()["stage"], response.json()["version"]) == (
        "prework",
        project.version + 1,
    )
    [event] = AuditEvent.objects.filter(project=project)
    assert (event.action, event.transition, event.from_state, event.to_state, event.actor) == (
        AuditAction.TRANSITION,
        "select",
        "reserve",
        "prework",
        org.secretariat.user,
    )


@pytest.mark.parametrize("role", ["head", "staff", "leader", "supervisor", "owner"])
def test_a_transition_the_role_may_not_take_is_a_403_and_writes_nothing(org, api, role):
    project = ready_to_select(org.project, leader=org.leader)
    before = counts()

    response = api(getattr(org, role)).post(
        transitions_url(project), {"transition": "select"}, format="json"
    )

    assert response.status_code == 403
    assert KeyProject.objects.get(pk=project.pk).stage == Stage.RESERVE
    assert nothing_written(before)


def test_the_lead_units_head_may_open_docking(org, api):
    project = set_stage(org.project, Stage.PREWORK)

    response = api(org.head).post(
        transitions_url(project), {"transition": "open_docking"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["stage"] == "docking"


def test_a_transition_that_does_not_start_here_is_a_400_saying_so(org, api):
    response = api(org.secretariat).post(
        transitions_url(org.project), {"transition": "complete"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "“complete” is not possible from the current state (Reserve).",
        "code": "transition_not_available",
    }


def test_a_transition_that_needs_a_reason_is_a_400_without_one(org, api):
    response = api(org.secretariat).post(
        transitions_url(org.project), {"transition": "withdraw"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"reason": ["Give a reason for this step."]}
    assert KeyProject.objects.get(pk=org.project.pk).stage == Stage.RESERVE


def test_an_unknown_transition_is_a_400_naming_the_field(org, api):
    response = api(org.secretariat).post(
        transitions_url(org.project), {"transition": "teleport"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["transition"]


# Timeline


def test_the_timeline_lists_the_events_of_the_case_and_its_records_newest_first(org, api):
    secretariat = org.secretariat.user
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), tick=False):
        services.project_update(project=org.project, actor=secretariat, data={"name": "改名"})
    with time_machine.travel(datetime.datetime(2026, 3, 3, 9, 0, tzinfo=datetime.UTC), tick=False):
        services.prework_item_create(
            project=org.project,
            actor=secretariat,
            data={"kind": "land", "approving_unit": org.department, "statutory_days": 20},
        )
    with time_machine.travel(datetime.datetime(2026, 3, 4, 9, 0, tzinfo=datetime.UTC), tick=False):
        services.project_transition(
            project_id=org.project.pk, transition="withdraw", actor=secretariat, reason="企业放弃"
        )
    services.project_update(project=org.other_project, actor=secretariat, data={"name": "别的项目"})

    response = api(org.head).get(f"/api/projects/{org.project.pk}/timeline/")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(row["object_type"], row["action"], row["transition"]) for row in rows] == [
        ("keyproject", "transition", "withdraw"),
        ("preworkitem", "created", ""),
        ("keyproject", "updated", ""),
    ]
    assert [row["at"][:10] for row in rows] == ["2026-03-04", "2026-03-03", "2026-03-02"]
    assert (rows[0]["reason"], rows[0]["actor_name"]) == ("企业放弃", "secretariat")


# Schema, docs and tokens


def test_the_schema_is_an_openapi_3_document_readable_without_login(client, db):
    response = client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)
    assert {
        "/api/projects/",
        "/api/projects/{id}/transitions/",
        "/api/projects/{id}/timeline/",
    } <= set(schema["paths"])


def test_the_api_docs_page_renders_the_schema(client, db):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    # the page's own script is a file (the Content Security Policy runs no inline script), and it
    # loads the schema
    script = re.search(r'<script src="(/api/docs/\?script=[^"]*)"', page).group(1)
    assert "<script>" not in page
    assert "/api/schema/" in client.get(script.replace("&amp;", "&")).content.decode()


def test_a_token_from_the_token_endpoint_authenticates_api_calls(org):
    client = APIClient()
    token = client.post(
        "/api/auth/token/", {"username": "head", "password": PASSWORD}, format="json"
    ).json()["token"]

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get("/api/projects/")

    assert response.status_code == 200
    assert codes(response) == [org.project.code]


def test_a_wrong_password_gets_no_token(org):
    response = APIClient().post(
        "/api/auth/token/", {"username": "head", "password": "not-the-password"}, format="json"
    )

    assert response.status_code == 400
    assert "token" not in response.json()


def test_a_made_up_token_is_refused(org):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")

    response = client.get("/api/projects/")

    assert response.status_code in (401, 403)
    assert org.project.code not in response.content.decode()
