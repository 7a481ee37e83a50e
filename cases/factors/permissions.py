"""Who reads and writes the factor ledgers: the keeping bureau writes its own, the secretariat
all; supervisors and leaders read; other units read the requests of their own cases; banks and
owners nothing."""

from django.db.models import Q

from cases import permissions as case_permissions
from cases.models import KeyProject, Role

READERS = {Role.SECRETARIAT, Role.SUPERVISOR, Role.LEADER}


def _unit_id(user):
    person = case_permissions.person_of(user)
    return person.unit_id if person else None


def is_bureau_person(user, bureau_id):
    return case_permissions.role_of(user) in case_permissions.UNIT_ROLES and _unit_id(user) == bureau_id


def ledger_scope(user):
    """A filter for the ledgers ``user`` may read."""
    role = case_permissions.role_of(user)
    if role in READERS:
        return Q()
    if role in case_permissions.UNIT_ROLES and _unit_id(user):
        return Q(bureau_id=_unit_id(user))
    return Q(pk__in=[])


def can_read_ledgers(user):
    """May ``user`` open the ledger pages at all (a bureau's people see their own ledgers)?"""
    return case_permissions.role_of(user) in READERS | case_permissions.UNIT_ROLES


def can_write_ledger(user, ledger):
    return case_permissions.is_secretariat(user) or is_bureau_person(user, ledger.bureau_id)


def can_open_ledgers(user):
    return case_permissions.is_secretariat(user)


def request_scope(user):
    """A filter for the factor requests ``user`` may read."""
    role = case_permissions.role_of(user)
    if role in (Role.SECRETARIAT, Role.SUPERVISOR):
        return Q()
    if role not in READERS | case_permissions.UNIT_ROLES:
        return Q(pk__in=[])
    own_cases = Q(project__in=KeyProject.objects.filter(case_permissions.project_scope(user)))
    if role in case_permissions.UNIT_ROLES and _unit_id(user):
        return own_cases | Q(ledger__bureau_id=_unit_id(user))
    return own_cases


def can_see_requests_of(user, project):
    """Does the case page show ``user`` the factor section of ``project`` (which they can see)?"""
    return case_permissions.role_of(user) in READERS | case_permissions.UNIT_ROLES


def can_request(user, item):
    """The secretariat, the case's lead unit and the item's approving unit ask the ledgers."""
    if case_permissions.is_secretariat(user):
        return True
    if item.project.stage in case_permissions.TERMINAL_STAGES:
        return False
    return case_permissions.in_lead_unit(user, item.project) or is_bureau_person(user, item.approving_unit_id)


def can_raise_shortfall(user, request):
    """Offered to whoever may report blockers on a case they see (the blocker service asks again)."""
    return (
        case_permissions.role_of(user) in case_permissions.BLOCKER_REPORTERS
        and request.project.stage not in case_permissions.TERMINAL_STAGES
    )
