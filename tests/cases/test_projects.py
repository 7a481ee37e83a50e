"""Writing key projects through the services: what a lead unit may change and what only the secretariat may."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cases import services
from cases.models import AuditEvent, KeyProject


def fresh(project):
    return KeyProject.objects.get(pk=project.pk)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("code", "2026-GX-0999"),
        ("level", "national"),
        ("owner", None),
        ("cooperating_units", "department"),
        ("responsible_leader", "other_leader"),
        ("lead_unit", "department"),
        ("demonstration", True),
        ("financing_waiver_reason", "特批"),
    ],
)
def test_the_lead_unit_may_not_change_what_decides_who_answers_for_or_sees_a_case(org, field, value):
    if field == "cooperating_units":
        value = [org.department]
    elif isinstance(value, str) and hasattr(org, value):
        value = getattr(org, value)
    before = fresh(org.project)
    with pytest.raises(ValidationError) as error:
        services.project_update(project=fresh(org.project), actor=org.head.user, data={field: value})
    assert field in error.value.message_dict
    after = fresh(org.project)
    assert (after.version, getattr(after, f"{field}_id", None)) == (before.version, getattr(before, f"{field}_id", None))
    assert not AuditEvent.objects.filter(project=org.project, action="updated").exists()
    services.project_update(project=fresh(org.project), actor=org.secretariat.user, data={field: value})


def test_the_lead_unit_may_change_the_facts_of_its_case(org):
    services.project_update(
        project=fresh(org.project),
        actor=org.staff.user,
        data={"name": "新名称", "description": "说明", "actual_start": None},
    )
    event = AuditEvent.objects.get(project=org.project, action="updated")
    assert event.changes == {"name": [org.project.name, "新名称"], "description": ["", "说明"]}


def test_sending_a_secretariat_field_unchanged_is_not_a_change(org):
    services.project_update(
        project=fresh(org.project),
        actor=org.head.user,
        data={"lead_unit": org.park, "cooperating_units": [], "name": "改"},
    )
    assert fresh(org.project).name == "改"


@pytest.mark.parametrize("role", ["supervisor", "leader", "dept_head", "other_head", "bank", "owner"])
def test_who_does_not_lead_the_case_may_not_change_it(org, role):
    with pytest.raises(PermissionDenied):
        services.project_update(project=fresh(org.project), actor=getattr(org, role).user, data={"name": "x"})
    assert fresh(org.project).name == org.project.name
