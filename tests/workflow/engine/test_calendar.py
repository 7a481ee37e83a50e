"""Working days: the official calendar with its make-up days, overridden by the holiday table."""

import datetime

import pytest
from django.utils import timezone

from workflow.engine import calendar
from workflow.engine.calendar import WorkingCalendar
from workflow.engine.models import Holiday

D = datetime.date


def at(day, hour=10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def cal(db):
    return WorkingCalendar.load()


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 10, 1), False),  # National Day
        (D(2026, 10, 10), True),  # a Saturday worked in lieu (调休)
        (D(2026, 9, 27), False),  # a Sunday inside the Mid-autumn holiday
        (D(2026, 9, 20), True),  # a Sunday worked in lieu
        (D(2026, 11, 23), True),  # a plain Monday
        (D(2026, 11, 22), False),  # a plain Sunday
    ],
)
def test_the_official_calendar_knows_holidays_and_make_up_days(cal, day, working):
    assert cal.is_working_day(day) is working


def test_a_deadline_across_national_day_lands_on_the_make_up_saturday(cal):
    # Three working days from Wednesday 30 September: 8, 9 and the make-up Saturday 10 October.
    due = cal.add_working_days(at(D(2026, 9, 30)), 3)
    assert timezone.localtime(due) == at(D(2026, 10, 11), 0)  # the end of 10 October


def test_overdue_days_count_only_working_days(cal):
    due = cal.add_working_days(at(D(2026, 9, 30)), 3)  # end of Saturday 10 October
    assert cal.overdue_days(due, at(D(2026, 10, 10), 20)) == 0
    assert cal.overdue_days(due, at(D(2026, 10, 11))) == 0  # Sunday
    assert cal.overdue_days(due, at(D(2026, 10, 12))) == 1  # Monday
    assert cal.overdue_days(due, at(D(2026, 10, 16))) == 5


def test_a_deadline_followed_by_a_working_day_is_one_day_overdue_the_next_day(cal):
    # Given a task due at the end of Monday 23 November (the midnight that begins Tuesday)
    due = cal.add_working_days(at(D(2026, 11, 20)), 1)
    assert cal.deadline_day(due) == D(2026, 11, 23)
    # then it is late by Tuesday from the moment Tuesday begins, as the ladder's first rung says
    assert cal.overdue_days(due, at(D(2026, 11, 23), 20)) == 0
    assert cal.overdue_days(due, at(D(2026, 11, 24), 0)) == 1
    assert cal.overdue_days(due, at(D(2026, 11, 24), 10)) == 1
    assert cal.overdue_days(due, at(D(2026, 11, 26), 10)) == 3


def _deadlines_across_national_day():
    day = D(2026, 9, 18)
    while day <= D(2026, 10, 20):
        yield day
        day += datetime.timedelta(days=1)


def test_the_days_overdue_reach_n_when_the_nth_working_day_after_the_deadline_begins(cal):
    # The ladder fires its rung "N working days overdue" at that moment: the board must say N then.
    for day in _deadlines_across_national_day():
        due = cal.end_of(day)
        for n in range(1, 11):
            rung = cal.start_of_working_day_after(cal.deadline_day(due), n)
            assert cal.overdue_days(due, rung) == n, (day, n)
            assert cal.overdue_days(due, rung - calendar.INSTANT) == n - 1, (day, n)


def test_the_working_days_from_a_start_to_its_deadline_are_those_it_was_given(cal):
    for day in _deadlines_across_national_day():
        for hour in (0, 10, 23):
            start = at(day, hour)
            for n in range(1, 11):
                assert cal.working_days_between(start, cal.add_working_days(start, n)) == n, (start, n)


def test_the_holiday_table_overrides_the_official_calendar(db):
    Holiday.objects.create(date=D(2026, 11, 23), is_working_day=False, name="城市纪念日")
    Holiday.objects.create(date=D(2026, 11, 22), is_working_day=True, name="调休")
    cal = WorkingCalendar.load()
    assert not cal.is_working_day(D(2026, 11, 23))
    assert cal.is_working_day(D(2026, 11, 22))


def test_a_year_nobody_published_counts_monday_to_friday(cal):
    assert cal.is_working_day(D(2031, 10, 1))  # a Wednesday: the package knows 2031 not
    assert not cal.is_working_day(D(2031, 10, 4))  # a Saturday


