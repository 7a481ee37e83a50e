"""Writing coordination state: task clocks, task steps, supervision orders and interviews.

Views, API views, the hooks and the celery tasks call these; flows.py only routes. A step
of a flow changes its records here and then finishes its task, in one transaction.
"""

import contextlib
import contextvars
import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from viewflow.workflow.status import STATUS

from cases import notifying
from cases.models import AuditAction, Person, Role
from cases.permissions import is_secretariat, person_of, role_of
from cases.services.audit import audit_record

from . import escalation
from .calendar import WorkingCalendar, deadline_text
from .models import (
    Commitment,
    Interview,
    Source,
    SupervisionOrder,
    TaskClock,
)

OPEN_STATUSES = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


def secretariat_unit():
    """The unit the secretariat sits in (the commission); its tasks' clocks count there."""
    person = Person.objects.filter(role=Role.SECRETARIAT).select_related("unit").order_by("pk").first()
    return person.unit if person else None


def supervisor_unit():
    person = Person.objects.filter(role=Role.SUPERVISOR).select_related("unit").order_by("pk").first()
    return person.unit if person else secretariat_unit()


# Clocks


def end_of_day(day):
    """The deadline that falls at the end of ``day``."""
    return WorkingCalendar().end_of(day)


def working_days_after(moment, count):
    return WorkingCalendar.load().add_working_days(moment, count)


_ladder_cache = contextvars.ContextVar("ladder_cache", default=None)


@contextlib.contextmanager
def ladder_cached():
    """Within the block, clocks started share one load of the calendar and the ladder: a batch
    starting two hundred flows reads them once, not two hundred times."""
    token = _ladder_cache.set((WorkingCalendar.load(), escalation.steps_by_kind()))
    try:
        yield
    finally:
        _ladder_cache.reset(token)


def clock_start(
    *, task, kind, project, title, unit=None, unit_id=None, working_days=None, due_at=None, started_at=None
):
    """Start the deadline of a human task: ``working_days`` from now, or a given ``due_at``."""
    cached = _ladder_cache.get()
    cal, steps = cached if cached else (WorkingCalendar.load(), None)
    started_at = started_at or timezone.now()
    if due_at is None:
        due_at = cal.add_working_days(started_at, working_days)
    elif working_days is None:
        working_days = max(cal.working_days_between(started_at, due_at), 0)
    clock = TaskClock(
        task=task,
        kind=kind,
        project=project,
        unit_id=unit_id if unit_id is not None else unit.pk,
        title=str(title)[:250],
        started_at=started_at,
        working_days=working_days,
        due_at=due_at,
    )
    escalation.plan_next(clock, steps if steps is not None else escalation.steps_by_kind(), set(), cal)
    clock.save()
    return clock


def clock_close(task):
    """A finished task's clock stops: no rung fires for it any more."""
    TaskClock.objects.filter(task_id=task.pk, closed_at__isnull=True).update(
        closed_at=task.finished or timezone.now(), next_step=None, next_fire_at=None
    )


def may_pause(user, clock):
    return is_secretariat(user) or role_of(user) == Role.SUPERVISOR or (
        role_of(user) == Role.UNIT_HEAD and person_of(user).unit_id == clock.unit_id
    )


@transaction.atomic
def clock_pause(*, clock, actor, reason):
    """Stop the clock (waiting for another authority); audited on the case."""
    if not may_pause(actor, clock):
        raise PermissionDenied(_("Only the unit's head, a supervisor or the secretariat may pause this clock."))
    clock = TaskClock.objects.select_for_update().get(pk=clock.pk)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the clock stops.")})
    if clock.closed_at or clock.paused_at:
        raise ValidationError(_("The clock is not running."))
    clock.paused_at = timezone.now()
    clock.pause_reason = reason[:300]
    clock.next_step, clock.next_fire_at = None, None
    clock.save()
    audit_record(
        actor=actor,
        instance=clock,
        action=AuditAction.TRANSITION,
        project=clock.project,
        transition="pause",
        from_state="running",
        to_state="paused",
        reason=reason,
    )
    return clock


@transaction.atomic
def clock_resume(*, clock, actor):
    """Restart the clock; the due moment moves by the working time it stood still."""
    if not may_pause(actor, clock):
        raise PermissionDenied(_("Only the unit's head, a supervisor or the secretariat may resume this clock."))
    clock = TaskClock.objects.select_for_update().get(pk=clock.pk)
    if not clock.paused_at:
        raise ValidationError(_("The clock is not paused."))
    cal = WorkingCalendar.load()
    now = timezone.now()
    paused = cal.working_seconds_between(clock.paused_at, now)
    old_due = clock.due_at
    clock.due_at = cal.add_working_seconds(clock.due_at, paused)
    clock.paused_seconds += paused
    clock.paused_at = None
    fired = set(clock.escalations.values_list("step_id", flat=True))
    escalation.plan_next(clock, escalation.steps_by_kind(), fired, cal)
    clock.save()
    audit_record(
        actor=actor,
        instance=clock,
        action=AuditAction.TRANSITION,
        project=clock.project,
        transition="resume",
        from_state="paused",
        to_state="running",
        changes={"due_at": [old_due.isoformat(), clock.due_at.isoformat()]},
    )
    return clock


