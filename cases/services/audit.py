"""Writing the audit trail: every service calls ``audit_record`` inside its transaction."""

import datetime
import decimal
import enum

from django.contrib.contenttypes.models import ContentType
from django.db import models

from ..models import AuditEvent
from ..permissions import person_of


def jsonable(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    return str(value)


def snapshot(instance, field_names):
    """The values of ``field_names`` on ``instance``, comparable and JSON-ready.

    Foreign keys give their id, many-to-many fields the sorted ids (read from a prefetch
    when there is one).
    """
    result = {}
    for name in field_names:
        field = instance._meta.get_field(name)
        if field.many_to_many:
            value = sorted(obj.pk for obj in getattr(instance, name).all()) if instance.pk else []
        elif field.is_relation:
            value = getattr(instance, field.attname)
        else:
            value = getattr(instance, name)
        result[name] = jsonable(value)
    return result


def diff(before, after):
    """{field: [old, new]} for the fields whose value changed."""
    return {name: [before.get(name), after[name]] for name in after if before.get(name) != after[name]}


def audit_record(
    *,
    actor,
    instance,
    action,
    project=None,
    transition="",
    from_state="",
    to_state="",
    reason="",
    changes=None,
):
    """Append one event to the audit trail; call it inside the writing transaction."""
    actor_name = ""
    if actor is not None and getattr(actor, "is_authenticated", False):
        person = person_of(actor)
        actor_name = person.name if person else actor.get_username()
    else:
        actor = None
    return AuditEvent.objects.create(
        actor=actor,
        actor_name=actor_name,
        project=project,
        content_type=ContentType.objects.get_for_model(type(instance)),
        object_id=str(instance.pk),
        object_repr=str(instance)[:250],
        action=action,
        transition=transition,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        changes=changes or {},
    )
