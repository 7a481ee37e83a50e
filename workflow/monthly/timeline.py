"""The monthly cycle's timeline as data: each step runs on a working day of the month
(``CycleStep``, editable in the admin), and the state of a month's cycle for its page: which step is
done, which is next, which is late.

A cycle runs in one calendar month and reports on the month before it, the period: the November
cycle creates the reports on October, lights October, drafts October's meeting and scores October in
the bulletin."""

import datetime
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, ngettext_lazy

from workflow.engine.calendar import WorkingCalendar

from .models import CycleRun, CycleStep, Meeting
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

    @property
    def result_sentences(self):
        return result_sentences(self.kind, self.result)


def _reports_open(result):
    created, pending = result.get("created"), result.get("pending")
    sentences = []
    if created is not None:
        sentences.append(
            ngettext("%(count)s report created.", "%(count)s reports created.", created) % {"count": created}
            if created
            else _("No report was missing.")
        )
    if pending:
        sentences.append(
            ngettext(
                "%(count)s report task handed to the workers to start.",
                "%(count)s report tasks handed to the workers to start.",
                pending,
            )
            % {"count": pending}
        )
    return sentences


def _reports_due(result):
    count, missing = result.get("reports"), result.get("not_submitted")
    if count is None or missing is None:
        return []
    if not count:
        return [_("No report was due.")]
    return [
        ngettext(
            "%(missing)s of %(count)s report not submitted by the due day.",
            "%(missing)s of %(count)s reports not submitted by the due day.",
            count,
        )
        % {"missing": missing, "count": count}
    ]


def _counted(key, sentence):
    """A sentence (a lazy plural keyed on ``count``) about the run's number ``key``."""

    def sentences(result):
        count = result.get(key)
        return [] if count is None else [str(sentence % {"count": count})]

    return sentences


def _meeting(result):
    state = result.get("state")
    if result.get("meeting") is None or state not in Meeting.State.values:
        return [_("No meeting for this month yet.")]
    return [_("The meeting: %(state)s.") % {"state": Meeting.State(state).label}]


RESULT_SENTENCES = {
    Kind.REPORTS_OPEN: _reports_open,
    Kind.REPORTS_DUE: _reports_due,
    Kind.LIGHTS: _counted(
        "cases", ngettext_lazy("Lights computed for %(count)s case.", "Lights computed for %(count)s cases.", "count")
    ),
    Kind.AGENDA: _counted(
        "items", ngettext_lazy("Agenda drafted with %(count)s item.", "Agenda drafted with %(count)s items.", "count")
    ),
    Kind.MEETING: _meeting,
    Kind.BULLETIN: _counted("units", ngettext_lazy("%(count)s unit scored.", "%(count)s units scored.", "count")),
}


def result_sentences(kind, result):
    """What a step's run did, as sentences in the reader's language (the stored result is the
    machine's: ``{"created": 59, "pending": 59, "batches": 1}``)."""
    describe = RESULT_SENTENCES.get(kind)
    return describe(result or {}) if describe else []


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
