"""Who does what in the annual plan: the secretariat opens, decides, publishes and adjusts; a unit's
people propose their unit's reserve cases; the internal roles read the plan."""

from cases.permissions import INTERNAL, UNIT_ROLES, is_secretariat, person_of, role_of


def can_read(user):
    return role_of(user) in INTERNAL


def can_manage(user):
    return is_secretariat(user)


def proposing_unit_id(user):
    """The unit a person proposes for, or None when they do not propose."""
    if role_of(user) not in UNIT_ROLES:
        return None
    person = person_of(user)
    return person.unit_id if person is not None else None


def can_propose(user, unit_id):
    return unit_id is not None and proposing_unit_id(user) == unit_id