# Tasks


@contextlib.contextmanager
def task_locked(task):
    """The task's flow lock, then a transaction: the order viewflow's own pages take them, so a
    step taken through the API and one posted on a page wait for each other instead of
    deadlocking (each service locks its records, then finishes the task under the flow's lock).
    A deadlock PostgreSQL still breaks comes out as viewflow's ``FlowLockFailed``."""
    with task.flow_task.flow_class.lock(task.process_id), transaction.atomic():
        yield


def can_act(user, task):
    """May ``user`` do this task now: its owner, or someone who may claim it."""
    flow_task = task.flow_task
    return flow_task.can_execute(user, task) or flow_task.can_assign(user, task)


def finish_task(task, user):
    """Finish a human task for ``user`` (claiming it when it waits in a queue), and move on."""
    with task.activation() as activation:
        if activation.task.status == STATUS.NEW:
            activation.assign(user)
        if activation.task.status == STATUS.ASSIGNED:
            activation.start(None)
        if activation.task.status == STATUS.STARTED:
            activation.execute()


def checked(task, user):
    """Refuse a task that is done, or not ``user``'s to do."""
    if task.status not in OPEN_STATUSES:
        raise ValidationError(_("This task is done already."))
    if not can_act(user, task):
        raise PermissionDenied(_("This task is not yours to do."))


@transaction.atomic
def claim_task(*, task, user):
    if not task.flow_task.can_assign(user, task):
        raise PermissionDenied(_("You may not take this task."))
    with task.activation() as activation:
        activation.assign(user)
    return task


@transaction.atomic
def release_task(*, task, user):
    if not task.flow_task.can_unassign(user, task):
        raise PermissionDenied(_("You may not give this task back."))
    with task.activation() as activation:
        activation.unassign()
    return task


def open_task(process, node):
    """The open task of ``node`` in ``process``, if any."""
    return process.task_set.filter(flow_task=node, status__in=OPEN_STATUSES).order_by("pk").first()


# Flows starting


def start_blocker_flow(blocker):
    from .flows import BlockerFlow

    return BlockerFlow.start.run(blocker=blocker)


def start_prework_flow(item):
    from .flows import PreworkFlow

    return PreworkFlow.start.run(item=item)


def start_prework_flows(project):
    """When a case enters pre-work: one approval task per required item still open."""
    items = project.prework_items.filter(required=True, state__in=["pending", "in_progress"])
    return [start_prework_flow(item) for item in items if not item.processes.filter(finished__isnull=True).exists()]


def _order_number(order):
    return f"{timezone.localtime(order.issued_at).year}-{order.pk:05d}"


@transaction.atomic
def issue_order(*, project, unit, subject, actor, clock=None, urgency=SupervisionOrder.Urgency.NORMAL, previous=None):
    """A supervisor issues a supervision order to a unit; its flow delivers it and waits for the answer."""
    from .flows import SupervisionFlow

    if actor is not None and not (is_secretariat(actor) or role_of(actor) == Role.SUPERVISOR):
        raise PermissionDenied(_("Only a supervisor or the secretariat issues supervision orders."))
    subject = (subject or "").strip()
    if not subject:
        raise ValidationError({"subject": _("Say what the order is about.")})
    now = timezone.now()
    order = SupervisionOrder.objects.create(
        number=f"new-{now.timestamp()}",
        project=project,
        unit=unit,
        clock=clock,
        subject=subject[:250],
        urgency=urgency,
        source=Source.SUPERVISOR if actor is not None else Source.LADDER,
        issued_by=actor,
        issued_at=now,
        respond_by=WorkingCalendar.load().add_working_days(now, escalation.ORDER_ANSWER_DAYS),
        previous=previous,
    )
    order.number = _order_number(order)
    order.save(update_fields=["number"])
    audit_record(actor=actor, instance=order, action=AuditAction.CREATED, project=project, to_state=order.state)
    SupervisionFlow.start.run(order=order)
    return order


def issue_orders(orders):
    """The ladder's orders, written in bulk; their flows start in a worker after commit."""
    from . import tasks

    created = SupervisionOrder.objects.bulk_create(orders)
    for order in created:
        order.number = _order_number(order)
    SupervisionOrder.objects.bulk_update(created, ["number"])
    ids = [order.pk for order in created]
    transaction.on_commit(lambda: tasks.start_order_flows.apply_async((ids,)))
    return created


@transaction.atomic
def propose_interview(*, project, leader, reason, actor, unit=None, clock=None):
    """A supervisor proposes to interview a responsible leader."""
    from .flows import InterviewFlow

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
    InterviewFlow.start.run(interview=interview)
    return interview


