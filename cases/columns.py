"""List columns of the viewflow pages: a translated header, amounts in 万元, state badges."""

from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.text import capfirst

from .formatting import in_wan


def column(label, orderby=None, numeric=False):
    """Mark a viewset method as a list column with a translated header."""

    def mark(method):
        method.short_description = capfirst(label)
        if orderby:
            method.orderby_column = orderby
        if numeric:
            method.column_type = "numeric"
        return method

    return mark


def wan_cell(amount):
    return number_format(in_wan(amount), decimal_pos=2, force_grouping=True) if amount is not None else ""


def state_badge(record, field="state"):
    value = getattr(record, field)
    return format_html(
        '<span class="kp-badge kp-badge--{}">{}</span>', value, getattr(record, f"get_{field}_display")()
    )
