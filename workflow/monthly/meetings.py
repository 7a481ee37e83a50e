"""The monthly scheduling meeting (调度会): drafted, edited and published with calendar invitations by
the secretariat, the minutes, and the decisions that become tasks.

Drafting again creates nothing twice: it refreshes the drafted items' titles and details, adds what
is new at the end of its section, removes drafted items whose record no longer qualifies unless the
secretariat wrote a note on them, and keeps hand-added items, notes, dropped items and the order the
secretariat gave. Everything that changes a meeting is a service here: keyword-only, one
transaction, the secretariat only, audited, with optimistic concurrency on ``Meeting.version`` (a
stale version raises ``cases.services.Conflict``, which the API answers with 409)."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    Case,
    IntegerField,
    Q,
    Value,
    When,
)
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cases import notifying
from cases import permissions as case_permissions
from cases.models import (
    AuditAction,
    KeyProject,
    Person,
    Rank,
    Role,
    Unit,
)
from cases.services import Conflict
from cases.services.audit import audit_record
from workflow.engine import bulk
from workflow.engine.models import TaskClock

from .agenda import (
    EXTERNAL_UNITS,
    NOT_INTERNAL,
    SECTION_ORDER,
    _in_section_order,
    _renumber,
    drafted_items,
    meeting_day,
    meeting_number,
)
from .flows import DecisionFlow
from .models import AgendaItem, AgendaSection, Decision, Meeting
from .periods import first_of_month
from .selectors import agenda


class MeetingLocked(Conflict):
    default_message = ""

    def __init__(self, meeting):
        super().__init__(
            _("The minutes of this meeting are recorded: its agenda and details no longer change.")
            if meeting.state == Meeting.State.MINUTED
            else _("The agenda is published: it is no longer drafted from the data.")
        )


class StaleVersion(Conflict):
    """Someone changed the meeting after the reader loaded it."""

    def __init__(self):
        super().__init__(
            _("Someone else changed this meeting after you opened it. Reload it and try again.")
        )


@dataclass
class DraftResult:
    """What ``meeting_draft`` did, for the command, the cycle's run record and the pages."""

    created: bool = False
    redrafted: bool = True
    added: int = 0
    refreshed: int = 0
    removed: int = 0
    by_section: dict = field(default_factory=dict)

    def as_dict(self):
        return {
            "created": self.created,
            "redrafted": self.redrafted,
            "added": self.added,
            "refreshed": self.refreshed,
            "removed": self.removed,
            "by_section": self.by_section,
        }


def _chair():
    rank_order = Case(
        *[When(rank=rank, then=Value(n)) for n, rank in enumerate(Rank.values)],
        default=Value(len(Rank.values)),
        output_field=IntegerField(),
    )
    return Person.objects.filter(role=Role.LEADER).order_by(rank_order, "pk").first()


def _require_secretariat(actor):
    if actor is not None and not case_permissions.is_secretariat(actor):
        raise PermissionDenied(_("Only the secretariat prepares the scheduling meeting."))


