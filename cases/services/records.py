"""Writing the records about a case: pre-work items and blockers (dockings are financing
docking's, ``cases.financing.services.dockings``)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition

from .. import notifying, permissions
from ..models import AuditAction, Blocker, BlockerInput, PreworkItem, Role
from ..signals import record_changed
from .audit import audit_record, diff, snapshot
from .errors import Conflict
from .transitions import apply_transition

PREWORK_FIELDS = [
    "kind",
    "title",
    "required",
    "approving_unit",
    "statutory_days",
    "started_on",
    "done_on",
    "document_number",
    "note",
]
# Whether an item is required decides the stage guards: like a waiver, it is the secretariat's.
SECRETARIAT_PREWORK_FIELDS = {"required"}
BLOCKER_FIELDS = ["title", "description", "category", "lead_unit", "cooperating_units", "due_on"]
# Who leads a blocker and by when is the secretariat's triage; a reporter says what it is.
REPORTER_BLOCKER_FIELDS = ["title", "description", "category"]

# What a person may give with each transition, besides a reason.
PREWORK_TRANSITION_FIELDS = {
    "start": {"started_on"},
    "complete": {"done_on", "document_number"},
    "waive": set(),
    "reopen": set(),
}
BLOCKER_TRANSITION_FIELDS = {
    "assign": {"lead_unit", "cooperating_units", "due_on"},
    "resolve": {"resolution"},
    "close_out": set(),
    "send_back": set(),
    "reject": set(),
    "merge": {"merged_into"},
}


def _check_version(record, expected_version):
    if expected_version is not None and int(expected_version) != record.version:
        raise Conflict()


def _set_fields(record, data, allowed, m2m=()):
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
    for name, value in data.items():
        if name not in m2m:
            setattr(record, record._meta.get_field(name).name, value)


def _save(record):
    try:
        record.save()
    except ConcurrentTransition as exc:
        raise Conflict() from exc


def _transition_with_fields(record, name, *, actor, reason, fields, allowed_by_name, m2m=(), extra=None):
    """Set what came with the transition, take it, and audit both in one event."""
    fields = fields or {}
    plain = [k for k in fields if k not in m2m and k in allowed_by_name.get(name, set())]
    before = snapshot(record, plain)
    _set_fields(record, fields, allowed_by_name.get(name, set()), m2m=m2m)
    changes = diff(before, snapshot(record, plain))
    for k in m2m:
        if k in fields:
            old = snapshot(record, [k])[k]
            new = sorted(getattr(v, "pk", v) for v in fields[k])
            if old != new:
                changes[k] = [old, new]

    def before_save(r):
        r.validate(exclude=["project"])
        if extra:
            extra(r)

    apply_transition(
        record,
        name,
        actor=actor,
        reason=reason,
        project=record.project,
        before_save=before_save,
        changes=changes,
    )
    for k in m2m:
        if k in fields:
            getattr(record, k).set(fields[k])
            if hasattr(record, "_prefetched_objects_cache"):
                record._prefetched_objects_cache.pop(k, None)
    record_changed.send(sender=type(record), instance=record, action="transition", transition=name, actor=actor)
    return record


# Pre-work items


@transaction.atomic
def prework_item_create(*, project, actor, data) -> PreworkItem:
    if not permissions.can_add_prework(actor, project):
        raise PermissionDenied(_("You may not add pre-work items to this key project."))
    item = PreworkItem(project=project)
    _set_fields(item, data, PREWORK_FIELDS)
    item.validate()
    item.save()
    audit_record(
        actor=actor,
        instance=item,
        action=AuditAction.CREATED,
        project=project,
        to_state=item.state,
        changes={k: [None, v] for k, v in snapshot(item, PREWORK_FIELDS).items() if v not in (None, "")},
    )
    record_changed.send(sender=PreworkItem, instance=item, action="created", transition="", actor=actor)
    return item


@transaction.atomic
def prework_item_update(*, item, actor, data, expected_version=None) -> PreworkItem:
    if not permissions.can_edit_prework(actor, item):
        raise PermissionDenied(_("You may not change this pre-work item."))
    _check_version(item, expected_version)
    if not permissions.is_secretariat(actor):
        forbidden = sorted(
            name for name in SECRETARIAT_PREWORK_FIELDS & set(data) if data[name] != getattr(item, name)
        )
        if forbidden:
            raise ValidationError({name: _("Only the secretariat may change this.") for name in forbidden})
    before = snapshot(item, PREWORK_FIELDS)
    _set_fields(item, data, PREWORK_FIELDS)
    item.validate()
    _save(item)
    changes = diff(before, snapshot(item, PREWORK_FIELDS))
    if changes:
        audit_record(actor=actor, instance=item, action=AuditAction.UPDATED, project=item.project, changes=changes)
    return item


@transaction.atomic
def prework_item_transition(*, item, transition, actor, reason="", fields=None, expected_version=None):
    _check_version(item, expected_version)

    def record_reason(r):
        if transition == "waive":
            r.waiver_reason = reason
        if transition == "start" and not r.started_on:
            r.started_on = timezone.localdate()

    return _transition_with_fields(
        item,
        transition,
        actor=actor,
        reason=reason,
        fields=fields,
        allowed_by_name=PREWORK_TRANSITION_FIELDS,
        extra=record_reason,
    )


# Blockers


def _blocker_fields_for(actor):
    return BLOCKER_FIELDS if permissions.is_secretariat(actor) else REPORTER_BLOCKER_FIELDS


@transaction.atomic
def blocker_report(*, project, actor, data) -> Blocker:
    """Report a blocker on a case: by a unit, the project owner or the secretariat."""
    if not permissions.can_report_blocker(actor, project):
        raise PermissionDenied(_("You may not report blockers on this key project."))
    person = permissions.person_of(actor)
    blocker = Blocker(project=project, reported_by=actor, reporting_unit=person.unit if person else None)
    _set_fields(blocker, data, _blocker_fields_for(actor), m2m={"cooperating_units"})
    blocker.validate()
    blocker.save()
    if "cooperating_units" in data:
        blocker.cooperating_units.set(data["cooperating_units"])
    audit_record(
        actor=actor,
        instance=blocker,
        action=AuditAction.CREATED,
        project=project,
        to_state=blocker.state,
        changes={k: [None, v] for k, v in snapshot(blocker, BLOCKER_FIELDS).items() if v not in (None, "", [])},
    )
    record_changed.send(sender=Blocker, instance=blocker, action="created", transition="", actor=actor)
    return blocker


@transaction.atomic
def blocker_update(*, blocker, actor, data, expected_version=None) -> Blocker:
    if not permissions.can_edit_blocker(actor, blocker):
        raise PermissionDenied(_("You may not change this blocker."))
    _check_version(blocker, expected_version)
    before = snapshot(blocker, BLOCKER_FIELDS)
    _set_fields(blocker, data, _blocker_fields_for(actor), m2m={"cooperating_units"})
    blocker.validate()
    _save(blocker)
    if "cooperating_units" in data:
        blocker.cooperating_units.set(data["cooperating_units"])
        if hasattr(blocker, "_prefetched_objects_cache"):
            blocker._prefetched_objects_cache.pop("cooperating_units", None)
    changes = diff(before, snapshot(blocker, BLOCKER_FIELDS))
    if changes:
        audit_record(
            actor=actor, instance=blocker, action=AuditAction.UPDATED, project=blocker.project, changes=changes
        )
    return blocker


@transaction.atomic
def blocker_transition(*, blocker, transition, actor, reason="", fields=None, expected_version=None):
    _check_version(blocker, expected_version)

    def record_outcome(b):
        now = timezone.now()
        if transition == "reject":
            b.rejection_reason = reason
        elif transition == "merge":
            b.rejection_reason = reason or _("Merged into %(blocker)s") % {"blocker": b.merged_into}
        elif transition == "resolve":
            b.resolved_at = now
        elif transition == "close_out":
            b.closed_at = now
        elif transition == "send_back":
            b.resolved_at = None

    blocker = _transition_with_fields(
        blocker,
        transition,
        actor=actor,
        reason=reason,
        fields=fields,
        allowed_by_name=BLOCKER_TRANSITION_FIELDS,
        m2m={"cooperating_units"},
        extra=record_outcome,
    )
    if transition == "assign":
        _tell_units_of_their_blocker(blocker, actor)
    return blocker


def _tell_units_of_their_blocker(blocker, actor):
    cooperating = [unit.pk for unit in blocker.cooperating_units.all()]
    people = notifying.unit_people([blocker.lead_unit_id]) + notifying.unit_people(
        cooperating, roles=(Role.UNIT_HEAD,)
    )
    notifying.notify_people(
        people,
        "blocker_assigned",
        context={
            "blocker": blocker.title,
            "case": notifying.case_name(blocker.project),
            "unit": blocker.lead_unit.name,
            "due": blocker.due_on.isoformat() if blocker.due_on else "—",
        },
        link=f"{blocker.project.get_absolute_url()}#blockers",
        exclude_user=actor,
    )


@transaction.atomic
def blocker_add_input(*, blocker, actor, text):
    """A cooperating unit says what it contributes; audited on the case."""
    if not permissions.can_give_input(actor, blocker):
        raise PermissionDenied(_("Only a cooperating unit gives its input on this blocker."))
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Say what your unit contributes.")})
    person = permissions.person_of(actor)
    unit = person.unit if person else blocker.lead_unit
    entry = BlockerInput.objects.create(blocker=blocker, unit=unit, author=actor, text=text)
    audit_record(
        actor=actor,
        instance=blocker,
        action=AuditAction.UPDATED,
        project=blocker.project,
        changes={"input": [None, f"{unit.name}: {text}"]},
    )
    return entry
