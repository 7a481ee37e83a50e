"""Task clocks: a human task's deadline started in working days, paused with a reason and resumed,
closed when the task is done; and the units whose clocks the secretariat's and the supervisors'
tasks count against."""

import contextlib
import contextvars

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import AuditAction, Person, Role
from cases.permissions import is_secretariat, person_of, role_of
from cases.services.audit import audit_record

from . import ladder
from .calendar import WorkingCalendar
from .models import TaskClock


def secretariat_unit():
    """The unit the secretariat sits in (the commission); its tasks' clocks count there."""
    return _unit_of(Role.SECRETARIAT)


def supervisor_unit():
    return _unit_of(Role.SUPERVISOR) or secretariat_unit()


def _unit_of(role):
    cached = _ladder_cache.get()
    units = cached[2] if cached else {}
    if role not in units:
        person = Person.objects.filter(role=role).select_related("unit").order_by("pk").first()
        units[role] = person.unit if person else None
    return units[role]


def end_of_day(day):
    """The deadline that falls at the end of ``day``."""
    return WorkingCalendar().end_of(day)


def working_days_after(moment, count):
    cached = _ladder_cache.get()
    return (cached[0] if cached else WorkingCalendar.load()).add_working_days(moment, count)


_ladder_cache = contextvars.ContextVar("ladder_cache", default=None)
_collected = contextvars.ContextVar("collected_clocks", default=None)


@contextlib.contextmanager
def ladder_cached():
    """Within the block, clocks started share one load of the calendar and the ladder, and of the
    secretariat's and the supervisors' units: a batch starting a thousand flows reads them once."""
    if _ladder_cache.get() is not None:  # within an outer block: its loads serve
        yield
        return
    token = _ladder_cache.set((WorkingCalendar.load(), ladder.steps_by_kind(), {}))
    try:
        yield
    finally:
        _ladder_cache.reset(token)


def clock_start(
    *, task, kind, project, title, unit=None, unit_id=None, working_days=None, due_at=None, started_at=None
):
    """Start the deadline of a human task: ``working_days`` from now, or a given ``due_at``."""
    cached = _ladder_cache.get()
    cal, steps = cached[:2] if cached else (WorkingCalendar.load(), None)
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
    ladder.plan_next(clock, steps if steps is not None else ladder.steps_by_kind(), set(), cal)
    collected = _collected.get()
    if collected is None:
        clock.save()
    else:
        collected.append(clock)
    return clock


@contextlib.contextmanager
def collecting():
    """Within the block, clocks started are not saved but gathered in the list it yields, for the
    caller to insert at once (the bulk start of flows, ``workflow.engine.bulk``)."""
    gathered = []
    token = _collected.set(gathered)
    try:
        yield gathered
    finally:
        _collected.reset(token)


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
    ladder.plan_next(clock, ladder.steps_by_kind(), fired, cal)
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