@transaction.atomic
def meeting_draft(*, month, actor=None, now=None):
    """Draft (or draft again, while a draft) the agenda of period ``month``; returns the meeting
    with ``draft_result`` (a DraftResult). Idempotent; a constant number of queries.

    A new meeting gets its number (调度〔year〕month号), a title, the meeting day of the cycle at
    09:30, the last meeting's place, the highest-ranking leader as chair; the responsible leaders
    of the cases on the agenda attend, and the cases' lead units (with the units owing open
    decisions) are invited. Drafting again adds attendees and units, never removes any, and leaves
    the details the secretariat edited alone. A published or minuted meeting is returned as it is.
    """
    _require_secretariat(actor)
    now = now or timezone.now()
    month = first_of_month(month)
    if month > first_of_month(timezone.localtime(now).date()):
        raise ValidationError({"month": _("Choose a month that has begun, as YYYY-MM.")})
    meeting = Meeting.objects.select_for_update().filter(month=month).first()
    if meeting is not None and meeting.state != Meeting.State.DRAFT:
        meeting.draft_result = DraftResult(redrafted=False)
        return meeting
    with translation.override(settings.LANGUAGE_CODE):
        previous, drafted = drafted_items(month, now)
        result = DraftResult(created=meeting is None)
        if meeting is None:
            meeting = Meeting(
                month=month,
                number=meeting_number(month),
                title=_("Scheduling meeting on the key projects, %(month)s") % {"month": f"{month:%Y-%m}"},
                scheduled_at=meeting_day(month),
                place=(previous.place if previous and previous.place else _("Meeting room of the commission")),
                chair=_chair(),
                drafted_at=now,
            )
            meeting.full_clean()
            meeting.save()
            existing = []
        else:
            existing = list(meeting.items.all())
    by_source = {item.source: item for item in existing if item.source}
    fresh, refreshed = set(), []
    new_items = []
    for row in drafted:
        fresh.add(row.source)
        item = by_source.get(row.source)
        if item is None:
            new_items.append(
                AgendaItem(
                    meeting=meeting,
                    position=0,
                    section=row.section,
                    title=row.title[:250],
                    detail=row.detail,
                    project=row.project,
                    source=row.source,
                )
            )
        elif (item.title, item.detail, item.project_id) != (row.title[:250], row.detail, getattr(row.project, "pk", None)):
            item.title, item.detail, item.project = row.title[:250], row.detail, row.project
            refreshed.append(item)
    stale = [item for item in existing if item.source and item.source not in fresh and not item.note.strip()]
    stale_ids = {item.pk for item in stale}
    kept = [item for item in existing if item.pk not in stale_ids]
    ordered = _in_section_order([*kept, *new_items])
    moved = _renumber(ordered, extra_fields=["title", "detail", "project"], also=refreshed)
    AgendaItem.objects.bulk_create(new_items)
    if stale_ids:
        AgendaItem.objects.filter(pk__in=stale_ids).delete()
    projects = [row.project for row in drafted if row.project is not None]
    leaders = {p.responsible_leader_id for p in projects if p.responsible_leader_id}
    units = {p.lead_unit_id for p in projects if p.lead_unit_id}
    units |= {row.unit_id for row in drafted if row.unit_id}
    if leaders:
        meeting.attendees.add(*leaders)
    if units:
        meeting.attending_units.add(*units)
    result.added, result.refreshed, result.removed = len(new_items), len(refreshed), len(stale_ids)
    counts = defaultdict(int)
    for row in drafted:
        counts[row.section] += 1
    result.by_section = {section: counts.get(section, 0) for section in SECTION_ORDER if section != AgendaSection.OTHER}
    if not result.created and (new_items or refreshed or stale_ids or moved):
        # The agenda changed under anyone editing it: their version is stale now.
        meeting.version += 1
        meeting.drafted_at = now
        meeting.save(update_fields=["version", "drafted_at"])
    audit_record(
        actor=actor,
        instance=meeting,
        action=AuditAction.CREATED if result.created else AuditAction.UPDATED,
        changes={"drafted": result.as_dict()},
    )
    meeting.draft_result = result
    return meeting


def _for_change(meeting, actor, version):
    """The meeting locked for a change by the secretariat, at the version the editor saw."""
    if actor is None or not case_permissions.is_secretariat(actor):
        raise PermissionDenied(_("Only the secretariat prepares the scheduling meeting."))
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if locked.state == Meeting.State.MINUTED:
        raise MeetingLocked(locked)
    if version is None or str(version) != str(locked.version):
        raise StaleVersion()
    return locked


def _changed(meeting, actor, instance, changes, project=None):
    meeting.version += 1
    meeting.save(update_fields=["version"])
    audit_record(actor=actor, instance=instance, action=AuditAction.UPDATED, project=project, changes=changes)
    return meeting


def _item_of(meeting, item, items=None):
    """The item, read again in the locked meeting (from ``items`` when loaded)."""
    item_id = getattr(item, "pk", item)
    if items is not None:
        found = next((row for row in items if row.pk == item_id), None)
    else:
        found = AgendaItem.objects.filter(meeting=meeting, pk=item_id).first()
    if found is None:
        raise ValidationError({"item": _("This item is not on the meeting's agenda.")})
    return found


def _load_items(meeting):
    return list(AgendaItem.objects.filter(meeting=meeting).order_by("position", "pk"))


