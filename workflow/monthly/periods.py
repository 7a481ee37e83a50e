"""Months as the monthly cycle counts them: a month is its first day; parameters, the month before
and after, the day a month is judged on."""

import calendar as month_calendar
import datetime

from django.utils import timezone


def first_of_month(day):
    return day.replace(day=1)


def month_param(raw):
    """A ``YYYY-MM`` parameter as the month's first day, or None when it is not one."""
    try:
        return datetime.date.fromisoformat(f"{raw}-01") if raw else None
    except ValueError:
        return None


def begun_month(raw, today=None):
    """A ``YYYY-MM`` parameter naming a month that has begun (from 2000 on) as its first day,
    or None: lights are computed for such months only."""
    month = month_param(raw)
    this_month = first_of_month(today or timezone.localdate())
    return month if month is not None and month.year >= 2000 and month <= this_month else None


def previous_month(month):
    return first_of_month(month - datetime.timedelta(days=1))


def next_month(month):
    return first_of_month(month + datetime.timedelta(days=32))


def months_back(month, count):
    months = [month]
    for _step in range(count):
        months.append(previous_month(months[-1]))
    return months[1:]


def last_day(month):
    return month.replace(day=month_calendar.monthrange(month.year, month.month)[1])


def as_of_for(month, today=None):
    """The day a month's light is judged on: the month's last day, or today for the running month."""
    today = today or timezone.localdate()
    return min(last_day(month), today)
