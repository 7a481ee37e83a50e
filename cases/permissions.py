"""Who sees and changes what, by role and unit: the one place that decides.

Selectors scope every read with ``project_scope``; services, pages, API views and exports
ask the ``can_*`` functions before a write. A user without a person record sees nothing,
unless they are a superuser, who counts as the secretariat.
"""

from django.db.models import Exists, OuterRef, Q

from .models import (
    Blocker,
    BlockerState,
    Docking,
    KeyProject,
    LeaderResponsibility,
    PreworkItem,
    Role,
    Stage,
    Unit,
)

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


def can_import_projects(user):
    return is_secretariat(user)


def can_export_projects(user):
    return role_of(user) in INTERNAL | {Role.OWNER}


def _in_lead_unit(user, project, roles=UNIT_ROLES):
    return role_of(user) in roles and project.lead_unit_id is not None and project.lead_unit_id == _unit_id(user)


def can_edit_project(user, project):
    if is_secretariat(user):
        return True
    return project.stage not in TERMINAL_STAGES and _in_lead_unit(user, project)


def can_manage_dockings(user, project):
    """The secretariat opens dockings on a case: by hand, or recommending a matched product."""
    return is_secretariat(user)


def owns_project(user, project):
    """Is ``user`` one of the people of the enterprise that owns ``project``?"""
    return role_of(user) == Role.OWNER and project.owner_id is not None and project.owner_id == _unit_id(user)


# Writes on records


def can_add_prework(user, project):
    return is_secretariat(user) or (project.stage not in TERMINAL_STAGES and _in_lead_unit(user, project))


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


def can_transition(user, record, name):
    """May ``user`` take transition ``name`` on ``record``? Guards are checked elsewhere."""
    if is_secretariat(user):
        return True
    role = role_of(user)
    unit = _unit_id(user)
    if isinstance(record, KeyProject):
        return name in LEAD_UNIT_HEAD_TRANSITIONS and _in_lead_unit(user, record, roles={Role.UNIT_HEAD})
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
    if isinstance(record, Docking):
        return name in INSTITUTION_DOCKING_TRANSITIONS and role == Role.INSTITUTION and record.institution_id in institution_ids(user)
    return False


# Financing docking (DESIGN section 7)

# What an institution's people do with their own dockings; the secretariat does everything.
INSTITUTION_DOCKING_TRANSITIONS = {
    "contact", "start_due_diligence", "sign_intent", "approve_credit", "disburse", "decline",
}
WHITE_LIST_READERS = INTERNAL | {Role.INSTITUTION}
# Who reads financing needs at all: the white list's readers, and owners their own cases' needs.
NEED_READERS = WHITE_LIST_READERS | {Role.OWNER}
# Who reads needs that are not (or no longer) on the white list, within ``need_scope``.
UNPUBLISHED_NEED_READERS = INTERNAL | {Role.OWNER}
# Who may ask to draft a need; ``can_edit_need`` decides for each case (a supervisor never may).
NEED_DRAFTERS = INTERNAL | {Role.OWNER}
# What a case's owner enterprise does with its own needs, from which states: it drafts them,
# submits them for review and takes them back before they are published. Publishing, sending
# back, and closing or withdrawing a published need are the government's.
OWNER_NEED_STEPS = {"submit": {"draft"}, "withdraw": {"draft", "submitted"}}


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


def can_read_white_list(user):
    return role_of(user) in WHITE_LIST_READERS


def can_read_needs(user):
    """Financing needs, each reader within ``need_scope``: government people, institutions' people
    (the white list) and owners' people (their own cases' needs)."""
    return role_of(user) in NEED_READERS


def can_read_unpublished_needs(user):
    """Drafts, needs under review, closed and withdrawn ones: for government people and owners
    (within ``need_scope``); an institution reads the white list only."""
    return role_of(user) in UNPUBLISHED_NEED_READERS


def can_draft_needs(user):
    return role_of(user) in NEED_DRAFTERS


def can_edit_need(user, project):
    """The secretariat; or, for a case in docking or financing, its lead unit or its owner enterprise
    writes its needs."""
    if is_secretariat(user):
        return True
    return project.stage in (Stage.DOCKING, Stage.FINANCING) and (
        _in_lead_unit(user, project) or owns_project(user, project)
    )


def can_review_needs(user):
    """The secretariat publishes needs on the white list, or sends them back."""
    return is_secretariat(user)


