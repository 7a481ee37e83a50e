"""Telling people about what happened to their cases: the bridge from cases to notifications.

Recipients are people; their units' messenger webhooks post for them. Called by the
services inside their transactions, so the outbox rows commit with the change.
"""

from collections import defaultdict

from django.utils.translation import gettext_lazy

from notifications import messages
from notifications.services import notify

from .models import Person, Role, Unit

NO_CASE = gettext_lazy("no key project")


def webhooks_for(people):
    """{user id: [webhook ids]}: the active robots of each person's unit (one query)."""
    people = [p for p in people if p is not None]
    by_unit = defaultdict(list)
    for unit_id, webhook_id in Unit.webhooks.through.objects.filter(
        unit_id__in={p.unit_id for p in people}, webhook__is_active=True
    ).values_list("unit_id", "webhook_id"):
        by_unit[unit_id].append(webhook_id)
    return {p.user_id: by_unit[p.unit_id] for p in people}


def notify_people(people, key, *, context, link="", event=None, exclude_user=None):
    """Notify each person once; ``exclude_user`` (the actor) is not told about their own act."""
    people = {p.pk: p for p in people if p is not None and p.user_id != getattr(exclude_user, "pk", None)}
    if not people:
        return []
    return notify(
        recipients=[p.user_id for p in people.values()],
        key=key,
        context=context,
        link=link,
        event=event,
        webhooks=webhooks_for(people.values()),
    )


def unit_people(unit_ids, roles=(Role.UNIT_HEAD, Role.UNIT_STAFF)):
    return list(Person.objects.filter(unit_id__in=unit_ids, role__in=roles))


def label(value, choices):
    """A choice's label as a value every recipient reads in their own language."""
    return messages.translatable(dict(choices)[value])


def case_name(project):
    """A case as a message names it; a matter about no single case (a meeting decision on a
    policy) says so in each recipient's language."""
    if project is None:
        return messages.translatable(NO_CASE)
    return f"{project.code} {project.name}"
