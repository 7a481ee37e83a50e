"""Matchmaking events (roadshows, the "one month, one industrial chain" campaign): the projects
pitched, the institutions invited with an iCalendar invitation, their attendance, and intents
signed on the spot, each of which opens or advances a docking to intent signed.

The secretariat runs events. An event goes planned → invited (invitations sent) → held
(attendance recorded, or the first intent signed) → closed. Its follow-up tasks are the
coordination engine's: an intent signed at an event starts one (workflow/financing.py,
through ``record_changed``).
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition

from cases import notifying
from cases.formatting import enumeration
from cases.models import AuditAction, Role, UnitKind
from cases.services.audit import audit_record, diff, snapshot
from cases.services.errors import Conflict, TransitionNotAvailable

from .. import permissions
from .. import selectors as docking_selectors
from ..models import Docking, DockingState, EventInvitation, MatchmakingEvent, NeedState
from .dockings import DOCKING_TRANSITION_FIELDS, SOURCE_EVENT, _open, _take, _tell

State = MatchmakingEvent.State
EVENT_FIELDS = ["title", "kind", "chain", "starts_at", "ends_at", "place", "organiser", "summary"]
# What an invitation says: a change of these after the invitations went out sends them again.
INVITATION_FIELDS = {"title", "starts_at", "ends_at", "place"}
# An intent signed at an event names the event on its docking.
EVENT_SIGNING_FIELDS = {**DOCKING_TRANSITION_FIELDS, "sign_intent": {"intent_amount", "event"}}
INTENT_REACHED = [DockingState.INTENT_SIGNED, DockingState.CREDIT_APPROVED, DockingState.DISBURSED]
FIRST_YEAR, LAST_YEAR = 2000, 2100


def event_url(event):
    return reverse("financing:event", args=[event.pk])


def _allowed(actor):
    if not permissions.can_manage_events(actor):
        raise PermissionDenied(_("Only the secretariat organises matchmaking events."))


def _check_version(event, expected_version):
    if expected_version is not None and int(expected_version) != event.version:
        raise Conflict()


def _save(event):
    try:
        event.save()
    except ConcurrentTransition as exc:
        raise Conflict() from exc


def _validate(event):
    errors = {}
    try:
        event.validate()
    except ValidationError as error:
        errors.update(error.message_dict)
    for name in ("starts_at", "ends_at"):
        moment = getattr(event, name)
        if moment and not FIRST_YEAR <= moment.year <= LAST_YEAR:
            errors.setdefault(name, []).append(
                _("Choose a time between %(first)s and %(last)s.") % {"first": FIRST_YEAR, "last": LAST_YEAR}
            )
    if event.starts_at and event.ends_at and event.ends_at < event.starts_at:
        errors.setdefault("ends_at", []).append(_("The event cannot end before it starts."))
    if errors:
        raise ValidationError(errors)


def _check_projects(projects):
    projects = list(projects)
    ids = {p.pk for p in projects}
    with_needs = set(docking_selectors.pitchable_projects().filter(pk__in=ids).values_list("pk", flat=True))
    missing = [p.code for p in projects if p.pk not in with_needs]
    if missing:
        raise ValidationError(
            {"projects": _("These key projects have no need on the white list: %(codes)s.") % {"codes": enumeration(missing)}}
        )
    return projects


def _set_fields(event, data):
    unknown = set(data) - set(EVENT_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
    for name, value in data.items():
        setattr(event, name, value)


@transaction.atomic
def event_create(*, actor, data, projects=()) -> MatchmakingEvent:
    """Plan an event; the projects pitched must have a need on the white list."""
    _allowed(actor)
    event = MatchmakingEvent(created_by=actor)
    _set_fields(event, data)
    if event.organiser_id is None:
        person = permissions.person_of(actor)
        event.organiser = person.unit if person else None
    _validate(event)
    projects = _check_projects(projects)
    event.save()
    event.projects.set(projects)
    audit_record(
        actor=actor,
        instance=event,
        action=AuditAction.CREATED,
        to_state=event.state,
        changes={
            **{k: [None, v] for k, v in snapshot(event, EVENT_FIELDS).items() if v not in (None, "")},
            "projects": [None, sorted(p.pk for p in projects)],
        },
    )
    return event


@transaction.atomic
def event_update(*, event, actor, data, projects=None, expected_version=None) -> MatchmakingEvent:
    """Change an event; once invited, a change of its time, place or title sends the invitations again."""
    _allowed(actor)
    _check_version(event, expected_version)
    if event.state == State.CLOSED:
        raise ValidationError(_("A closed event does not change any more."))
    names = [*EVENT_FIELDS, "projects"]
    before = snapshot(event, names)
    _set_fields(event, data)
    _validate(event)
    if projects is not None:
        projects = _check_projects(projects)
    _save(event)
    if projects is not None:
        event.projects.set(projects)
        if hasattr(event, "_prefetched_objects_cache"):
            event._prefetched_objects_cache.pop("projects", None)
    changes = diff(before, snapshot(event, names))
    if changes:
        audit_record(actor=actor, instance=event, action=AuditAction.UPDATED, changes=changes)
    if event.state == State.INVITED and INVITATION_FIELDS & set(changes):
        invited = list(event.invitations.values_list("institution_id", flat=True))
        _send_invitations(event, invited)
    return event


def event_calendar_entry(event):
    """The iCalendar event of the invitation: one uid per event, so an update replaces it."""
    with translation.override(settings.LANGUAGE_CODE):
        pitched = "\n".join(f"{p.code} {p.name}" for p in event.projects.order_by("code"))
        description = "\n".join(
            part
            for part in (
                _("Industrial chain: %(chain)s") % {"chain": event.get_chain_display()},
                _("Projects pitched:") + ("\n" + pitched if pitched else " —"),
                event.summary,
            )
            if part
        )
    return {
        "uid": f"event-{event.pk}@keyprojects",
        "sequence": event.version,
        "summary": event.title,
        "start": event.starts_at.isoformat(),
        "end": event.ends_at.isoformat(),
        "location": event.place,
        "description": description,
    }


def _send_invitations(event, institution_ids):
    people = notifying.unit_people(institution_ids, roles=(Role.INSTITUTION,))
    return notifying.notify_people(
        people,
        "meeting_invitation",
        context={
            "meeting": event.title,
            "when": timezone.localtime(event.starts_at).strftime("%Y-%m-%d %H:%M"),
            "place": event.place,
        },
        link=event_url(event),
        event=event_calendar_entry(event),
    )


@transaction.atomic
def event_invite(*, event, institutions, actor, expected_version=None) -> list:
    """Invite institutions: each new one's people get the invitation with its calendar entry."""
    _allowed(actor)
    _check_version(event, expected_version)
    institutions = list(institutions)
    errors = {}
    if event.state in (State.HELD, State.CLOSED):
        errors["institutions"] = _("The event has been held: nobody is invited any more.")
    elif event.starts_at <= timezone.now():
        errors["institutions"] = _("The event has begun: nobody is invited any more.")
    elif not institutions:
        errors["institutions"] = _("Choose the institutions to invite.")
    elif any(unit.kind != UnitKind.INSTITUTION for unit in institutions):
        errors["institutions"] = _("Only financial institutions are invited.")
    if errors:
        raise ValidationError(errors)
    already = set(event.invitations.values_list("institution_id", flat=True))
    new = sorted({unit.pk for unit in institutions} - already)
    now = timezone.now()
    EventInvitation.objects.bulk_create([EventInvitation(event=event, institution_id=pk, invited_at=now) for pk in new])
    before = event.state
    event.state = State.INVITED
    _save(event)
    audit_record(
        actor=actor,
        instance=event,
        action=AuditAction.TRANSITION,
        transition="invite",
        from_state=before,
        to_state=event.state,
        changes={"invited": [sorted(already), sorted(already | set(new))]},
    )
    _send_invitations(event, new)
    return list(EventInvitation.objects.filter(event=event, institution_id__in=new).select_related("institution"))


