"""Simplified Chinese formats: Django's, with figures grouped by thousands (1,250.50 万元, as the
commission's tables write them) and dates in forms written the way the browser's date pickers
read them (2026-11-13; Django's zh_Hans writes 2026/11/13, which an <input type=date> shows empty)."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403 - Django's, changed below
from django.conf.locale.zh_Hans.formats import DATE_INPUT_FORMATS as _DATES
from django.conf.locale.zh_Hans.formats import DATETIME_INPUT_FORMATS as _MOMENTS

THOUSAND_SEPARATOR = ","
DECIMAL_SEPARATOR = "."
NUMBER_GROUPING = 3
DATE_INPUT_FORMATS = ["%Y-%m-%d", *[f for f in _DATES if f != "%Y-%m-%d"]]
DATETIME_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", *[f for f in _MOMENTS if f not in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M")]]
