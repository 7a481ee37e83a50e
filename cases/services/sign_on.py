"""Single sign-on's write: a person's unit, role and rank from the sign-on mappings, audited.
The backends and pages that call it are ``cases.identity`` and ``cases.directory``."""

import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ..models import AuditAction, IdentityMapping, IdentitySource, Person
from .audit import audit_record, diff, snapshot

log = logging.getLogger("cases.identity")

REFUSED = _(
    "Your account no longer matches a unit and role, and its history keeps its old ones. "
    "Ask the project office to map your account."
)


# What a sign-on may change on a person, recorded in the audit trail.
AUDITED = ["unit", "role", "rank", "name"]


class SignOnRefused(PermissionDenied):
    """A sign-on that must not go through; Django's ``authenticate`` stops at it and counts a failure."""


def _values(claim):
    if claim is None:
        return []
    if isinstance(claim, list | tuple | set | frozenset):
        return [str(value).casefold() for value in claim]
    return [str(claim).casefold()]


def mapping_for(*, source, claims):
    """The sign-on mapping that decides for ``claims`` (claim names casefolded), or None.

    A row matches when the claim it names has its value, or has it among its values, ignoring
    case; of several, the lowest priority wins.
    """
    for row in IdentityMapping.objects.filter(source=source).select_related("unit"):
        if row.value.casefold() in _values(claims.get(row.claim.casefold())):
            return row
    return None


@transaction.atomic
def person_sign_on(*, user, source: str, claims: dict, name: str) -> Person | None:
    """Give ``user`` the unit, role and rank of the first mapping their ``claims`` match, at every
    sign-on, so that someone who moved is moved; None when no row matches someone without a
    person yet (they sign in with no unit). Refuses the sign-on (``SignOnRefused``) of someone
    with a person whom no row matches any more: their person and its history stay as they were."""
    claims = {str(key).casefold(): value for key, value in claims.items()}
    row = mapping_for(source=source, claims=claims)
    person = Person.objects.filter(user=user).select_for_update(of=("self",)).first()
    reason = _("Single sign-on (%(source)s)") % {"source": IdentitySource(source).label}
    if row is None:
        if person is not None:
            # Someone who had a unit and a role matches no row any more (moved out of every mapped
            # group, or the provider left the claim out): refused, their person and its history
            # kept, until the project office maps them again.
            log.warning("sign-on of %s refused: they have a person and no mapping matches", user)
            raise SignOnRefused(REFUSED)
        return None
    name = (name or user.get_full_name() or user.username)[: Person._meta.get_field("name").max_length]
    wanted = {"unit": row.unit, "role": row.role, "rank": row.rank, "name": name}
    before = snapshot(person, AUDITED) if person is not None else {}
    if person is None:
        person = Person(user=user, **wanted)
    elif all(getattr(person, field) == value for field, value in wanted.items()):
        return person
    else:
        for field, value in wanted.items():
            setattr(person, field, value)
    person.full_clean()
    person.save()
    audit_record(
        actor=user, instance=person, action=AuditAction.UPDATED if before else AuditAction.CREATED,
        reason=reason, changes=diff(before, snapshot(person, AUDITED)),
    )
    log.info("sign-on of %s mapped by %s", user, row)
    return person
