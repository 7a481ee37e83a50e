"""Template filters for the pages: amounts in ten-thousand yuan."""

from django import template
from django.utils.formats import number_format

from ..formatting import format_wan, in_wan

register = template.Library()


@register.filter
def wan(amount):
    """An amount in yuan as a number of ten-thousand yuan, grouped, two places."""
    if amount is None or amount == "":
        return "—"
    return number_format(in_wan(amount), decimal_pos=2, force_grouping=True)


@register.filter
def wan_with_unit(amount):
    return format_wan(amount) if amount not in (None, "") else "—"
