"""Running the monthly cycle: each step once per month, whoever triggers it (the daily beat tick,
the cycle page, the command), late ones caught up in order, a failure kept with its error and tried
again the next day."""

import datetime
import logging

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from workflow.engine.calendar import WorkingCalendar

from . import bulletin, meetings, services
from .lights import lights_compute
from .models import CycleRun, Meeting, MonthlyReport
from .periods import first_of_month
from .timeline import ORDER, Kind, period_of, step_date, step_days

log = logging.getLogger(__name__)
LEASE = datetime.timedelta(minutes=30)  # a run not finished after this is taken over by the next tick


def _reports_open(period):
    return services.reports_open(month=period)


def _reports_due(period):
    open_states = [MonthlyReport.State.OPEN, MonthlyReport.State.RETURNED]
    return MonthlyReport.objects.filter(month=period).aggregate(
        reports=Count("pk"), not_submitted=Count("pk", filter=Q(state__in=open_states))
    )


def _lights(period):
    return {"cases": len(lights_compute(month=period))}


def _agenda(period):
    meeting = meetings.meeting_draft(month=period)
    return {"meeting": meeting.pk, "items": meeting.items.count()}


def _meeting(period):
    meeting = Meeting.objects.filter(month=period).first()
    return {"meeting": meeting.pk if meeting else None, "state": meeting.state if meeting else None}


def _bulletin(period):
    result = bulletin.bulletin_compute(month=period)
    return {"bulletin": result.pk, "units": result.scores.count()}


HANDLERS = {
    Kind.REPORTS_OPEN: _reports_open,
    Kind.REPORTS_DUE: _reports_due,
    Kind.LIGHTS: _lights,
    Kind.AGENDA: _agenda,
    Kind.MEETING: _meeting,
    Kind.BULLETIN: _bulletin,
}


def _claim(kind, month, now, force):
    """This run's row, or None when the step has run (or runs elsewhere) this month. A run
    left unfinished past its lease (a crashed worker) is taken over; ``force`` reruns a finished one."""
    try:
        with transaction.atomic():
            run = CycleRun.objects.create(month=month, kind=kind, started_at=now)
            return run
    except IntegrityError:
        pass
    runs = CycleRun.objects.filter(month=month, kind=kind)
    if force:
        claimed = runs.exclude(finished_at__isnull=True, started_at__gt=now - LEASE)
    else:
        claimed = runs.filter(finished_at__isnull=True, started_at__lte=now - LEASE)
    if claimed.update(started_at=now, finished_at=None, error="") != 1:
        return None
    return runs.get()


def run_step(kind, month, *, now=None, force=False):
    """Run the step ``kind`` of the cycle of calendar month ``month`` once; returns its run, or
    None when it had run already. A failure is kept on the run, which the next tick retries."""
    now = now or timezone.now()
    run = _claim(kind, month, now, force)
    if run is None:
        return None
    try:
        result = HANDLERS[kind](period_of(month))
    except Exception as error:
        log.exception("The cycle step %s of %s failed", kind, month)
        CycleRun.objects.filter(pk=run.pk).update(error=str(error)[:2000], started_at=now - LEASE)
        run.refresh_from_db()
        return run
    run.finished_at = timezone.now()
    run.result = result or {}
    run.error = ""
    run.save(update_fields=["finished_at", "result", "error"])
    return run


def due_steps(month, today):
    """The active steps of the cycle of ``month`` whose day has come by ``today`` and that have
    not run, in the timeline's order."""
    cal = WorkingCalendar.load()
    days = step_days()
    done = set(CycleRun.objects.filter(month=month, finished_at__isnull=False).values_list("kind", flat=True))
    return [
        kind
        for kind in sorted(days, key=lambda k: (days[k], ORDER.index(k)))
        if kind not in done and step_date(month, kind, cal, days) <= today
    ]


def cycle_tick(today=None):
    """Beat, daily: run every step of this month's cycle whose day has come and that has not
    run yet, in the timeline's order. Returns the steps it ran."""
    today = today or timezone.localdate()
    month = first_of_month(today)
    return [kind for kind in due_steps(month, today) if run_step(kind, month) is not None]