def test_the_secretariat_is_warned_while_next_years_schedule_is_unknown(db):
    assert calendar.next_year_unknown(D(2026, 11, 22)) == 2027
    Holiday.objects.create(date=D(2027, 1, 1), name="元旦")
    assert calendar.next_year_unknown(D(2026, 11, 22)) is None
    assert calendar.next_year_unknown(D(2025, 11, 22)) is None  # 2026 is in the package


def test_paused_working_time_moves_a_deadline_over_the_days_off(cal):
    # Paused from Friday 18:00 to Tuesday 18:00 before National Day week: Fri 6 h, Mon 24 h, Tue 18 h.
    start, end = at(D(2026, 9, 18), 18), at(D(2026, 9, 22), 18)
    paused = cal.working_seconds_between(start, end)
    # 18 Sep (Fri) 6 h, 19-20 Sep: Sat off but Sun 20 Sep is a make-up day (24 h), 21 Sep 24 h, 22 Sep 18 h
    assert paused == pytest.approx((6 + 24 + 24 + 18) * 3600)
    due = at(D(2026, 9, 24), 0) + datetime.timedelta(days=1)  # end of Thursday 24 September
    moved = cal.add_working_seconds(due, paused)
    # 72 working hours after the end of 24 September: 25-27 Sep and 1-7 Oct are off; 28, 29, 30 Sep
    assert timezone.localtime(moved) == at(D(2026, 10, 1), 0)


def test_module_functions_use_the_current_table(db):
    assert calendar.working_days_between(at(D(2026, 11, 20)), at(D(2026, 11, 23))) == 1
    assert timezone.localtime(calendar.add_working_days(at(D(2026, 11, 20)), 1)) == at(D(2026, 11, 24), 0)


def _moments(first, last, step):
    moment = first
    while moment <= last:
        yield moment
        moment += step


def test_the_overdue_cutoff_agrees_with_the_days_counted_across_national_day(cal):
    # Given deadlines every three hours (midnights, the ends of days, included) from the
    # Mid-autumn holiday to after the make-up Saturday 10 October, and readers on every kind of day
    dues = list(_moments(at(D(2026, 9, 20), 0), at(D(2026, 10, 20), 0), datetime.timedelta(hours=3)))
    dues += [due + datetime.timedelta(microseconds=1) for due in dues] + [due - datetime.timedelta(microseconds=1) for due in dues]
    nows = [
        at(D(2026, 10, 4), 15),  # a Sunday inside the National Day holiday
        at(D(2026, 10, 8), 0),  # the first working midnight after it
        at(D(2026, 10, 10), 9),  # the make-up Saturday
        at(D(2026, 10, 11), 23),  # the Sunday after it
        at(D(2026, 10, 12), 10),  # the Monday after it
        at(D(2026, 10, 20), 0),
    ]
    for now in nows:
        for days in range(0, 9):
            cutoff = cal.overdue_cutoff(now, days)
            for due in dues:
                counted = cal.overdue_days(due, now)
                # when: the board's filter (due at the cutoff or before) and the count of each row
                # then: they say the same of every deadline
                assert (due < now and due <= cutoff) == (due < now and counted >= days), (now, days, due)


def test_the_overdue_cutoff_is_the_start_of_the_nth_working_day_back(cal):
    # Monday 12 October: 1 working day back is its own start; 2 is the make-up Saturday; 3 is
    # Friday 9 October; 5 skips the whole National Day week to Wednesday 30 September.
    now = at(D(2026, 10, 12), 10)
    assert cal.overdue_cutoff(now, 1) == at(D(2026, 10, 12), 0)
    assert cal.overdue_cutoff(now, 2) == at(D(2026, 10, 10), 0)
    assert cal.overdue_cutoff(now, 3) == at(D(2026, 10, 9), 0)
    assert cal.overdue_cutoff(now, 5) == at(D(2026, 9, 30), 0)


def test_more_working_days_back_than_any_deadline_is_before_every_deadline(cal):
    cutoff = cal.overdue_cutoff(at(D(2026, 10, 12)), 10**6)
    assert cutoff < at(calendar.EARLIEST, 0)
