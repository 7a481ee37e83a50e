"""Who sees which cases and records: the selectors' scoping by role and unit."""

import pytest
from django.contrib.auth.models import User
from django.http import Http404

from cases import selectors
from cases.financing import matching
from cases.financing import selectors as financing_selectors
from cases.models import LeaderResponsibility, Role, Stage
from tests.cases.factories import (
    PASSWORD,
    BlockerFactory,
    DockingFactory,
    KeyProjectFactory,
    PersonFactory,
    PreworkItemFactory,
    UnitFactory,
    set_stage,
)
from tests.cases.financing.factories import (
    FinancialProductFactory,
    FinancingNeedFactory,
    publish_directly,
)


def codes(queryset):
    return {project.code for project in queryset}


def project_codes_of(queryset):
    return {record.project.code for record in queryset}


# Roles against the organisation's two projects

# org.project: led by the park, owned by the enterprise, org.leader responsible.
# org.other_project: led by the other district, which org.other_leader answers for.
SEES = {
    "secretariat": {"2026-GX-0001", "2026-GX-0002"},
    "supervisor": {"2026-GX-0001", "2026-GX-0002"},
    "leader": {"2026-GX-0001"},
    "other_leader": {"2026-GX-0002"},
    "head": {"2026-GX-0001"},
    "staff": {"2026-GX-0001"},
    "dept_head": set(),
    "other_head": {"2026-GX-0002"},
    "bank": set(),
    "owner": {"2026-GX-0001"},
}


@pytest.fixture
def recorded(org):
    """One pre-work item, one blocker, one docking and one draft financing need on each of the
    organisation's projects."""
    for project, unit in [(org.project, org.park), (org.other_project, org.other_unit)]:
        PreworkItemFactory(project=project, approving_unit=unit)
        BlockerFactory(project=project, lead_unit=unit)
        DockingFactory(project=project, institution=org.bank_unit)
        FinancingNeedFactory(project=project)
    return org


@pytest.mark.parametrize("role", SEES)
def test_project_list_holds_exactly_the_cases_the_role_may_see(org, role):
    seen = selectors.project_list(getattr(org, role).user)

    assert codes(seen) == SEES[role]


@pytest.mark.parametrize("role", SEES)
def test_prework_item_list_holds_the_items_of_exactly_the_cases_the_role_may_see(recorded, role):
    seen = selectors.prework_item_list(getattr(recorded, role).user)

    assert project_codes_of(seen) == SEES[role]


@pytest.mark.parametrize("role", SEES)
def test_blocker_list_holds_the_blockers_of_exactly_the_cases_the_role_may_see(recorded, role):
    seen = selectors.blocker_list(getattr(recorded, role).user)

    assert project_codes_of(seen) == SEES[role]


@pytest.mark.parametrize("role", SEES)
def test_docking_list_holds_the_dockings_of_exactly_the_cases_the_role_may_see(recorded, role):
    seen = financing_selectors.case_dockings(getattr(recorded, role).user)

    assert project_codes_of(seen) == SEES[role]


@pytest.mark.parametrize("role", SEES)
def test_need_list_holds_the_unpublished_needs_of_exactly_the_cases_the_role_may_see(recorded, role):
    """Drafts are the case's business: an institution, which reads the white list only, sees none."""
    seen = financing_selectors.need_list(getattr(recorded, role).user)

    assert project_codes_of(seen) == SEES[role]


@pytest.mark.parametrize("role", SEES)
def test_project_detail_is_not_found_outside_the_roles_scope(org, role):
    user = getattr(org, role).user
    for project in (org.project, org.other_project):
        if project.code in SEES[role]:
            assert selectors.project_detail(user, project.pk).pk == project.pk
        else:
            with pytest.raises(Http404):
                selectors.project_detail(user, project.pk)


@pytest.mark.parametrize("role", SEES)
def test_the_stage_counts_count_only_the_cases_the_role_may_see(org, role):
    counts = selectors.project_counts_by_stage(getattr(org, role).user)

    assert sum(counts.values()) == len(SEES[role])


# The ways a unit reaches a case


def _link_by_lead_unit(project, unit):
    project.lead_unit = unit
    project.save()


def _link_by_cooperating_unit(project, unit):
    project.cooperating_units.add(unit)


def _link_by_approving_unit(project, unit):
    PreworkItemFactory(project=project, approving_unit=UnitFactory())
    PreworkItemFactory(project=project, approving_unit=unit)


def _link_by_blocker_lead_unit(project, unit):
    BlockerFactory(project=project, lead_unit=unit)


def _link_by_blocker_cooperating_unit(project, unit):
    blocker = BlockerFactory(project=project, lead_unit=UnitFactory())
    blocker.cooperating_units.add(unit)


UNIT_LINKS = {
    "lead unit": _link_by_lead_unit,
    "cooperating unit": _link_by_cooperating_unit,
    "approving unit of a pre-work item": _link_by_approving_unit,
    "lead unit of a blocker": _link_by_blocker_lead_unit,
    "cooperating unit of a blocker": _link_by_blocker_cooperating_unit,
}


@pytest.fixture
def unit_world(org):
    """A unit with a head and a staff member, and a case not yet linked to it."""
    unit = UnitFactory(name="生态环境局")
    head = PersonFactory(unit=unit, role=Role.UNIT_HEAD)
    staff = PersonFactory(unit=unit, role=Role.UNIT_STAFF)
    project = KeyProjectFactory(region=org.district, lead_unit=org.park)
    return unit, {"unit_head": head, "unit_staff": staff}, project


