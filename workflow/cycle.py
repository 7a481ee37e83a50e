"""The monthly cycle as data: each step runs on a working day of the month (``CycleStep``,
editable in the admin), once per month, started by a daily beat task whose time of day is a
django-celery-beat periodic task (editable in the admin too); and the state of a month's
cycle for its page: which step is done, which is next, which is late.

A cycle runs in one calendar month and reports on the month before it, the period: the
November cycle creates the reports on October, lights October, drafts October's meeting and
scores October in the bulletin.
"""

import datetime
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from .calendar import WorkingCalendar
from .lights import first_of_month, previous_month
from .models import CycleRun, CycleStep, MonthlyReport

log = logging.getLogger(__name__)

Kind = CycleStep.Kind
DEFAULT_DAYS = {
    Kind.REPORTS_OPEN: 1,
    Kind.REPORTS_DUE: 5,
    Kind.LIGHTS: 6,
    Kind.AGENDA: 8,
    Kind.MEETING: 10,
    Kind.BULLETIN: 12,
}
ORDER = list(DEFAULT_DAYS)
LEASE = datetime.timedelta(minutes=30)  # a run not finished after this is taken over by the next tick


def nth_working_day(month, number, cal):
    """The ``number``-th working day of the calendar month starting on ``month``."""
    first = month if cal.is_working_day(month) else cal.next_working_day(month)
    return cal.add_working_days_to_date(first, number - 1)


def step_days():
    """{step: working day} of the active steps, from the admin's table."""
    return dict(CycleStep.objects.filter(is_active=True).values_list("kind", "working_day"))


def step_date(month, kind, cal, days=None):
    """The day ``kind`` runs in the cycle of calendar month ``month``."""
    days = step_days() if days is None else days
    return nth_working_day(month, days.get(kind, DEFAULT_DAYS[kind]), cal)


def period_of(month):
    return previous_month(month)


# Running


def _reports_open(period):
    from . import reports

    return reports.reports_open(month=period)


def _reports_due(period):
    open_states = [MonthlyReport.State.OPEN, MonthlyReport.State.RETURNED]
    return MonthlyReport.objects.filter(month=period).aggregate(
        reports=Count("pk"), not_submitted=Count("pk", filter=Q(state__in=open_states))
    )


def _lights(period):
    from .lights import lights_compute

    return {"cases": len(lights_compute(month=period))}


def _agenda(period):
    from . import meetings

    meeting = meetings.meeting_draft(month=period)
    return {"meeting": meeting.pk, "items": meeting.items.count()}


def _meeting(period):
    from .models import Meeting

    meeting = Meeting.objects.filter(month=period).first()
    return {"meeting": meeting.pk if meeting else None, "state": meeting.state if meeting else None}


def _bulletin(period):
    from . import bulletin

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


# Reading


@dataclass
class StepState:
    kind: str
    label: str
    working_day: int
    date: datetime.date
    run: CycleRun | None
    status: str  # done, failed, running, late, next, upcoming, inactive

    @property
    def result(self):
        return self.run.result if self.run else {}


def timeline(month, today=None):
    """The steps of the cycle of calendar month ``month``, with their day and state."""
    today = today or timezone.localdate()
    cal = WorkingCalendar.load()
    steps = {step.kind: step for step in CycleStep.objects.all()}
    runs = {run.kind: run for run in CycleRun.objects.filter(month=month)}
    states = []
    for kind in ORDER:
        step = steps.get(kind)
        day = step.working_day if step else DEFAULT_DAYS[kind]
        date = nth_working_day(month, day, cal)
        run = runs.get(kind)
        if step is not None and not step.is_active:
            status = "inactive"
        elif run and run.finished_at:
            status = "done"
        elif run and run.error:
            status = "failed"
        elif run:
            status = "running"
        elif date < today:
            status = "late"
        else:
            status = "upcoming"
        states.append(StepState(kind, Kind(kind).label, day, date, run, status))
    states.sort(key=lambda s: (s.working_day, ORDER.index(s.kind)))
    upcoming = [s for s in states if s.status == "upcoming"]
    if upcoming:
        upcoming[0].status = "next"
    return states
