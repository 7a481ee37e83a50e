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
# alternative, which Word falls back to when the font is not installed. The body is in 仿宋_GB2312,
# the font GB/T 9704 templates name, where it is installed, and in 仿宋 (Windows' FangSong) elsewhere.
FANGSONG = ("FangSong", "仿宋_GB2312")
HEITI = ("SimHei", "黑体")
KAITI = ("KaiTi", "楷体")
SONGTI = ("SimSun", "宋体")
XIAOBIAOSONG = ("FZXiaoBiaoSong-B05S", "方正小标宋简体")
FONT_TABLE = [
    ("仿宋_GB2312", "仿宋"), ("仿宋", "FangSong"), ("FangSong", "仿宋"),
    ("黑体", "SimHei"), ("SimHei", "黑体"),
    ("楷体", "KaiTi"), ("KaiTi", "楷体"),
    ("宋体", "SimSun"), ("SimSun", "宋体"),
    ("方正小标宋简体", "宋体"), ("FZXiaoBiaoSong-B05S", "SimSun"),
]


RED = RGBColor(0xFF, 0x00, 0x00)
BLACK = RGBColor(0, 0, 0)
TEXT_WIDTH_MM = 156  # A4 less GB/T 9704's margins: 28 mm left, 26 mm right
DASH = "—"
RANK_ORDER = {rank: index for index, rank in enumerate(Rank.values)}
GROUP_ORDER = {group: index for index, group in enumerate(UnitGroup.values)}
MEASURE_ORDER = {measure: index for index, measure in enumerate(ScoreMeasure.values)}
UNSAFE_IN_FILENAMES = re.compile(r'[\\/:*?"<>|\s]+')

NBSP = "\u00a0"
IDEOGRAPHS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# The units a figure is written with in the documents and the catalog.
UNITS = "分元万亿千百个项家户人位次天日月年号条件亩米吨倍期批轮"
# A number standing alone (not the tail of a code like 2026-GX-0001), the plain spaces after it
# and the unit they come before: "100 分".
NUMBER_SPACES = re.compile(rf"(?<![0-9A-Za-z.,\-/_])([0-9]+(?:[.,][0-9]+)*[%‰]?) +(?=[{UNITS}])")
# Where a line of Chinese may break: after each ideograph, mark or space, but not inside a run of
# Latin letters and figures (a number, a code), nor between a number and the ideograph after it.
LATIN = r"[^\s\u2e80-\uffff]"
CLUSTER = re.compile(rf"{LATIN}*[0-9%‰]{NBSP}?[{IDEOGRAPHS}]|{LATIN}+|.", re.S)
# Marks a line does not start with, and marks it does not end with (kinsoku).
CANNOT_START = frozenset("，。、；：？！）》」』】〕〉”’…,.;:?!)]}%‰·")
CANNOT_END = frozenset("（《「『【〔〈“‘([{")
SHORT = 4  # characters a table cell keeps on one line


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
    """The issuing office printed at the head and the foot: the ``KP_ISSUING_OFFICE`` setting, with
    the city's name; the commission without one when the setting is empty."""
    return getattr(settings, "KP_ISSUING_OFFICE", "") or _("Municipal Development and Reform Commission")


def text_ems(text):
    """The text's width in ems, roughly: an ideograph is one, anything else a little over half."""
    return sum(1 if ord(char) >= 0x2E80 else 0.55 for char in str(text))


def issuer_size(issuer, largest):
    """The issuing office's size in points: as large as GB/T 9704's layout wants, on one line."""
    ems = text_ems(issuer) or 1
    return max(16, min(largest, int(TEXT_WIDTH_MM * 72 / 25.4 / ems)))


def tie_numbers(text):
    """The text with each number tied to the unit after it by a non-breaking space, so that no line
    breaks between 100 and 分 (the catalog writes "0 至 100 分")."""
    return NUMBER_SPACES.sub(lambda found: found.group(1) + NBSP, str(text))


def clusters(text):
    """The text cut where a line may break (``CLUSTER``): ``"以 0 至 100\\u00a0分"`` is
    ``以, " ", 0, " ", 至, " ", 100\\u00a0分``."""
    return CLUSTER.findall(str(text))


def fit_widths(grid, total, measure):
    """The grid's column widths summing to ``total``, in proportion to ``grid.widths``, but none
    narrower than the widest cluster of its text as ``measure`` gives it (padding included), so
    that no number or code is broken in a cell, nor a text of up to ``SHORT`` characters (排名,
    免于考核); the other columns give up the room in proportion."""
    count = len(grid.widths)
    columns = [[grid.header[index], *(row[index] for row in grid.rows)] for index in range(count)]
    lines = [[tie_numbers(line) for text in texts for line in str(text).split("\n")] for texts in columns]
    needed = [
        max((measure(piece) for line in column for piece in (clusters(line) if len(line) > SHORT else [line])),
            default=0)
        for column in lines
    ]
    if sum(needed) >= total:
        return [total * need / sum(needed) for need in needed]
    fixed = {}
    while True:
        free = [index for index in range(count) if index not in fixed]
        room = total - sum(fixed.values())
        weight = sum(grid.widths[index] for index in free) or 1
        widths = {index: room * grid.widths[index] / weight for index in free}
        narrow = [index for index in free if widths[index] < needed[index]]
        if not narrow:
            return [fixed[index] if index in fixed else widths[index] for index in range(count)]
        fixed.update({index: needed[index] for index in narrow})


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
