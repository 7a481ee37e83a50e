"""Deadlines in templates: ``{{ order.respond_by|deadline }}`` is the day the deadline ends.

A deadline falls at the end of a working day, stored as the midnight that begins the next one;
Django's ``date`` filter would print that next day.
"""

from django import template

from ..calendar import WorkingCalendar

register = template.Library()


@register.filter
def deadline(moment):
    """The day ``moment``, a deadline, ends (``WorkingCalendar.deadline_day``); None stays None."""
    return WorkingCalendar.deadline_day(moment) if moment else None
