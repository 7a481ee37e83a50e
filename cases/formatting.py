"""How amounts are shown to people: yuan are stored, ten-thousand yuan (万元) are displayed."""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format
from django.utils.translation import get_language, gettext

TEN_THOUSAND = Decimal(10000)


def in_wan(amount):
    """An amount in yuan as ten-thousand yuan, two places."""
    if amount is None:
        return None
    return (Decimal(amount) / TEN_THOUSAND).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def format_wan(amount):
    """An amount in yuan, written for a reader in ten-thousand yuan with its unit."""
    if amount is None:
        return ""
    return gettext("%(amount)s ten-thousand yuan") % {
        "amount": number_format(in_wan(amount), decimal_pos=2, force_grouping=True)
    }


def enumeration(items):
    """Items named in a sentence: ``甲、乙、丙`` in Chinese, ``a, b, c`` in English (the active language)."""
    chinese = (get_language() or "").lower().startswith("zh")
    return ("、" if chinese else ", ").join(str(item) for item in items)
