"""Interviews (约谈) of responsible leaders: proposed, decided, scheduled with an invitation, held
with minutes and commitments, followed up. The writes of the interview's records; starting its
flow is ``launch``'s."""

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cases import notifying
from cases.models import AuditAction, Person, Role
from cases.permissions import is_secretariat, person_of, role_of
from cases.services.audit import audit_record
from workflow.engine.services import audit_step, checked, finish_task

from .models import Commitment, Interview, Source


@transaction.atomic
def interview_propose(*, project, leader, reason, actor, unit=None, clock=None):
    """A supervisor (or the secretariat) proposes to interview a responsible leader: the interview,
    audited, and the leader and the secretariat told. Its flow is started by
    ``launch.propose_interview``."""
    if not (is_secretariat(actor) or role_of(actor) == Role.SUPERVISOR):
        raise PermissionDenied(_("Only a supervisor or the secretariat proposes interviews."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the leader is to be interviewed.")})
    interview = Interview.objects.create(
        project=project,
        unit=unit,
        leader=leader,
        clock=clock,
        reason=reason,
        source=Source.SUPERVISOR,
        proposed_by=actor,
        proposed_at=timezone.now(),
    )
    audit_record(actor=actor, instance=interview, action=AuditAction.CREATED, project=project, to_state=interview.state)
    notifying.notify_people(
        [leader, *Person.objects.filter(role=Role.SECRETARIAT)],
        "interview_proposed",
        context={"leader": leader.name, "case": notifying.case_name(project), "reason": reason},
        link=f"/workflow/interviews/{interview.pk}/",
        exclude_user=actor,
    )
    return interview


def invitation_failed(interview):
    """The invitations could not be sent: the secretariat is told to invite by hand."""
    notifying.notify_people(
        list(Person.objects.filter(role=Role.SECRETARIAT)),
        "interview_proposed",
        context={
            "leader": interview.leader.name,
            "case": notifying.case_name(interview.project),
            "reason": interview.reason,
        },
        link=f"/workflow/interviews/{interview.pk}/",
    )


def commitment_of(task):
    return Commitment.objects.select_related("owner__user", "interview").get(pk=task.data["commitment"])


@transaction.atomic
def interview_decide(*, task, user, approved, note):
    checked(task, user)
    interview = Interview.objects.select_for_update().get(pk=task.process.coerced.interview_id)
    if person_of(user) is not None and person_of(user).pk == interview.leader_id:
        raise PermissionDenied(_("A leader does not decide on their own interview."))
    note = (note or "").strip()
    if not approved and not note:
        raise ValidationError({"note": _("Say why the interview is not held.")})
    before = interview.state
    interview.decided_by, interview.decision_note = user, note
    interview.state = Interview.State.APPROVED if approved else Interview.State.REJECTED
    if not approved:
        interview.closed_at = timezone.now()
    interview.save()
    audit_step(user, interview, interview.project, "decide", before, interview.state, note)
    finish_task(task, user)
    return interview


@transaction.atomic
def interview_schedule(*, task, user, when, place, attendees):
    checked(task, user)
    interview = Interview.objects.select_for_update().get(pk=task.process.coerced.interview_id)
    errors = {}
    if not when or when <= timezone.now():
        errors["when"] = _("Choose a time in the future.")
    if not (place or "").strip():
        errors["place"] = _("Say where it is held.")
    if errors:
        raise ValidationError(errors)
    before = interview.state
    interview.scheduled_at, interview.place = when, place.strip()
    interview.state = Interview.State.SCHEDULED
    interview.save()
    interview.attendees.set(attendees)
    audit_step(user, interview, interview.project, "schedule", before, interview.state)
    finish_task(task, user)
    return interview


def send_invitations(interview):
    """The invitation with an iCalendar event, to the leader and every attendee."""
    people = [interview.leader, *interview.attendees.select_related("user")]
    start = interview.scheduled_at
    with translation.override(settings.LANGUAGE_CODE):
        summary = _("Interview: %(leader)s") % {"leader": interview.leader.name}
    return notifying.notify_people(
        people,
        "meeting_invitation",
        context={
            "meeting": summary,
            "when": timezone.localtime(start).strftime("%Y-%m-%d %H:%M"),
            "place": interview.place,
        },
        link=f"/workflow/interviews/{interview.pk}/",
        event={
            "uid": f"interview-{interview.pk}@keyprojects",
            "summary": summary,
            "start": start.isoformat(),
            "end": (start + datetime.timedelta(hours=1)).isoformat(),
            "location": interview.place,
            "description": interview.reason,
        },
    )


@transaction.atomic
def interview_hold(*, task, user, minutes, commitments):
    """The minutes, and each commitment as a task for its owner with a deadline."""
    checked(task, user)
    interview = Interview.objects.select_for_update().get(pk=task.process.coerced.interview_id)
    if not (minutes or "").strip():
        raise ValidationError({"minutes": _("Write the minutes.")})
    before = interview.state
    interview.minutes, interview.held_at = minutes.strip(), timezone.now()
    interview.state = Interview.State.FOLLOWING_UP if commitments else Interview.State.HELD
    interview.save()
    Commitment.objects.bulk_create(
        [
            Commitment(interview=interview, text=c["text"], owner=c["owner"], working_days=c["working_days"])
            for c in commitments
        ]
    )
    audit_step(user, interview, interview.project, "hold", before, interview.state)
    finish_task(task, user)
    return interview


@transaction.atomic
def commitment_done(*, task, user, report):
    checked(task, user)
    commitment = Commitment.objects.select_for_update().get(pk=task.data["commitment"])
    if not (report or "").strip():
        raise ValidationError({"report": _("Say what was done.")})
    commitment.report, commitment.done_at = report.strip(), timezone.now()
    commitment.save()
    audit_record(
        actor=user,
        instance=commitment,
        action=AuditAction.UPDATED,
        project=commitment.interview.project,
        changes={"report": [None, commitment.report]},
    )
    finish_task(task, user)
    return commitment


@transaction.atomic
def interview_follow_up(*, task, user, note):
    checked(task, user)
    interview = Interview.objects.select_for_update().get(pk=task.process.coerced.interview_id)
    before = interview.state
    interview.follow_up, interview.state, interview.closed_at = (note or "").strip(), Interview.State.CLOSED, timezone.now()
    interview.save()
    audit_step(user, interview, interview.project, "follow_up", before, interview.state, interview.follow_up)
    finish_task(task, user)
    return interview