def can_take_need_step(user, need, name):
    """May ``user`` take step ``name`` of ``need``'s lifecycle? Its guard is checked elsewhere."""
    if name in ("publish", "return"):
        return can_review_needs(user)
    if not can_edit_need(user, need.project):
        return False
    if role_of(user) == Role.OWNER:
        return need.state in OWNER_NEED_STEPS.get(name, ())
    return True


def can_read_review_note(user, need):
    """The review note is addressed to who wrote the need: government people and the case's owner."""
    return is_internal(user) or owns_project(user, need.project)


def can_manage_product(user, institution_id):
    """The secretariat, or the institution's own people for its products."""
    return is_secretariat(user) or institution_id in institution_ids(user)


def can_express_interest(user):
    """An institution's people open a docking on a published need."""
    return role_of(user) == Role.INSTITUTION and bool(institution_ids(user))


def docking_scope(user):
    """A filter for the dockings ``user`` may see: an institution's own; a case's for who may see the case."""
    role = role_of(user)
    if role in ALL_SEEING:
        return Q()
    if role == Role.INSTITUTION:
        return Q(institution_id__in=institution_ids(user))
    if role is None:
        return Q(pk__in=[])
    return Q(project__in=KeyProject.objects.filter(project_scope(user)))


# Financing statistics

# Who reads every figure; unit people read their cases', institutions their own.
STATISTICS_SEE_ALL = ALL_SEEING | {Role.LEADER}


def can_view_financing_statistics(user):
    return role_of(user) in INTERNAL | {Role.INSTITUTION}


def financing_statistics_scope(user):
    """What ``user``'s financing figures count, as (a filter of needs, a filter of dockings).

    Everything for the secretariat, supervisors and leaders; the cases they may see for unit
    people; for an institution's people, its own dockings and the needs it docks on.
    """
    role = role_of(user)
    if role in STATISTICS_SEE_ALL:
        return Q(), Q()
    if role == Role.INSTITUTION:
        ids = institution_ids(user)
        docked = Docking.objects.filter(need_id=OuterRef("pk"), institution_id__in=ids)
        return Q(Exists(docked)), Q(institution_id__in=ids)
    if role in INTERNAL:
        cases = KeyProject.objects.filter(project_scope(user))
        return Q(project__in=cases), Q(project__in=cases)
    return Q(pk__in=[]), Q(pk__in=[])


# Docking follow-ups and matchmaking events


def can_follow_up_docking(user, docking):
    """The secretariat, or the people of the case's lead unit, record that they followed a docking up."""
    return is_secretariat(user) or _in_lead_unit(user, docking.project)


def can_manage_events(user):
    """The secretariat organises matchmaking events: projects pitched, invitations, attendance, signings."""
    return is_secretariat(user)


def event_scope(user):
    """A filter for the matchmaking events ``user`` may see: government people all of them, an
    institution's people those their institution is invited to (read-only)."""
    from .models import EventInvitation

    role = role_of(user)
    if role in INTERNAL:
        return Q()
    if role == Role.INSTITUTION:
        invited = EventInvitation.objects.filter(event_id=OuterRef("pk"), institution_id__in=institution_ids(user))
        return Q(Exists(invited))
    return Q(pk__in=[])


def need_scope(user):
    """A filter for the financing needs ``user`` may see: the published ones (the white list) for its
    readers, and every state of the needs of the cases they may see."""
    role = role_of(user)
    if role in ALL_SEEING:
        return Q()
    published = Q(state="published")
    if role == Role.INSTITUTION:
        return published
    if role is None:
        return Q(pk__in=[])
    own_cases = Q(project__in=KeyProject.objects.filter(project_scope(user)))
    return published | own_cases if role in INTERNAL else own_cases


def can_read_products(user):
    return role_of(user) in WHITE_LIST_READERS


def product_scope(user):
    """A filter for the financial products ``user`` may see: all for government people, an
    institution's own (with its branches') for its people."""
    role = role_of(user)
    if role in INTERNAL:
        return Q()
    if role == Role.INSTITUTION:
        return Q(institution_id__in=institution_ids(user))
    return Q(pk__in=[])


def match_scope(user):
    """A filter for the matches ``user`` may see beside a need they may read: an institution's
    people only their own institution's; who may not read products (an owner) none."""
    if role_of(user) == Role.INSTITUTION:
        return Q(institution_id__in=institution_ids(user))
    if not can_read_products(user):
        return Q(pk__in=[])
    return Q()


def can_use_institution_portal(user):
    """The institution portal is its people's home: their white list, dockings and products."""
    return role_of(user) == Role.INSTITUTION and bool(institution_ids(user))
