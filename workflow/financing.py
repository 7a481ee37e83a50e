"""Financing dockings in the coordination engine: a stalled docking, and an intent signed at a
matchmaking event, become a follow-up task for the case's lead unit (``DockingFollowUpFlow``).

A docking is stalled when it sits in an open state with no step for the working days its
state allows (``DockingStallRule``, edited in the admin; a state without a rule is never
stalled). A daily beat task (``tasks.sweep_stalled_dockings``, in ``CELERY_BEAT_SCHEDULE``,
which the database scheduler copies into django-celery-beat's table, so its time is edited
in the admin) finds them with one query and starts their flows in batches of ``BATCH``. Both
halves are idempotent: a docking has at most one open follow-up, checked under its row's lock.

The follow-up asks the lead unit what was done; its answer is a step of the docking
("followed up"), so the stall clock starts again. Any real step of the docking ends an open
follow-up (cancelled, its clock closed): the docking moves again, nobody needs chasing.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from viewflow.workflow.exceptions import FlowRuntimeError

from cases.financing import services as financing_services
from cases.financing.models import Docking, DockingStallRule
from cases.financing.services.dockings import OPEN_STATES
from cases.models import ACTIVE_STAGES

from . import services
from .calendar import WorkingCalendar
from .models import DockingProcess, TaskClock, TaskKind

log = logging.getLogger(__name__)

BATCH = 200
FOLLOW_UP_DAYS = 5
STALLED = "stalled"
EVENT = "event"


# Finding stalled dockings


def stall_cutoffs(now, cal):
    """{state: moment}: a docking in ``state`` whose last step came at or before the moment is
    stalled: its state's working days have begun since (``WorkingCalendar.overdue_cutoff``)."""
    rules = DockingStallRule.objects.filter(state__in=OPEN_STATES).values_list("state", "working_days")
    return {state: cal.overdue_cutoff(now, days) for state, days in rules}


def open_follow_up():
    return DockingProcess.objects.filter(docking_id=OuterRef("pk"), finished__isnull=True)


def stalled_filter(now, cal):
    """The filter of the open dockings with no step for their state's working days."""
    cutoffs = stall_cutoffs(now, cal)
    if not cutoffs:
        return Q(pk__in=[])
    stalled = Q()
    for state, cutoff in cutoffs.items():
        # Dockings older than the funnel's services have no ``last_step_at``: their creation counts.
        stalled |= Q(state=state) & (Q(last_step_at__lte=cutoff) | Q(last_step_at__isnull=True, created_at__lte=cutoff))
    return stalled & Q(project__lead_unit__isnull=False, project__stage__in=ACTIVE_STAGES)


def stalled_dockings(now=None, cal=None):
    """The ids of the stalled dockings that have no open follow-up: one query."""
    now = now or timezone.now()
    cal = cal or WorkingCalendar.load()
    return (
        Docking.objects.filter(stalled_filter(now, cal))
        .exclude(Exists(open_follow_up()))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def sweep_stalled_dockings(*, now=None, enqueue=True):
    """Hand the stalled dockings to batches that start their follow-ups (after commit, by default
    in celery workers; ``enqueue=False`` runs the batches here). Safe to run again."""
    now = now or timezone.now()
    ids = list(stalled_dockings(now))
    batches = [ids[start : start + BATCH] for start in range(0, len(ids), BATCH)]
    for batch in batches:
        if enqueue:
            from .tasks import start_docking_follow_ups

            transaction.on_commit(lambda batch=batch: start_docking_follow_ups.delay(batch, STALLED))
        else:
            start_follow_ups(batch, STALLED, now=now)
    return {"stalled": len(ids), "batches": len(batches)}


def start_follow_ups(docking_ids, reason, *, now=None):
    """Start a follow-up for each docking of the batch that still needs one, in one transaction.

    Under the dockings' row locks a second delivery of the batch finds the follow-ups open and
    starts nothing twice; a stalled docking that moved since the sweep is left alone.
    """
    from .flows import DockingFollowUpFlow

    now = now or timezone.now()
    with services.ladder_cached(), transaction.atomic():
        locked = list(
            Docking.objects.select_for_update(of=("self",))
            .filter(pk__in=docking_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        todo = Docking.objects.filter(pk__in=locked, state__in=OPEN_STATES).exclude(Exists(open_follow_up()))
        if reason == STALLED:
            todo = todo.filter(stalled_filter(now, WorkingCalendar.load()))
        todo = list(todo.select_related("project", "institution").order_by("pk"))
        for docking in todo:
            DockingFollowUpFlow.start.run(docking=docking, reason=reason)
    return len(todo)


# Following the dockings (called from hooks.py)


def docking_changed(docking, action, transition, actor):
    """A docking's step ends its open follow-up; an intent signed at an event starts one."""
    if action != "transition":
        return
    cancel_follow_ups(docking)
    if transition == "sign_intent" and docking.event_id is not None:
        start_follow_ups([docking.pk], EVENT)


def cancel_follow_ups(docking):
    from .flows import DockingFollowUpFlow

    for process in DockingProcess.objects.filter(docking_id=docking.pk, finished__isnull=True):
        try:
            DockingFollowUpFlow.instance.cancel(process)
        except FlowRuntimeError:
            log.info("docking %s: follow-up %s is being done, left open", docking.pk, process.pk)
            continue
        TaskClock.objects.filter(task__process_id=process.pk, closed_at__isnull=True).update(
            closed_at=timezone.now(), next_step=None, next_fire_at=None
        )


# The follow-up task


def title_of(docking):
    with translation.override(settings.LANGUAGE_CODE):
        return _("Follow up the docking of %(case)s with %(institution)s") % {
            "case": f"{docking.project.code} {docking.project.name}",
            "institution": docking.institution.name,
        }


def start_clock(activation):
    process = activation.process
    docking = process.docking
    return services.clock_start(
        task=activation.task,
        kind=TaskKind.DOCKING_FOLLOW_UP,
        project=docking.project,
        unit_id=process.project.lead_unit_id,
        title=title_of(docking),
        working_days=FOLLOW_UP_DAYS,
    )


@transaction.atomic
def follow_up_done(*, task, user, report):
    """The lead unit says what it did: a "followed up" step of the docking, and the task is done."""
    services.checked(task, user)
    process = task.process.coerced
    docking = Docking.objects.select_related("project__lead_unit", "institution").get(pk=process.docking_id)
    financing_services.docking_follow_up(docking=docking, actor=user, note=report)
    services.finish_task(task, user)
    return docking