def propose_interviews(interviews):
    from . import tasks

    created = Interview.objects.bulk_create(interviews)
    ids = [interview.pk for interview in created]
    transaction.on_commit(lambda: tasks.start_interview_flows.apply_async((ids,)))
    return created


def deliver_order(order):
    """Tell the addressed unit's people about the order (a flow job; raises when nobody can be told)."""
    people = list(Person.objects.filter(unit_id=order.unit_id, role__in=[Role.UNIT_HEAD, Role.UNIT_STAFF]))
    if not people:
        raise LookupError(f"unit {order.unit_id} has nobody to receive supervision order {order.pk}")
    with transaction.atomic():
        notifying.notify_people(
            people,
            "supervision_order_issued",
            context={
                "number": order.number,
                "case": notifying.case_name(order.project),
                "unit": order.unit.name,
                "subject": order.subject,
                "due": deadline_text(order.respond_by),
            },
            link=f"/workflow/orders/{order.pk}/",
        )
    return len(people)


def order_delivery_failed(order):
    """The order reached nobody in the unit: the secretariat is told to deliver it by hand."""
    secretariat = list(Person.objects.filter(role=Role.SECRETARIAT))
    notifying.notify_people(
        secretariat,
        "supervision_order_issued",
        context={
            "number": order.number,
            "case": notifying.case_name(order.project),
            "unit": order.unit.name,
            "subject": order.subject,
            "due": deadline_text(order.respond_by),
        },
        link=f"/workflow/orders/{order.pk}/",
    )


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


def start_order_flows(order_ids):
    from .flows import SupervisionFlow

    for order in SupervisionOrder.objects.filter(pk__in=order_ids, process__isnull=True):
        with transaction.atomic():
            SupervisionFlow.start.run(order=order)


def start_interview_flows(interview_ids):
    from .flows import InterviewFlow

    for interview in Interview.objects.filter(pk__in=interview_ids, process__isnull=True):
        with transaction.atomic():
            InterviewFlow.start.run(interview=interview)


# Steps


@transaction.atomic
def blocker_give_input(*, task, user, text):
    from cases.services.records import blocker_add_input

    checked(task, user)
    blocker_add_input(blocker=task.process.coerced.blocker, actor=user, text=text)
    finish_task(task, user)


def _audit_step(user, record, project, transition, before, after, reason=""):
    audit_record(
        actor=user,
        instance=record,
        action=AuditAction.TRANSITION,
        project=project,
        transition=transition,
        from_state=before,
        to_state=after,
        reason=reason,
    )


@transaction.atomic
def order_answer(*, task, user, plan, fixed_by):
    """The unit answers a supervision order with its rectification plan and a date."""
    checked(task, user)
    order = SupervisionOrder.objects.select_for_update().get(pk=task.process.coerced.order_id)
    errors = {}
    if not (plan or "").strip():
        errors["plan"] = _("Describe the rectification plan.")
    if not fixed_by:
        errors["fixed_by"] = _("Give the date by which it is fixed.")
    elif fixed_by < timezone.localdate():
        errors["fixed_by"] = _("The date cannot be in the past.")
    if errors:
        raise ValidationError(errors)
    before = order.state
    order.plan, order.fixed_by, order.answered_at = plan.strip(), fixed_by, timezone.now()
    order.state = SupervisionOrder.State.ANSWERED
    order.save()
    _audit_step(user, order, order.project, "answer", before, order.state)
    finish_task(task, user)
    return order


@transaction.atomic
def order_evaluate(*, task, user, accepted, evaluation):
    """The supervisor accepts the plan (the order closes) or not (it is reissued, more urgent)."""
    checked(task, user)
    order = SupervisionOrder.objects.select_for_update().get(pk=task.process.coerced.order_id)
    evaluation = (evaluation or "").strip()
    if not accepted and not evaluation:
        raise ValidationError({"evaluation": _("Say why the plan is not accepted.")})
    before = order.state
    order.evaluation = evaluation
    order.state = SupervisionOrder.State.CLOSED if accepted else SupervisionOrder.State.REISSUED
    order.closed_at = timezone.now()
    order.save()
    _audit_step(user, order, order.project, "evaluate", before, order.state, evaluation)
    finish_task(task, user)
    return order


def reissue(order):
    """A rejected answer: a new order on the same matter, one step more urgent."""
    return issue_order(
        project=order.project,
        unit=order.unit,
        subject=order.subject,
        actor=order.issued_by,
        clock=order.clock,
        urgency=min(order.urgency + 1, SupervisionOrder.Urgency.VERY_URGENT),
        previous=order,
    )


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
    _audit_step(user, interview, interview.project, "decide", before, interview.state, note)
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
    _audit_step(user, interview, interview.project, "schedule", before, interview.state)
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
    _audit_step(user, interview, interview.project, "hold", before, interview.state)
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
    _audit_step(user, interview, interview.project, "follow_up", before, interview.state, interview.follow_up)
    finish_task(task, user)
    return interview

