"""The audit trail as a case page shows it: who did what, from what to what, and which facts
changed."""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _

from .models import AuditAction, Person, Unit


def _field(model, name):
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _label(model, name):
    if name.startswith("plan_"):
        return _("annual plan %(year)s") % {"year": name[5:]}
    field = _field(model, name)
    return str(field.verbose_name) if field is not None and hasattr(field, "verbose_name") else name


def timeline_entries(events):
    """Events with their changes made readable; names of units and people are read in two queries."""
    events = list(events)
    unit_ids, person_ids = set(), set()
    for event in events:
        model = ContentType.objects.get_for_id(event.content_type_id).model_class()
        event.model = model
        for name, pair in (event.changes or {}).items():
            field = _field(model, name) if model else None
            target = getattr(field, "related_model", None)
            for value in pair if isinstance(pair, list) else []:
                values = value if isinstance(value, list) else [value]
                if target is Unit:
                    unit_ids.update(v for v in values if isinstance(v, int))
                elif target is Person:
                    person_ids.update(v for v in values if isinstance(v, int))
    units = dict(Unit.objects.filter(pk__in=unit_ids).values_list("pk", "name")) if unit_ids else {}
    people = dict(Person.objects.filter(pk__in=person_ids).values_list("pk", "name")) if person_ids else {}

    def show(field, value):
        if value in (None, "", []):
            return "—"
        target = getattr(field, "related_model", None)
        names = {Unit: units, Person: people}.get(target)
        if names is not None:
            values = value if isinstance(value, list) else [value]
            return "、".join(names.get(v, str(v)) for v in values)
        if field is not None and getattr(field, "choices", None):
            return str(dict(field.flatchoices).get(value, value))
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        if isinstance(value, list):
            return " / ".join(str(v) for v in value)
        return str(value)

    for event in events:
        model = event.model
        state_field = None
        if model is not None:
            state_field = next((f for f in model._meta.concrete_fields if f.name in ("stage", "state")), None)
        event.from_label = show(state_field, event.from_state) if event.from_state else ""
        event.to_label = show(state_field, event.to_state) if event.to_state else ""
        event.kind_label = str(model._meta.verbose_name) if model else ""
        event.transition_label = ""
        if event.transition and model is not None:
            method = getattr(model, event.transition, None)
            meta = getattr(method, "_django_fsm", None)
            if meta is not None:
                first = next(iter(meta.transitions.values()))
                event.transition_label = str(first.custom.get("label", event.transition))
        # A creation's values are what the page shows anyway; list what later events changed.
        changes = {} if event.action == AuditAction.CREATED else (event.changes or {})
        event.change_rows = [
            (_label(model, name), show(_field(model, name), pair[0]), show(_field(model, name), pair[1]))
            for name, pair in changes.items()
            if isinstance(pair, list) and len(pair) == 2
        ]
    return events


__all__ = ["timeline_entries"]
