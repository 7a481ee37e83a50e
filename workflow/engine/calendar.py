"""Working days of the Chinese calendar: the one place deadlines are counted.

The ``chinese-calendar`` package knows the official holidays and make-up working days (调休)
for the years the State Council has published; the ``Holiday`` table, edited in the admin,
overrides and extends it (a city's own closures, next year's schedule before the package
knows it). A year neither knows counts Monday to Friday.

Time is counted in whole days of the site's time zone: a working day is the span from one
local midnight to the next. Deadlines fall at the end of a working day, which is the midnight
that begins the next day: such a deadline belongs to the day it ends (``deadline_day``), and
the day that begins at it is the first one it can be late by (``overdue_days``).
"""

import datetime
import functools
from dataclasses import dataclass, field

import chinese_calendar
from django.utils import formats, timezone
from django.utils.translation import gettext

from .models import Holiday

DAY = datetime.timedelta(days=1)
# The smallest step of time: a deadline at midnight minus this falls in the day it ends.
INSTANT = datetime.timedelta(microseconds=1)
# Before any deadline this system can hold: where counting working days back gives up.
EARLIEST = datetime.date(2000, 1, 1)
# How pages write a day, in every language (as their other dates: ``|date:"Y-m-d"``).
DAY_FORMAT = "Y-m-d"


@functools.lru_cache(maxsize=8192)
def _official(day):
    """True/False from the package, or None when it does not know the year (cached: the
    package checks every date against its whole table, and the ladder asks thousands)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


def official_years():
    return sorted({d.year for d in chinese_calendar.constants.holidays})


def _aware(moment):
    """As ``timezone.localtime``, refuse a naive moment rather than read it in the server's zone."""
    if moment.tzinfo is None:
        raise ValueError("the calendar cannot place a naive datetime")
    return moment


class _ZonedMethod:
    """A method of the calendar that reads the time zone: called on the class it reads the current
    zone each time; called on a calendar, the zone it read once when made (the ladder computes
    hundreds of thousands of moments in a burst, and reading the current zone is most of each)."""

    def __init__(self, func):
        self.func = func
        self.__doc__ = func.__doc__

    def __get__(self, calendar, owner):
        zone = calendar.zone if calendar is not None else None
        return functools.partial(self.func, zone=zone)


