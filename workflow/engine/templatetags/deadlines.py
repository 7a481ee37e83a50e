"""Deadlines in templates: ``{{ order.respond_by|deadline }}`` is the day the deadline ends, and
``{{ clock.due_at|deadline_end }}`` states it (``2026-10-13 (end of day)``).

A deadline falls at the end of a working day, stored as the midnight that begins the next one;
Django's ``date`` filter would print that next day. Both filters read the day from the one
calendar (``WorkingCalendar.deadline_day``).
"""

from django import template

from ..calendar import WorkingCalendar, deadline_label

register = template.Library()


@register.filter
def deadline(moment):
    """The day ``moment``, a deadline, ends (``WorkingCalendar.deadline_day``); None stays None."""
    return WorkingCalendar.deadline_day(moment) if moment else None


@register.filter
def deadline_end(moment):
    """A deadline as a page states it, the day it ends said so (``calendar.deadline_label``)."""
    return deadline_label(moment)
