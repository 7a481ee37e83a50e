"""Who sees and changes what, by role and unit: the one place that decides.

Selectors scope every read with ``project_scope``; services, pages, API views and exports
ask the ``can_*`` functions before a write. A user without a person record sees nothing,
unless they are a superuser, who counts as the secretariat.
"""

from django.db.models import Exists, OuterRef, Q

from .models import (
    Blocker,
    BlockerState,
    KeyProject,
    LeaderResponsibility,
    PreworkItem,
    Role,
    Stage,
    Unit,
)
from .models.base import set_transition_permission_check

ALL_SEEING = {Role.SECRETARIAT, Role.SUPERVISOR}
UNIT_ROLES = {Role.UNIT_STAFF, Role.UNIT_HEAD}
INTERNAL = {Role.SECRETARIAT, Role.SUPERVISOR, Role.UNIT_STAFF, Role.UNIT_HEAD, Role.LEADER}
BLOCKER_REPORTERS = {Role.SECRETARIAT, Role.UNIT_STAFF, Role.UNIT_HEAD, Role.OWNER}
TERMINAL_STAGES = {Stage.COMPLETED, Stage.WITHDRAWN}

# Stage transitions a lead unit's head may take; everything else is the secretariat's.
LEAD_UNIT_HEAD_TRANSITIONS = {"open_docking", "start_construction", "secure_financing", "complete"}
# Pre-work transitions the approving unit and the lead unit may take.
PREWORK_UNIT_TRANSITIONS = {"start", "complete"}
# Blocker transitions the blocker's lead unit may take.
BLOCKER_UNIT_TRANSITIONS = {"resolve"}


def person_of(user):
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.person
    except Exception:  # RelatedObjectDoesNotExist: a user without a person record
        return None


def role_of(user):
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.SECRETARIAT
    person = person_of(user)
    return Role(person.role) if person else None


def is_secretariat(user):
    return role_of(user) == Role.SECRETARIAT


def is_internal(user):
    """Government people, who may read the organisation directory and the case list."""
    return role_of(user) in INTERNAL


def _unit_id(user):
    person = person_of(user)
    return person.unit_id if person else None


# Reads


def project_scope(user):
    """A filter for the key projects ``user`` may see."""
    role = role_of(user)
    if role in ALL_SEEING:
        return Q()
    person = person_of(user)
    if role is None or person is None:
        return Q(pk__in=[])
    unit = person.unit_id
    if role in UNIT_ROLES:
        return (
            Q(lead_unit_id=unit)
            | Q(
                Exists(
                    KeyProject.cooperating_units.through.objects.filter(
                        keyproject_id=OuterRef("pk"), unit_id=unit
                    )
                )
            )
            | Q(Exists(PreworkItem.objects.filter(project_id=OuterRef("pk"), approving_unit_id=unit)))
            | Q(Exists(Blocker.objects.filter(project_id=OuterRef("pk"), lead_unit_id=unit)))
            | Q(
                Exists(
                    Blocker.cooperating_units.through.objects.filter(
                        blocker__project_id=OuterRef("pk"), unit_id=unit
                    )
                )
            )
        )
    if role == Role.LEADER:
        return Q(responsible_leader_id=person.pk) | Q(
            lead_unit_id__in=LeaderResponsibility.objects.filter(leader_id=person.pk).values("unit_id")
        )
    if role == Role.OWNER:
        return Q(owner_id=unit)
    return Q(pk__in=[])


def can_view_project(user, project):
    return KeyProject.objects.filter(project_scope(user), pk=project.pk).exists()


# Writes on key projects


def can_create_project(user):
    return is_secretariat(user)


def can_propose_idea(user):
    """Ideas (谋划) come from the units and the project office; a unit's are its own."""
    return is_secretariat(user) or (role_of(user) in UNIT_ROLES and _unit_id(user) is not None)


def can_import_projects(user):
    return is_secretariat(user)


def can_export_projects(user):
    return role_of(user) in INTERNAL | {Role.OWNER}


def in_lead_unit(user, project, roles=UNIT_ROLES):
    return role_of(user) in roles and project.lead_unit_id is not None and project.lead_unit_id == _unit_id(user)


def can_edit_project(user, project):
    if is_secretariat(user):
        return True
    return project.stage not in TERMINAL_STAGES and in_lead_unit(user, project)


def owns_project(user, project):
    """Is ``user`` one of the people of the enterprise that owns ``project``?"""
    return role_of(user) == Role.OWNER and project.owner_id is not None and project.owner_id == _unit_id(user)


# Writes on records


def can_add_prework(user, project):
    return is_secretariat(user) or (project.stage not in TERMINAL_STAGES and in_lead_unit(user, project))


def can_edit_prework(user, item):
    return can_add_prework(user, item.project)


def can_report_blocker(user, project):
    role = role_of(user)
    if role not in BLOCKER_REPORTERS or project.stage in TERMINAL_STAGES:
        return False
    return role == Role.SECRETARIAT or can_view_project(user, project)


def can_edit_blocker(user, blocker):
    if is_secretariat(user):
        return True
    return (
        blocker.state == BlockerState.REPORTED
        and blocker.reported_by_id is not None
        and blocker.reported_by_id == getattr(user, "pk", None)
    )


def can_give_input(user, blocker):
    """A cooperating unit's people add their input while the blocker is assigned."""
    if blocker.state != BlockerState.ASSIGNED:
        return False
    if is_secretariat(user):
        return True
    return role_of(user) in UNIT_ROLES and any(
        unit.pk == _unit_id(user) for unit in blocker.cooperating_units.all()
    )


# Who may take which transition on the records of the layers above (a docking): each registers
# its rule for its model (``register_transition_rule``); the secretariat may take any.
_transition_rules = {}


def register_transition_rule(model, rule):
    """``rule(user, record, name)`` answers for the records of ``model`` besides the secretariat."""
    _transition_rules[model] = rule


def can_transition(user, record, name):
    """May ``user`` take transition ``name`` on ``record``? Guards are checked elsewhere."""
    if is_secretariat(user):
        return True
    role = role_of(user)
    unit = _unit_id(user)
    if isinstance(record, KeyProject):
        return name in LEAD_UNIT_HEAD_TRANSITIONS and in_lead_unit(user, record, roles={Role.UNIT_HEAD})
    if record.project.stage in TERMINAL_STAGES:
        return False  # a finished case's records are the secretariat's alone
    if isinstance(record, PreworkItem):
        return (
            name in PREWORK_UNIT_TRANSITIONS
            and role in UNIT_ROLES
            and unit in (record.approving_unit_id, record.project.lead_unit_id)
        )
    if isinstance(record, Blocker):
        return name in BLOCKER_UNIT_TRANSITIONS and role in UNIT_ROLES and unit == record.lead_unit_id
    rule = _transition_rules.get(type(record))
    return rule(user, record, name) if rule is not None else False


set_transition_permission_check(can_transition)


# Institutions


def institution_ids(user):
    """The institutions an institution user acts for: their unit and its branches (child units)."""
    if role_of(user) != Role.INSTITUTION:
        return set()
    if not hasattr(user, "_kp_institution_ids"):
        unit = _unit_id(user)
        ids = {unit} if unit else set()
        frontier = set(ids)
        while frontier:
            frontier = set(Unit.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - ids
            ids |= frontier
        user._kp_institution_ids = ids
    return user._kp_institution_ids


def acts_for_an_institution(user):
    """Is ``user`` one of a financial institution's people (whose home is the institution portal)?"""
    return role_of(user) == Role.INSTITUTION and bool(institution_ids(user))