def _begun(event):
    if event.state == State.CLOSED:
        raise ValidationError(_("The event is closed."))
    if event.starts_at > timezone.now():
        raise ValidationError(_("The event has not begun yet."))


@transaction.atomic
def event_record_attendance(*, event, attended, actor, expected_version=None) -> MatchmakingEvent:
    """Which invited institutions came (the others did not); the event is held."""
    _allowed(actor)
    _check_version(event, expected_version)
    _begun(event)
    attended = {getattr(unit, "pk", unit) for unit in attended}
    invitations = list(event.invitations.all())
    invited = {invitation.institution_id for invitation in invitations}
    if attended - invited:
        raise ValidationError({"attended": _("Only invited institutions can have attended.")})
    before_attended = sorted(i.institution_id for i in invitations if i.attended)
    for invitation in invitations:
        invitation.attended = invitation.institution_id in attended
    EventInvitation.objects.bulk_update(invitations, ["attended"])
    before = event.state
    event.state = State.HELD
    _save(event)
    audit_record(
        actor=actor,
        instance=event,
        action=AuditAction.TRANSITION,
        transition="attendance",
        from_state=before,
        to_state=event.state,
        changes={"attended": [before_attended, sorted(attended)]},
    )
    return event


@transaction.atomic
def event_sign_intent(*, event, need, institution, amount, actor) -> Docking:
    """An intent signed on the spot: the need's docking with the institution is opened (source
    "event") or advanced to intent signed with the amount, naming the event."""
    _allowed(actor)
    _begun(event)
    errors = {}
    if need.state != NeedState.PUBLISHED:
        errors["need"] = _("Only a need published on the white list can be signed for.")
    elif not event.projects.filter(pk=need.project_id).exists():
        errors["need"] = _("The need's key project is not pitched at this event.")
    invitation = EventInvitation.objects.filter(event=event, institution=institution).first()
    if invitation is None:
        errors["institution"] = _("The institution is not invited to this event.")
    if errors:
        raise ValidationError(errors)
    docking = Docking.objects.select_for_update(of=("self",)).filter(need=need, institution=institution).first()
    if docking is None:
        docking = _open(
            project=need.project,
            institution=institution,
            actor=actor,
            need=need,
            source=SOURCE_EVENT,
            event=event,
            duplicate=Conflict(_("This institution already has a docking for this need.")),
            tell=False,
        )
    else:
        docking = Docking.objects.select_related("project", "need", "institution").get(pk=docking.pk)
    if docking.state in INTENT_REACHED or docking.state == DockingState.DECLINED:
        raise TransitionNotAvailable(_("Intent signed"), docking.get_state_display())
    if docking.state == DockingState.RECOMMENDED:
        _take(docking, "contact", actor=actor, tell=False)
    _take(
        docking,
        "sign_intent",
        actor=actor,
        fields={"intent_amount": amount, "event": event},
        allowed=EVENT_SIGNING_FIELDS,
        tell=False,
    )
    _tell(docking, actor)
    if not invitation.attended:
        EventInvitation.objects.filter(pk=invitation.pk).update(attended=True)
    if event.state != State.HELD:
        before = event.state
        event.state = State.HELD
        _save(event)
        audit_record(
            actor=actor, instance=event, action=AuditAction.TRANSITION, transition="hold",
            from_state=before, to_state=event.state,
        )
    return docking


@transaction.atomic
def event_close(*, event, actor, summary="", expected_version=None) -> MatchmakingEvent:
    """Close a held event with its summary."""
    _allowed(actor)
    _check_version(event, expected_version)
    if event.state != State.HELD:
        raise ValidationError(_("Only an event that has been held can be closed."))
    before = event.state
    summary = (summary or "").strip()
    if summary:
        event.summary = summary
    event.state = State.CLOSED
    _save(event)
    audit_record(
        actor=actor,
        instance=event,
        action=AuditAction.TRANSITION,
        transition="close",
        from_state=before,
        to_state=event.state,
        reason=summary,
    )
    return event