@transaction.atomic
def agenda_item_move(*, item, actor, version, direction=None, position=None):
    """Move an item up or down within its section, or to ``position`` (1 = first of its section)."""
    meeting = _for_change(item.meeting, actor, version)
    items = _load_items(meeting)
    item = _item_of(meeting, item, items)
    section = [row for row in items if row.section == item.section]
    index = section.index(item)
    if direction == "up":
        target = index - 1
    elif direction == "down":
        target = index + 1
    elif position is not None:
        target = int(position) - 1
    else:
        raise ValidationError({"direction": _("Say up, down, or the position to move it to.")})
    target = max(0, min(target, len(section) - 1))
    if target == index:
        return item
    section.insert(target, section.pop(index))
    others = [row for row in items if row.section != item.section]
    before = item.position
    _renumber(_in_section_order([*others, *section]))
    _changed(meeting, actor, item, {"position": [before, item.position]}, item.project)
    return item


@transaction.atomic
def agenda_item_add(*, meeting, actor, version, section, title, detail="", project=None):
    """Add an item by hand, at the end of its section."""
    meeting = _for_change(meeting, actor, version)
    title = (title or "").strip()
    errors = {}
    if not title:
        errors["title"] = _("Give the item a title.")
    if section not in SECTION_ORDER:
        errors["section"] = _("Choose a section of the agenda.")
    if errors:
        raise ValidationError(errors)
    items = _load_items(meeting)
    item = AgendaItem(
        meeting=meeting, position=0, section=section, title=title[:250], detail=(detail or "").strip(), project=project
    )
    item.full_clean(exclude=["position"])
    _renumber(_in_section_order([*items, item]))
    item.save()
    _changed(meeting, actor, item, {"added": [None, item.title]}, project)
    return item


def _set_dropped(item, actor, version, dropped):
    meeting = _for_change(item.meeting, actor, version)
    item = _item_of(meeting, item)
    if item.dropped == dropped:
        return item
    item.dropped = dropped
    item.save(update_fields=["dropped"])
    _changed(meeting, actor, item, {"dropped": [not dropped, dropped]}, item.project)
    return item


@transaction.atomic
def agenda_item_drop(*, item, actor, version):
    """Take an item off the agenda (it stays listed for the secretariat, struck out)."""
    return _set_dropped(item, actor, version, True)


@transaction.atomic
def agenda_item_restore(*, item, actor, version):
    return _set_dropped(item, actor, version, False)


@transaction.atomic
def agenda_item_annotate(*, item, actor, version, note):
    """The secretariat's note on an item; an empty note removes it."""
    meeting = _for_change(item.meeting, actor, version)
    item = _item_of(meeting, item)
    before, item.note = item.note, (note or "").strip()
    item.full_clean(exclude=["position"])
    item.save(update_fields=["note"])
    _changed(meeting, actor, item, {"note": [before, item.note]}, item.project)
    return item


DETAIL_FIELDS = ["title", "scheduled_at", "duration_minutes", "place", "chair"]


@transaction.atomic
def meeting_update(*, meeting, actor, version, attendees=None, attending_units=None, **fields):
    """Edit the meeting's details: title, date and time, duration, place, chair, attendees, units."""
    meeting = _for_change(meeting, actor, version)
    unknown = set(fields) - set(DETAIL_FIELDS)
    if unknown:
        raise ValidationError({name: _("This detail cannot be changed here.") for name in unknown})
    errors = {}
    chair = fields.get("chair", meeting.chair)
    if chair is not None and chair.role in NOT_INTERNAL:
        errors["chair"] = _("The chair is one of the government's people.")
    if attendees is not None and any(person.role in NOT_INTERNAL for person in attendees):
        errors["attendees"] = _("Attendees are government people; institutions are invited through their docking.")
    if attending_units is not None and any(unit.kind in EXTERNAL_UNITS for unit in attending_units):
        errors["attending_units"] = _("Attending units are government units.")
    if "place" in fields:
        fields["place"] = (fields["place"] or "").strip()
    if errors:
        raise ValidationError(errors)
    before = {name: meeting.serializable_value(name) for name in DETAIL_FIELDS}
    before_people = set(meeting.attendees.values_list("pk", flat=True))
    before_units = set(meeting.attending_units.values_list("pk", flat=True))
    for name, value in fields.items():
        setattr(meeting, name, value)
    meeting.full_clean()
    meeting.save()
    changes = {
        name: [str(before[name]), str(meeting.serializable_value(name))]
        for name in DETAIL_FIELDS
        if before[name] != meeting.serializable_value(name)
    }
    if attendees is not None:
        meeting.attendees.set(attendees)
        after = {person.pk for person in attendees}
        if after != before_people:
            changes["attendees"] = [sorted(before_people), sorted(after)]
    if attending_units is not None:
        meeting.attending_units.set(attending_units)
        after = {unit.pk for unit in attending_units}
        if after != before_units:
            changes["attending_units"] = [sorted(before_units), sorted(after)]
    if not changes:
        return meeting
    return _changed(meeting, actor, meeting, changes)