@dataclass
class WorkingCalendar:
    """The calendar with the overrides loaded once; all arithmetic is in memory."""

    overrides: dict = field(default_factory=dict)  # date -> is a working day
    override_years: set = field(default_factory=set)
    zone: object = field(default_factory=timezone.get_current_timezone, repr=False, compare=False)

    @classmethod
    def load(cls):
        rows = list(Holiday.objects.values_list("date", "is_working_day"))
        return cls(overrides=dict(rows), override_years={d.year for d, _working in rows})

    # Days

    def is_working_day(self, day):
        if day in self.overrides:
            return self.overrides[day]
        official = _official(day)
        if official is not None:
            return official
        return day.weekday() < 5

    def year_is_known(self, year):
        """Whether the year's holidays are known: published in the package, or entered here."""
        return year in official_years() or year in self.override_years

    def next_working_day(self, day):
        day += DAY
        while not self.is_working_day(day):
            day += DAY
        return day

    def add_working_days_to_date(self, day, count):
        """The ``count``-th working day after ``day`` (``day`` itself when count is 0 and it works)."""
        if count <= 0:
            return day if self.is_working_day(day) else self.next_working_day(day)
        for _ in range(count):
            day = self.next_working_day(day)
        return day

    def working_days_in(self, first, last):
        """Working days from ``first`` to ``last``, both included."""
        count, day = 0, first
        while day <= last:
            count += self.is_working_day(day)
            day += DAY
        return count

    # Moments

    @_ZonedMethod
    def local_date(moment, zone=None):
        return _aware(moment).astimezone(zone or timezone.get_current_timezone()).date()

    @_ZonedMethod
    def start_of(day, zone=None):
        # What ``timezone.make_aware`` does with a zoneinfo zone.
        return datetime.datetime.combine(day, datetime.time.min, tzinfo=zone or timezone.get_current_timezone())

    def end_of(self, day):
        return self.start_of(day + DAY)

    def add_working_days(self, moment, count):
        """The deadline ``count`` working days after ``moment``: the end of that working day."""
        return self.end_of(self.add_working_days_to_date(self.local_date(moment), count))

    @_ZonedMethod
    def deadline_day(moment, zone=None):
        """The day a deadline belongs to: one at midnight ends the day before it."""
        return (_aware(moment) - INSTANT).astimezone(zone or timezone.get_current_timezone()).date()

    def working_days_between(self, earlier, later):
        """Working days after ``earlier``'s day, up to the day ``later`` ends (``deadline_day``):
        the working days from a start to its deadline, as ``add_working_days`` gave them, or
        that a piece of work took.

        From Monday 10:00 to the end of the next Monday (Tuesday 00:00) there are 5: Tuesday to
        Friday and that Monday; from Friday 10:00 to the end of Monday, 1.
        """
        if later <= earlier:
            return 0
        first = self.local_date(earlier) + DAY
        last = self.deadline_day(later)
        if first > last:
            return 0
        return self.working_days_in(first, last)

    def overdue_days(self, due, now):
        """How many working days late a deadline is at ``now``: the working days that have begun
        since it, the one beginning at ``now`` included, as the ladder counts them.

        A task due at the end of Monday is 1 working day overdue from Tuesday 00:00; one due at
        the end of Friday is 0 over the weekend and 1 on Monday.
        """
        if now < due:
            return 0
        return self.working_days_in(self.deadline_day(due) + DAY, self.local_date(now))

    def overdue_cutoff(self, now, days):
        """The latest moment a deadline (or a last step) may fall at to be at least ``days``
        working days behind at ``now``: ``overdue_days(due, now) >= days`` exactly when
        ``due <= cutoff``.

        That is the start of the ``days``-th working day counted back from ``now``'s day (that
        day included): the working days that began since a moment are those whose start is at
        or after it. As a moment only falls further behind when it is earlier, the overdue
        board and the stalled dockings filter with this in the database. With ``days`` 0 or
        less, any moment before ``now`` qualifies; with more working days than there are since
        ``EARLIEST``, only a moment before ``EARLIEST`` does.
        """
        if days <= 0:
            return now - INSTANT
        day, counted = self.local_date(now), 0
        while day > EARLIEST:
            if self.is_working_day(day):
                counted += 1
                if counted == days:
                    return self.start_of(day)
            day -= DAY
        return self.start_of(EARLIEST) - INSTANT

    def start_of_working_day_after(self, day, count):
        """The midnight that begins the ``count``-th working day after ``day``."""
        for _ in range(max(count, 1)):
            day = self.next_working_day(day)
        return self.start_of(day)

    def working_seconds_between(self, earlier, later):
        """Time between two moments that fell on working days, in seconds."""
        if later <= earlier:
            return 0.0
        seconds, moment = 0.0, earlier
        while moment < later:
            day = self.local_date(moment)
            day_end = min(self.end_of(day), later)
            if self.is_working_day(day):
                seconds += (day_end - moment).total_seconds()
            moment = day_end
        return seconds

    def add_working_seconds(self, moment, seconds):
        """``moment`` moved later by ``seconds`` of working time, skipping the days off."""
        remaining = float(seconds)
        while remaining > 0:
            day = self.local_date(moment)
            if not self.is_working_day(day):
                moment = self.start_of(self.next_working_day(day))
                continue
            room = (self.end_of(day) - moment).total_seconds()
            if remaining <= room:
                return moment + datetime.timedelta(seconds=remaining)
            remaining -= room
            moment = self.start_of(self.next_working_day(day))
        return moment


def calendar():
    """The working calendar with the current holiday table."""
    return WorkingCalendar.load()


def add_working_days(moment, count):
    return calendar().add_working_days(moment, count)


def working_days_between(earlier, later):
    return calendar().working_days_between(earlier, later)


def deadline_text(moment):
    """A deadline as people read it, the day it ends: ``2026-10-13`` for Wednesday 14 October
    00:00; a dash when there is none."""
    return WorkingCalendar.deadline_day(moment).isoformat() if moment else "—"


def deadline_day_text(moment):
    """The day a deadline ends as a page writes it (Django's date formatting in the active
    language, as the pages' other days); a dash when there is none."""
    return formats.date_format(WorkingCalendar.deadline_day(moment), DAY_FORMAT) if moment else "—"


def deadline_label(moment):
    """A deadline as a page states it, the day it ends said so: ``2026-10-13 (end of day)`` for
    Wednesday 14 October 00:00, not the midnight it is stored as; a dash when there is none."""
    if not moment:
        return "—"
    return gettext("%(day)s (end of day)") % {"day": deadline_day_text(moment)}


def next_year_unknown(today=None):
    """The coming year, when nobody knows its holidays yet (to warn the secretariat); else None."""
    today = today or timezone.localdate()
    year = today.year + 1
    return None if calendar().year_is_known(year) else year