@pytest.mark.parametrize("role", ["unit_head", "unit_staff"])
@pytest.mark.parametrize("link", UNIT_LINKS)
def test_a_unit_sees_a_case_it_is_linked_to(unit_world, link, role):
    unit, people, project = unit_world
    user = people[role].user
    assert project.code not in codes(selectors.project_list(user))

    UNIT_LINKS[link](project, unit)

    assert codes(selectors.project_list(user)) == {project.code}


@pytest.mark.parametrize("link", UNIT_LINKS)
def test_a_unit_linked_to_a_case_sees_all_its_records_and_no_other_cases(org, unit_world, link):
    unit, people, project = unit_world
    PreworkItemFactory(project=project, approving_unit=org.park)
    BlockerFactory(project=project, lead_unit=org.park)
    PreworkItemFactory(project=org.project, approving_unit=org.park)
    BlockerFactory(project=org.project, lead_unit=org.park)

    UNIT_LINKS[link](project, unit)

    user = people["unit_head"].user
    assert project_codes_of(selectors.prework_item_list(user)) == {project.code}
    assert project_codes_of(selectors.blocker_list(user)) == {project.code}
    assert selectors.prework_item_list(user).count() == project.prework_items.count()
    assert selectors.blocker_list(user).count() == project.blockers.count()


def test_a_parent_unit_does_not_see_the_cases_of_its_child_unit(org):
    district_head = PersonFactory(unit=org.district, role=Role.UNIT_HEAD)

    seen = selectors.project_list(district_head.user)

    assert org.project.code not in codes(seen)


def test_a_district_does_not_see_a_case_merely_lying_in_it(org):
    """The region is where the case lies, not who works on it."""
    district = UnitFactory(kind="district")
    district_staff = PersonFactory(unit=district, role=Role.UNIT_STAFF)
    KeyProjectFactory(region=district, lead_unit=org.park)

    assert codes(selectors.project_list(district_staff.user)) == set()


# Leaders


def test_a_leader_sees_the_cases_it_is_responsible_for(org):
    project = KeyProjectFactory(
        region=org.district, lead_unit=org.department, responsible_leader=org.other_leader
    )

    seen = selectors.project_list(org.other_leader.user)

    assert project.code in codes(seen)


def test_a_leader_sees_the_cases_led_by_the_units_it_answers_for(org):
    LeaderResponsibility.objects.create(leader=org.leader, unit=org.department)
    project = KeyProjectFactory(region=org.district, lead_unit=org.department)

    seen = selectors.project_list(org.leader.user)

    assert codes(seen) == {org.project.code, project.code}


def test_a_leader_does_not_see_a_case_led_by_a_unit_another_leader_answers_for(org):
    seen = selectors.project_list(org.leader.user)

    assert org.other_project.code not in codes(seen)


# Owners and institutions


def test_an_owner_sees_only_its_own_enterprises_cases(org):
    other_enterprise = UnitFactory(kind="enterprise")
    KeyProjectFactory(region=org.district, owner=other_enterprise)
    second = KeyProjectFactory(region=org.district, owner=org.enterprise)

    seen = selectors.project_list(org.owner.user)

    assert codes(seen) == {org.project.code, second.code}


def test_an_owner_reads_its_cases_published_need_but_none_of_the_products_matched_with_it(org):
    set_stage(org.project, Stage.DOCKING)
    need = publish_directly(FinancingNeedFactory(project=org.project))
    FinancialProductFactory(institution=org.bank_unit)
    matching.match_need(need)

    seen = financing_selectors.need_list(org.owner.user).get(pk=need.pk)

    assert seen.match_count == 0
    assert list(financing_selectors.need_matches(org.owner.user, need)) == []
    assert financing_selectors.need_matches(org.secretariat.user, need).count() == 1


def test_an_institution_user_sees_no_case_even_with_a_docking_on_it(org):
    DockingFactory(project=org.project, institution=org.bank_unit)

    assert codes(selectors.project_list(org.bank.user)) == set()
    assert list(financing_selectors.case_dockings(org.bank.user)) == []


# Users who are no role


def test_a_superuser_without_a_person_record_sees_everything_like_the_secretariat(org):
    superuser = User.objects.create_superuser("root", password=PASSWORD)

    assert codes(selectors.project_list(superuser)) == {org.project.code, org.other_project.code}


def test_a_user_without_a_person_record_sees_nothing(org):
    user = User.objects.create_user("stranger", password=PASSWORD)

    assert codes(selectors.project_list(user)) == set()
    assert list(selectors.unit_list(user)) == []
    assert list(selectors.person_list(user)) == []


def test_a_deactivated_user_sees_nothing(org):
    user = org.secretariat.user
    user.is_active = False
    user.save()

    assert codes(selectors.project_list(user)) == set()


# The organisation directory


@pytest.mark.parametrize("role", SEES)
def test_the_directory_is_for_government_people_only(org, role):
    user = getattr(org, role).user

    units, people = selectors.unit_list(user), selectors.person_list(user)

    if role in ("bank", "owner"):
        assert (units.count(), people.count()) == (0, 0)
    else:
        assert units.count() == 7
        assert people.count() == len(org.everyone)