def invitees(meeting):
    """Who is invited: the chair, the attending people and the heads of the attending units."""
    return list(
        Person.objects.filter(
            Q(pk=meeting.chair_id)
            | Q(pk__in=meeting.attendees.through.objects.filter(meeting_id=meeting.pk).values("person_id"))
            | Q(headed_units__in=meeting.attending_units.through.objects.filter(meeting_id=meeting.pk).values("unit_id"))
        )
        .select_related("user")
        .distinct()
        .order_by("pk")
    )


def agenda_text(meeting):
    """The agenda as plain numbered lines by section, for the calendar entry."""
    lines, number = [], 0
    for group in agenda(meeting, include_dropped=False):
        lines.append(str(group.label))
        for item in group.items:
            number += 1
            lines.append(f"{number}. {item.title}")
    return "\n".join(lines)


def meeting_event(meeting):
    """The iCalendar event of the meeting: one uid for the meeting, so an update replaces it."""
    start = meeting.scheduled_at
    return {
        "uid": f"meeting-{meeting.pk}@keyprojects",
        "sequence": meeting.version,
        "summary": meeting.title,
        "start": start.isoformat(),
        "end": (start + datetime.timedelta(minutes=meeting.duration_minutes)).isoformat(),
        "location": meeting.place,
        "description": agenda_text(meeting),
    }


@transaction.atomic
def meeting_publish(*, meeting, actor, version):
    """Publish the agenda: every invitee gets the invitation with its calendar entry. Publishing
    again after a change sends the updated entry, with the same uid."""
    if actor is None:
        raise PermissionDenied(_("Only the secretariat prepares the scheduling meeting."))
    meeting = _for_change(meeting, actor, version)
    errors = {}
    if not meeting.place.strip():
        errors["place"] = _("Say where the meeting is held.")
    if not agenda(meeting, include_dropped=False):
        errors["items"] = _("The agenda is empty: draft it or add an item first.")
    if errors:
        raise ValidationError(errors)
    before = meeting.state
    meeting.state = Meeting.State.PUBLISHED
    meeting.published_at = timezone.now()
    meeting.version += 1
    meeting.save(update_fields=["state", "published_at", "version"])
    audit_record(
        actor=actor,
        instance=meeting,
        action=AuditAction.TRANSITION,
        transition="publish" if before == Meeting.State.DRAFT else "republish",
        from_state=before,
        to_state=meeting.state,
    )
    people = invitees(meeting)
    notifying.notify_people(
        people,
        "meeting_invitation",
        context={
            "meeting": meeting.title,
            "when": timezone.localtime(meeting.scheduled_at).strftime("%Y-%m-%d %H:%M"),
            "place": meeting.place,
        },
        link=f"/workflow/meetings/{meeting.pk}/",
        event=meeting_event(meeting),
    )
    meeting.invited = people
    return meeting


@dataclass
class DecisionInput:
    """One decision as the minutes record it."""

    text: str
    owner: Person
    working_days: int
    unit: Unit | None = None
    project: KeyProject | None = None
    item: AgendaItem | int | None = None


def _as_input(row):
    return row if isinstance(row, DecisionInput) else DecisionInput(**row)


