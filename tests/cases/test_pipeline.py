"""The pipeline before the key list: ideas (谋划), the reserve pool's entry threshold, the readiness
checklist, the pool's page and API, and the cases by industry."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import selectors, services
from cases.filters import horizon_of
from cases.models import (
    AuditEvent,
    EntryThreshold,
    Industry,
    IndustryCluster,
    KeyProject,
    PreworkKind,
    PreworkState,
    ProjectType,
    ReadinessItem,
    ReadinessNeed,
    RegionCode,
    Stage,
)
from cases.services import TransitionBlocked
from tests.cases.factories import KeyProjectFactory, PreworkItemFactory, ready_to_select

pytestmark = pytest.mark.django_db

WAN = Decimal("10000")


def idea_data(org, **overrides):
    data = {
        "name": "高新区智能传感器谋划项目",
        "industry": Industry.NEXT_GEN_IT,
        "project_type": ProjectType.INDUSTRIAL,
        "region": org.district,
        "total_investment": 30000 * WAN,
        "land_area_mu": Decimal("120"),
        "planned_start": datetime.date(2027, 9, 1),
    }
    return {**data, **overrides}


def propose(org, person=None, **overrides):
    return services.project_propose_idea(actor=(person or org.head).user, data=idea_data(org, **overrides))


# Ideas


def test_a_unit_heads_idea_is_recorded_in_the_idea_stage_led_by_the_unit_and_audited(org):
    # When the park's head proposes an idea naming another unit as its lead
    project = propose(org, lead_unit=org.other_unit)

    # Then it is an idea of the park, with an idea code, and its creation is on the timeline
    assert project.stage == Stage.IDEA
    assert project.lead_unit == org.park
    assert project.code.endswith("-IDEA-0001")
    event = AuditEvent.objects.get(project=project)
    assert event.to_state == Stage.IDEA and event.actor_name == org.head.name
    # and the next idea draws the next code
    assert propose(org, name="第二个谋划项目").code.endswith("-IDEA-0002")


@pytest.mark.parametrize("role", ["bank", "owner", "leader", "supervisor"])
def test_only_units_and_the_project_office_propose_ideas(org, role):
    with pytest.raises(PermissionDenied):
        propose(org, getattr(org, role))
    assert not KeyProject.objects.filter(stage=Stage.IDEA).exists()


def test_an_idea_need_not_be_complete(org):
    project = propose(org, total_investment=Decimal("0"), land_area_mu=None, planned_start=None)
    assert project.stage == Stage.IDEA


# idea -> reserve


def reasons_to_enter(project):
    project = selectors.project_for_change(project.pk)
    return [option for option in services.transition_options(project, None) if option.name == "enter_reserve"]


def test_an_idea_below_its_types_threshold_is_told_both_amounts(org):
    # Given an industrial idea of 4,000 万元 (the threshold is 1 亿元)
    project = propose(org, total_investment=4000 * WAN)

    # When the secretariat lets it into the reserve pool
    with pytest.raises(TransitionBlocked) as blocked:
        services.project_transition(project_id=project.pk, transition="enter_reserve", actor=org.secretariat.user)

    # Then it is refused, saying the total, the threshold and the type
    (reason,) = blocked.value.reasons
    assert "4,000.00" in reason and "10,000.00" in reason and "Industrial" in reason
    assert KeyProject.objects.get(pk=project.pk).stage == Stage.IDEA


def test_an_agricultural_idea_of_6000_wan_meets_its_lower_threshold(org):
    # Given an agricultural idea of 6,000 万元 (the threshold is 5,000 万元)
    project = propose(org, project_type=ProjectType.AGRICULTURE, total_investment=6000 * WAN)

    # When the secretariat lets it in, then it is in the reserve pool
    services.project_transition(project_id=project.pk, transition="enter_reserve", actor=org.secretariat.user)
    assert KeyProject.objects.get(pk=project.pk).stage == Stage.RESERVE


def test_the_threshold_is_data_the_admin_changes(org):
    EntryThreshold.objects.filter(project_type=ProjectType.INDUSTRIAL).update(minimum_investment=50000 * WAN)
    project = propose(org)  # 30,000 万元
    with pytest.raises(TransitionBlocked) as blocked:
        services.project_transition(project_id=project.pk, transition="enter_reserve", actor=org.secretariat.user)
    assert "50,000.00" in blocked.value.reasons[0]


def test_an_idea_without_land_start_or_unit_is_told_each(org):
    project = services.project_propose_idea(
        actor=org.secretariat.user, data=idea_data(org, land_area_mu=None, planned_start=None)
    )
    with pytest.raises(TransitionBlocked) as blocked:
        services.project_transition(project_id=project.pk, transition="enter_reserve", actor=org.secretariat.user)
    reasons = " ".join(blocked.value.reasons)
    assert "No lead unit is set." in reasons
    assert "The land area is not estimated" in reasons
    assert "The planned start date is not set." in reasons


def test_a_unit_head_may_not_let_an_idea_into_the_pool(org):
    project = propose(org)
    with pytest.raises(PermissionDenied):
        services.project_transition(project_id=project.pk, transition="enter_reserve", actor=org.head.user)
    assert KeyProject.objects.get(pk=project.pk).stage == Stage.IDEA


def test_an_idea_may_be_withdrawn_with_a_reason(org):
    project = propose(org)
    services.project_transition(
        project_id=project.pk, transition="withdraw", actor=org.secretariat.user, reason="与规划不符"
    )
    assert KeyProject.objects.get(pk=project.pk).stage == Stage.WITHDRAWN


# reserve -> prework: the readiness checklist's needs


def test_selection_names_the_checklist_items_the_type_needs_first(org):
    # Given the industrial checklist asks for the filing and the EIA before selection
    for line in ReadinessItem.objects.filter(
        project_type=ProjectType.INDUSTRIAL, kind__in=[PreworkKind.FILING, PreworkKind.EIA]
    ):
        line.needed = ReadinessNeed.TO_SELECT
        line.save()  # as the admin saves it: the cached needs are forgotten
    project = ready_to_select(org.project, leader=org.leader)
    PreworkItemFactory(project=project, kind=PreworkKind.FILING, state=PreworkState.DONE)

    # When the secretariat selects it, then it is told the EIA is missing, not the filing
    with pytest.raises(TransitionBlocked) as blocked:
        services.project_transition(project_id=project.pk, transition="select", actor=org.secretariat.user)
    (reason,) = blocked.value.reasons
    assert "Environmental impact assessment" in reason and "Project filing" not in reason

    # and once the EIA is waived it may be selected
    PreworkItemFactory(project=project, kind=PreworkKind.EIA, state=PreworkState.WAIVED)
    services.project_transition(project_id=project.pk, transition="select", actor=org.secretariat.user)
    assert KeyProject.objects.get(pk=project.pk).stage == Stage.PREWORK


def test_by_default_the_checklist_asks_nothing_before_selection(org):
    project = ready_to_select(org.project, leader=org.leader)
    services.project_transition(project_id=project.pk, transition="select", actor=org.secretariat.user)
    assert KeyProject.objects.get(pk=project.pk).stage == Stage.PREWORK


def test_every_project_type_has_a_threshold_and_a_checklist():
    assert set(EntryThreshold.objects.values_list("project_type", flat=True)) == set(ProjectType.values)
    assert set(ReadinessItem.objects.values_list("project_type", flat=True)) == set(ProjectType.values)
    assert EntryThreshold.objects.get(project_type=ProjectType.SOCIAL).minimum_investment == 5000 * WAN


# The pool's reads


def test_the_pool_counts_each_cases_checklist_and_says_what_is_missing(org):
    # Given a reserve industrial case (six items) with the filing done, the land under way
    project = org.project
    PreworkItemFactory(project=project, kind=PreworkKind.FILING, state=PreworkState.DONE)
    PreworkItemFactory(project=project, kind=PreworkKind.LAND, state=PreworkState.IN_PROGRESS)
    row = selectors.pool_list(org.secretariat.user).get(pk=project.pk)

    # Then the pool counts one of six settled, and each item's state is read
    assert (row.readiness_settled, row.readiness_total) == (1, 6)
    states = dict(
        (line.kind, state)
        for line, state in selectors.readiness_of(row, selectors.readiness_checklists()[row.project_type])
    )
    assert states[PreworkKind.FILING] == "done"
    assert states[PreworkKind.LAND] == "in_progress"
    assert states[PreworkKind.EIA] == "missing"


def test_the_pool_holds_ideas_and_the_reserve_only(org):
    idea = propose(org)
    listed = KeyProjectFactory(code="2026-GX-0009", region=org.district, lead_unit=org.park, stage=Stage.PREWORK)
    ids = set(selectors.pool_list(org.secretariat.user).values_list("pk", flat=True))
    assert {idea.pk, org.project.pk} <= ids and listed.pk not in ids


def test_a_planned_start_puts_a_case_in_one_of_the_pools():
    today = datetime.date(2026, 12, 7)
    assert horizon_of(datetime.date(2027, 6, 1), today) == "execution"
    assert horizon_of(datetime.date(2029, 6, 1), today) == "rolling"
    assert horizon_of(datetime.date(2031, 6, 1), today) == "reserve"
    assert horizon_of(datetime.date(2032, 1, 1), today) == "later"
    assert horizon_of(None, today) == "later"


# The pool's page and API


def pool_url(**params):
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse("cases:pool:list") + (f"?{query}" if query else "")


def test_the_heads_pool_shows_the_units_own_ideas_and_not_anothers(org, as_user):
    own = propose(org)
    other = propose(org, org.other_head, name="东湖区另一个谋划项目")
    page = as_user(org.head).get(pool_url()).content.decode()
    assert own.name in page and other.name not in page


@pytest.mark.parametrize("role", ["bank", "owner"])
def test_banks_and_enterprises_do_not_see_the_pool(org, as_user, role):
    assert as_user(getattr(org, role)).get(pool_url()).status_code == 403
    assert as_user(getattr(org, role)).get(reverse("api:pool-list")).status_code == 403


def test_the_pool_filters_by_stage_threshold_and_strategic_industry(org, as_user):
    small = propose(org, name="小型谋划项目", total_investment=2000 * WAN)
    big = propose(org, name="大型谋划项目", industry=Industry.LIVELIHOOD)
    client = as_user(org.secretariat)
    below = client.get(pool_url(stage="idea", threshold="below")).content.decode()
    assert small.name in below and big.name not in below
    strategic = client.get(reverse("api:pool-list") + "?strategic_emerging=true").json()
    names = {row["name"] for row in strategic["results"]}
    assert small.name in names and big.name not in names


def test_a_unit_head_proposes_an_idea_on_the_page(org, as_user):
    client = as_user(org.head)
    response = client.post(
        reverse("cases:pool:propose_idea"),
        {
            "name": "高新区算力中心谋划项目",
            "industry": Industry.NEXT_GEN_IT,
            "project_type": ProjectType.INDUSTRIAL,
            "region": org.district.pk,
            "total_investment": "12,000",
            "land_area_mu": "80",
            "planned_start": "2027-05-01",
        },
    )
    project = KeyProject.objects.get(name="高新区算力中心谋划项目")
    assert response.status_code == 302 and response["Location"].endswith(f"/cases/projects/{project.pk}/detail/")
    assert project.stage == Stage.IDEA and project.lead_unit == org.park
    assert project.total_investment == 12000 * WAN


def test_a_bad_idea_is_refused_naming_the_field_and_nothing_is_written(org, as_user):
    response = as_user(org.head).post(
        reverse("cases:pool:propose_idea"),
        {"name": "", "industry": "no-such", "region": org.district.pk, "total_investment": "-5"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert {"name", "industry", "total_investment"} <= set(form.errors)
    assert not KeyProject.objects.filter(stage=Stage.IDEA).exists()


def test_the_api_proposes_an_idea_and_lists_it_with_its_readiness(org, as_user):
    client = as_user(org.head)
    response = client.post(
        reverse("api:idea-list"),
        {
            "name": "接口提出的谋划项目",
            "industry": Industry.NEW_ENERGY,
            "project_type": ProjectType.INDUSTRIAL,
            "region": org.district.pk,
            "total_investment": "150000000.00",
            "land_area_mu": "45",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["stage"] == Stage.IDEA and body["strategic_emerging"] is True
    assert body["readiness_total"] == 6 and body["readiness_settled"] == 0
    assert [line["state"] for line in body["readiness"]] == ["missing"] * 6
    listed = client.get(reverse("api:project-list") + "?stage=idea").json()
    assert [row["name"] for row in listed["results"]] == ["接口提出的谋划项目"]


def test_the_pool_page_costs_the_same_queries_at_3_and_30_cases(org, as_user):
    client = as_user(org.secretariat)

    def count():
        client.get(pool_url())
        with CaptureQueriesContext(connection) as queries:
            assert client.get(pool_url()).status_code == 200
        return len(queries)

    for index in range(2):
        propose(org, name=f"谋划项目{index}")
    few = count()
    for index in range(28):
        project = propose(org, name=f"更多谋划项目{index}")
        PreworkItemFactory(project=project, kind=PreworkKind.FILING, state=PreworkState.DONE)
    assert count() == few


# By industry


def test_the_statistics_put_strategic_industries_first_and_count_the_pipeline_apart(org):
    cluster = IndustryCluster.objects.create(name="生物医药产业集群", industry=Industry.BIOTECH)
    KeyProjectFactory(
        code="2026-SW-0001",
        region=org.district,
        lead_unit=org.park,
        industry=Industry.BIOTECH,
        industry_cluster=cluster,
        stage=Stage.CONSTRUCTION,
        total_investment=50000 * WAN,
    )
    propose(org, industry=Industry.BIOTECH)
    KeyProjectFactory(code="2026-JC-0001", region=org.district, industry=Industry.INFRASTRUCTURE, stage=Stage.PREWORK)

    with CaptureQueriesContext(connection) as queries:
        figures = selectors.industry_statistics(org.secretariat.user, year=2026)
    assert len(queries) <= 5

    rows = {row["industry"]: row for row in figures["industries"]}
    assert rows[Industry.BIOTECH]["listed"] == 1 and rows[Industry.BIOTECH]["pipeline"] == 1
    assert rows[Industry.BIOTECH]["strategic"] is True
    assert rows[Industry.INFRASTRUCTURE]["strategic"] is False
    order = [row["industry"] for row in figures["industries"]]
    assert order.index(Industry.BIOTECH) < order.index(Industry.INFRASTRUCTURE)
    (cluster_row,) = figures["clusters"]
    assert cluster_row["label"] == "生物医药产业集群" and cluster_row["total"] == 50000 * WAN


def test_the_admin_edits_the_thresholds_and_the_checklists_and_the_guards_follow(org, client):
    # Given the project office's administrator in the Django admin
    admin_user = org.secretariat.user
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    for model in ("industrycluster", "entrythreshold", "readinessitem"):
        assert client.get(reverse(f"admin:cases_{model}_changelist")).status_code == 200
    # When it raises the industrial threshold to 5 亿元 (the form takes yuan, as stored)
    threshold = EntryThreshold.objects.get(project_type=ProjectType.INDUSTRIAL)
    answer = client.post(
        reverse("admin:cases_entrythreshold_change", args=[threshold.pk]),
        {"project_type": ProjectType.INDUSTRIAL, "minimum_investment": "500000000"},
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    # and makes the EIA needed before selection
    line = ReadinessItem.objects.get(project_type=ProjectType.INDUSTRIAL, kind=PreworkKind.EIA)
    answer = client.post(
        reverse("admin:cases_readinessitem_change", args=[line.pk]),
        {"project_type": line.project_type, "kind": line.kind, "position": line.position, "needed": ReadinessNeed.TO_SELECT},
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    # Then a 3 亿元 idea may not enter the reserve, and a reserve case without the EIA may not be selected
    with pytest.raises(TransitionBlocked) as blocked:
        services.project_transition(project_id=propose(org).pk, transition="enter_reserve", actor=admin_user)
    assert "50,000.00" in blocked.value.reasons[0]
    with pytest.raises(TransitionBlocked) as blocked:
        services.project_transition(
            project_id=ready_to_select(org.project, leader=org.leader).pk, transition="select", actor=admin_user
        )
    assert "Environmental impact assessment" in " ".join(blocked.value.reasons)


def test_a_unit_may_not_record_the_platform_code_on_its_idea(org, as_user):
    # The platform's project code is the secretariat's to record, on an idea as on every case
    with pytest.raises(ValidationError) as refused:
        propose(org, project_code="2603-369902-04-01-583922")
    assert "project_code" in refused.value.message_dict
    body = {"name": "接口提出的谋划项目", "industry": Industry.NEW_ENERGY, "region": org.district.pk,
            "project_code": "2603-369902-04-01-583922"}
    api = as_user(org.head).post(reverse("api:idea-list"), body, content_type="application/json")
    assert api.status_code == 400 and "project_code" in api.json()
    assert not KeyProject.objects.filter(stage=Stage.IDEA).exists()
    # and the secretariat may
    RegionCode.objects.create(code="369902", name="江城区", unit=org.district)
    assert services.project_propose_idea(
        actor=org.secretariat.user, data=idea_data(org, lead_unit=org.park, project_code="2603-369902-04-01-583922")
    ).project_code == "2603-369902-04-01-583922"
