"""The official document as data, before any format: its issuing office, number, title, sections,
paragraphs and tables; Chinese numerals, dates and the document's fonts and colours."""

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from docx.shared import RGBColor

from cases.models import Rank, UnitGroup

from ..models import (
    ScoreMeasure,
)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
CONTENT_TYPES = {"docx": DOCX, "xlsx": XLSX, "pdf": PDF}
FORMATS = {
    "agenda": ("docx", "pdf"),
    "minutes": ("docx", "pdf"),
    "bulletin": ("docx", "xlsx", "pdf"),
    "report_status": ("xlsx",),
}


# Fonts as (Latin name, Chinese name): runs name both, and the font table gives each its
# alternative, which Word falls back to when the font is not installed.
FANGSONG = ("FangSong", "仿宋")
HEITI = ("SimHei", "黑体")
KAITI = ("KaiTi", "楷体")
SONGTI = ("SimSun", "宋体")
XIAOBIAOSONG = ("FZXiaoBiaoSong-B05S", "方正小标宋简体")
FONT_TABLE = [
    ("仿宋", "FangSong"), ("FangSong", "仿宋"),
    ("黑体", "SimHei"), ("SimHei", "黑体"),
    ("楷体", "KaiTi"), ("KaiTi", "楷体"),
    ("宋体", "SimSun"), ("SimSun", "宋体"),
    ("方正小标宋简体", "宋体"), ("FZXiaoBiaoSong-B05S", "SimSun"),
]


RED = RGBColor(0xFF, 0x00, 0x00)
BLACK = RGBColor(0, 0, 0)
TEXT_WIDTH_MM = 156  # A4 less GB/T 9704's margins: 28 mm left, 26 mm right
DASH = "—"
PDF_FONT = "STSong-Light"
RANK_ORDER = {rank: index for index, rank in enumerate(Rank.values)}
GROUP_ORDER = {group: index for index, group in enumerate(UnitGroup.values)}
MEASURE_ORDER = {measure: index for index, measure in enumerate(ScoreMeasure.values)}
UNSAFE_IN_FILENAMES = re.compile(r'[\\/:*?"<>|\s]+')


@dataclass
class Para:
    """A paragraph: body text, a sub-heading, or a labelled line (``label`` in the heading font)."""

    text: str
    kind: str = "body"  # body | subheading | line
    label: str = ""


@dataclass
class Grid:
    """A table: a header row, rows of text, relative column widths, columns of figures."""

    header: list
    rows: list
    widths: list
    figures: frozenset = frozenset()


@dataclass
class Section:
    heading: str
    blocks: list = field(default_factory=list)


@dataclass
class OfficialDocument:
    issuer: str
    number: str
    title: str
    date: str
    mark: str = ""  # top left, as GB/T 9704 puts the security level: "Draft" until published
    preamble: list = field(default_factory=list)
    sections: list = field(default_factory=list)
    chinese: bool = True


@dataclass(frozen=True)
class Built:
    content: bytes
    content_type: str
    filename: str


def document_issuer():
    """The issuing office printed at the top: the ``DOCUMENT_ISSUER`` setting, or the commission."""
    return getattr(settings, "DOCUMENT_ISSUER", "") or _("Municipal Development and Reform Commission")


def issuer_size(issuer, largest):
    """The issuing office's size in points: as large as GB/T 9704's layout wants, on one line."""
    ems = sum(1 if ord(char) >= 0x2E80 else 0.55 for char in issuer) or 1
    return max(16, min(largest, int(TEXT_WIDTH_MM * 72 / 25.4 / ems)))


def _chinese():
    return (translation.get_language() or "").lower().startswith("zh")


CHINESE_DIGITS = "零一二三四五六七八九"


def chinese_numeral(number):
    """1 to 99 in Chinese numerals, as official documents number their sections."""
    if not 0 < number < 100:
        return str(number)
    tens, ones = divmod(number, 10)
    if not tens:
        return CHINESE_DIGITS[ones]
    return ("" if tens == 1 else CHINESE_DIGITS[tens]) + "十" + (CHINESE_DIGITS[ones] if ones else "")


def section_heading(number, text):
    """一、 in Chinese, 1. in English."""
    return f"{chinese_numeral(number)}、{text}" if _chinese() else f"{number}. {text}"


def item_heading(number, text):
    """（一） in Chinese, (1) in English."""
    return f"（{chinese_numeral(number)}）{text}" if _chinese() else f"({number}) {text}"


def _date(value):
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localdate(value)
    # A document writes the month out in full: "November 11, 2026", not "Nov. 11, 2026".
    return formats.date_format(value, "DATE_FORMAT" if _chinese() else "F j, Y")


def _datetime(value):
    if value is None:
        return ""
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT" if _chinese() else "F j, Y, H:i")


def _month(month):
    return formats.date_format(month, "YEAR_MONTH_FORMAT")


def _list(names):
    return ("、" if _chinese() else ", ").join(str(name) for name in names)


def _figure(value):
    return DASH if value is None else f"{Decimal(str(value)):.2f}"
