"""Who sees and changes what in financing docking, by role, unit and institution.

Built on the case core's ``cases.permissions`` (roles, the case scope, the institutions a user
acts for); the docking's transitions are answered through the rule registered there.
"""

from django.db.models import Exists, OuterRef, Q

from cases.models import KeyProject, Role, Stage
from cases.permissions import (
    ALL_SEEING,
    TERMINAL_STAGES,
    acts_for_an_institution,
    in_lead_unit,
    owns_project,
    register_transition_rule,
)

# The core's answers the financing modules read beside their own (``permissions.role_of``).
from cases.permissions import INTERNAL as INTERNAL  # noqa: I001 - the re-exports, apart
from cases.permissions import can_transition as can_transition
from cases.permissions import can_view_project as can_view_project
from cases.permissions import institution_ids as institution_ids
from cases.permissions import is_internal as is_internal
from cases.permissions import is_secretariat as is_secretariat
from cases.permissions import person_of as person_of
from cases.permissions import project_scope as project_scope
from cases.permissions import role_of as role_of

from .models import Docking, EventInvitation


def can_manage_dockings(user, project):
    """The secretariat opens dockings on a case: by hand, or recommending a matched product."""
    return is_secretariat(user)


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
        in_lead_unit(user, project) or owns_project(user, project)
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
    return is_secretariat(user) or in_lead_unit(user, docking.project)


def can_manage_events(user):
    """The secretariat organises matchmaking events: projects pitched, invitations, attendance, signings."""
    return is_secretariat(user)


def event_scope(user):
    """A filter for the matchmaking events ``user`` may see: government people all of them, an
    institution's people those their institution is invited to (read-only)."""
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
    return acts_for_an_institution(user)


def may_take_docking_step(user, record, name):
    """An institution's people take their own dockings' steps (the secretariat any)."""
    if record.project.stage in TERMINAL_STAGES:
        return False  # a finished case's records are the secretariat's alone
    return (
        name in INSTITUTION_DOCKING_TRANSITIONS
        and role_of(user) == Role.INSTITUTION
        and record.institution_id in institution_ids(user)
    )


def register_rules():
    register_transition_rule(Docking, may_take_docking_step)
