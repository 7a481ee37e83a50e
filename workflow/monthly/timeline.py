"""The monthly cycle's timeline as data: each step runs on a working day of the month
(``CycleStep``, editable in the admin), and the state of a month's cycle for its page: which step is
done, which is next, which is late.

A cycle runs in one calendar month and reports on the month before it, the period: the November
cycle creates the reports on October, lights October, drafts October's meeting and scores October in
the bulletin."""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from workflow.engine.calendar import WorkingCalendar

from .models import CycleRun, CycleStep
from .periods import previous_month

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