@transaction.atomic
def meeting_record_minutes(*, meeting, actor, minutes_by_item, decisions, version):
    """Record the minutes of each item and the decisions; each decision becomes a task of its
    owner (the owner's unit's queue when the owner cannot log in) with a clock of its working
    days, through its DecisionFlow. The meeting is then minuted: its agenda no longer changes."""
    meeting = _for_change(meeting, actor, version)
    items = {item.pk: item for item in _load_items(meeting)}
    errors = defaultdict(list)
    minutes = {}
    for key, text in (minutes_by_item or {}).items():
        item_id = getattr(key, "pk", key)
        try:
            item = items[int(item_id)]
        except (KeyError, TypeError, ValueError):
            errors["minutes"].append(_("Item %(item)s is not on this meeting's agenda.") % {"item": item_id})
            continue
        minutes[item.pk] = (text or "").strip()
    now = timezone.now()
    rows = []
    for number, raw in enumerate(decisions or [], start=1):
        row = _as_input(raw)
        item = None
        if row.item is not None:
            item = items.get(getattr(row.item, "pk", row.item))
            if item is None:
                errors["decisions"].append(
                    _("Decision %(n)s: its item is not on this meeting's agenda.") % {"n": number}
                )
                continue
        if row.owner is not None and row.owner.role in NOT_INTERNAL:
            errors["decisions"].append(
                _("Decision %(n)s: the owner is one of the government's people.") % {"n": number}
            )
            continue
        decision = Decision(
            meeting=meeting,
            item=item,
            project=row.project or (item.project if item else None),
            text=(row.text or "").strip(),
            owner=row.owner,
            unit=row.unit or (row.owner.unit if row.owner else None),
            working_days=row.working_days,
            created_at=now,
        )
        try:
            decision.full_clean(exclude=["meeting", "item", "due_at"])
        except ValidationError as error:
            label = _("Decision %(n)s") % {"n": number}
            for field_name, messages in error.message_dict.items():
                verbose = Decision._meta.get_field(field_name).verbose_name if field_name != "__all__" else ""
                errors["decisions"].extend(f"{label}: {verbose} {message}".replace("  ", " ") for message in messages)
            continue
        rows.append(decision)
    if errors:
        raise ValidationError(dict(errors))
    changed = []
    for item_id, text in minutes.items():
        item = items[item_id]
        if item.minutes != text:
            item.minutes = text
            changed.append(item)
    if changed:
        AgendaItem.objects.bulk_update(changed, ["minutes"])
    before = meeting.state
    meeting.state = Meeting.State.MINUTED
    meeting.minuted_at = now
    meeting.version += 1
    meeting.save(update_fields=["state", "minuted_at", "version"])
    audit_record(
        actor=actor,
        instance=meeting,
        action=AuditAction.TRANSITION,
        transition="record_minutes",
        from_state=before,
        to_state=meeting.state,
        changes={"items_minuted": len(changed), "decisions": len(rows)},
    )
    for decision in rows:
        decision.save()
        audit_record(
            actor=actor, instance=decision, action=AuditAction.CREATED, project=decision.project, to_state=decision.state
        )
    bulk.start_many(DecisionFlow.start, "decision", rows)
    return meeting


@transaction.atomic
def decision_drop(*, decision, actor, reason):
    """The secretariat drops an open decision (overtaken by events): its task is cancelled and it
    no longer carries over."""
    if not case_permissions.is_secretariat(actor):
        raise PermissionDenied(_("Only the secretariat drops a decision."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the decision is dropped.")})
    decision = Decision.objects.select_for_update().get(pk=decision.pk)
    if decision.state != Decision.State.OPEN:
        raise Conflict(_("This decision is closed already."))
    now = timezone.now()
    before = decision.state
    decision.state, decision.done_at = Decision.State.DROPPED, now
    decision.save(update_fields=["state", "done_at"])
    audit_record(
        actor=actor,
        instance=decision,
        action=AuditAction.TRANSITION,
        project=decision.project,
        transition="drop",
        from_state=before,
        to_state=decision.state,
        reason=reason,
    )
    process = getattr(decision, "process", None)
    if process is not None and process.finished is None:
        DecisionFlow.instance.cancel(process)
        TaskClock.objects.filter(task__process=process, closed_at__isnull=True).update(
            closed_at=now, next_step=None, next_fire_at=None
        )
    return decision


def may_edit(user, meeting=None):
    """The secretariat edits a meeting until its minutes are recorded."""
    return case_permissions.is_secretariat(user) and (meeting is None or meeting.state != Meeting.State.MINUTED)
