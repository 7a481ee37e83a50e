"""The monthly cycle's documents: the agenda, the minutes and the bulletin in Word (in the layout
of an official document, GB/T 9704 in spirit) and PDF, the bulletin and the report status table
in Excel.

Each document is first written as content (``OfficialDocument``: issuing office, number,
title, date, numbered sections of paragraphs and tables) in the active language, then rendered
to Word or PDF by one renderer each, so that both say the same. Building a document runs a
fixed number of queries, however many items, decisions or scores it holds. ``build`` is what
pages, the API and ``manage.py monthly_documents`` call; ``meeting_for``, ``bulletin_for`` and
``report_scope`` say what a reader may download.
"""

import datetime
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal

import docx
from django.conf import settings
from django.db.models import Prefetch, Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from lxml import etree
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import HRFlowable, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus import Paragraph as PdfParagraph

from cases import permissions as case_permissions
from cases.formatting import in_wan
from cases.models import KeyProject, Person, Rank, UnitGroup

from .calendar import WorkingCalendar
from .lights import ACTIVE_STAGES
from .models import (
    AgendaItem,
    AgendaSection,
    Bulletin,
    Decision,
    Meeting,
    MonthlyReport,
    ScoreMeasure,
    UnitScore,
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


# Content


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


# Reading: a fixed number of queries per document


def _people(meeting):
    people = list(meeting.attendees.all())
    return sorted(people, key=lambda person: (RANK_ORDER.get(person.rank, len(RANK_ORDER)), person.name))


def _chair(meeting):
    return Person.objects.filter(pk=meeting.chair_id).first() if meeting.chair_id else None


def _items(meeting):
    """The items kept on the agenda, in their order; dropped ones are left out."""
    return list(
        AgendaItem.objects.filter(meeting=meeting, dropped=False).select_related("project").order_by("position", "pk")
    )


def _by_section(items):
    """Items grouped by section, sections in the order of their first item."""
    grouped = {}
    for item in items:
        grouped.setdefault(item.section, []).append(item)
    return grouped


def _section_label(section):
    try:
        return str(AgendaSection(section).label)
    except ValueError:
        return section


def _meeting_lines(meeting, chair):
    lines = [Para(_datetime(meeting.scheduled_at), "line", _("Time"))]
    if meeting.place:
        lines.append(Para(meeting.place, "line", _("Place")))
    if chair:
        lines.append(Para(chair.name, "line", _("Chair")))
    people = _people(meeting)
    if people:
        lines.append(Para(_list(person.name for person in people), "line", _("Attending leaders")))
    units = list(meeting.attending_units.all())
    if units:
        lines.append(Para(_list(unit.name for unit in units), "line", _("Attending units")))
    return lines


def _item_cell(item):
    if item.project_id and item.project.code not in item.title:
        return f"{item.title}\n{item.project.code} {item.project.name}"
    return item.title


def agenda_document(meeting):
    """The agenda: the meeting's time, place and people, then its items section by section."""
    chair = _chair(meeting)
    document = OfficialDocument(
        issuer=document_issuer(),
        number=meeting.number,
        title=_("Agenda of %(title)s") % {"title": meeting.title},
        date=_date(meeting.published_at or meeting.drafted_at),
        mark=_("Draft") if meeting.state == Meeting.State.DRAFT else "",
        preamble=_meeting_lines(meeting, chair),
        chinese=_chinese(),
    )
    grouped = _by_section(_items(meeting))
    for number, (section, items) in enumerate(grouped.items(), start=1):
        rows = [
            [str(index), _item_cell(item), item.detail, item.note]
            for index, item in enumerate(items, start=1)
        ]
        header = [pgettext("row number", "No."), _("Item"), _("Detail"), _("Note")]
        document.sections.append(
            Section(section_heading(number, _section_label(section)), [Grid(header, rows, [8, 40, 62, 46])])
        )
    if not grouped:
        document.preamble.append(Para(_("The agenda has no items.")))
    return document


def _decisions(meeting):
    return list(
        Decision.objects.filter(meeting=meeting).select_related("owner", "unit", "project").order_by("pk")
    )


def _due(decision):
    # A deadline is the end of its working day, stored as the next midnight: write that day.
    return _date(WorkingCalendar.deadline_day(decision.due_at)) if decision.due_at else DASH


def minutes_document(meeting):
    """The minutes: what was said on each item kept on the agenda, and the decisions taken."""
    chair = _chair(meeting)
    document = OfficialDocument(
        issuer=document_issuer(),
        number=meeting.number,
        title=_("Minutes of %(title)s") % {"title": meeting.title},
        date=_date(meeting.minuted_at or meeting.scheduled_at),
        mark=_("Draft") if meeting.state != Meeting.State.MINUTED else "",
        preamble=_meeting_lines(meeting, chair),
        chinese=_chinese(),
    )
    document.preamble.append(
        Para(
            _("The meeting reviewed the work on the key projects in %(month)s and agreed as follows.")
            % {"month": _month(meeting.month)}
        )
    )
    decisions = _decisions(meeting)
    by_item = {}
    for decision in decisions:
        by_item.setdefault(decision.item_id, []).append(decision)
    grouped = _by_section(_items(meeting))
    number = 0
    for number, (section, items) in enumerate(grouped.items(), start=1):
        blocks = []
        for index, item in enumerate(items, start=1):
            blocks.append(Para(item_heading(index, item.title), "subheading"))
            blocks.append(Para(item.minutes or _("No minutes were recorded for this item.")))
            for decision in by_item.get(item.pk, []):
                blocks.append(
                    Para(
                        _("Decided: %(text)s (%(owner)s, %(unit)s, within %(days)s working days).")
                        % {"text": decision.text, "owner": decision.owner.name, "unit": decision.unit.name,
                           "days": decision.working_days}
                    )
                )
        document.sections.append(Section(section_heading(number, _section_label(section)), blocks))
    heading = section_heading(number + 1, _("Decisions"))
    if decisions:
        header = [
            pgettext("row number", "No."), _("Decision"), pgettext("decision", "Owner"), _("Unit"),
            _("Working days"), pgettext("deadline", "Due"), _("State"),
        ]
        rows = [
            [
                str(index), decision.text, decision.owner.name, decision.unit.name,
                str(decision.working_days), _due(decision), str(decision.get_state_display()),
            ]
            for index, decision in enumerate(decisions, start=1)
        ]
        document.sections.append(Section(heading, [Grid(header, rows, [8, 52, 18, 26, 14, 22, 16], frozenset({4}))]))
    else:
        document.sections.append(Section(heading, [Para(_("The meeting took no decisions."))]))
    return document


def _scores(bulletin):
    scores = list(UnitScore.objects.filter(bulletin=bulletin).select_related("unit"))
    return sorted(
        scores,
        key=lambda score: (
            GROUP_ORDER.get(score.group, len(GROUP_ORDER)),
            score.group,
            score.rank is None,
            score.rank or 0,
            score.unit.name,
        ),
    )


def _measures(scores):
    """The measures the scores hold, in ScoreMeasure's order."""
    keys = {key for score in scores for key in (score.measures or {})}
    return sorted(keys, key=lambda key: (MEASURE_ORDER.get(key, len(MEASURE_ORDER)), key))


def _measure_label(measure):
    try:
        return str(ScoreMeasure(measure).label)
    except ValueError:
        return measure


def _group_label(group):
    try:
        return str(UnitGroup(group).label)
    except ValueError:
        return group


def _measure_value(score, measure):
    """A measure's score, or the word "exempt", or None when there was nothing to score."""
    value = (score.measures or {}).get(measure) or {}
    if value.get("exempt"):
        return _("Exempt")
    return value.get("score")


def _by_group(scores):
    grouped = {}
    for score in scores:
        grouped.setdefault(score.group, []).append(score)
    return grouped


def _listed(scores, listing):
    return [score for score in scores if score.listing == listing]


def bulletin_document(bulletin):
    """The bulletin: how units were scored, the ranking in each group, the red and black lists."""
    scores = _scores(bulletin)
    measures = _measures(scores)
    month = _month(bulletin.month)
    document = OfficialDocument(
        issuer=document_issuer(),
        number=bulletin.number,
        title=_("Bulletin on the units' work on key projects in %(month)s") % {"month": month},
        date=_date(bulletin.issued_at or bulletin.computed_at),
        mark=_("Draft") if bulletin.state == Bulletin.State.DRAFT else "",
        chinese=_chinese(),
    )
    document.preamble.append(
        Para(
            _(
                "The units were scored for %(month)s on each measure from 0 to 100, weighted, and ranked "
                "within their group; a measure exempted for force majeure is left out of a unit's score. "
                "The measures: %(measures)s."
            )
            % {"month": month, "measures": _list(_measure_label(measure) for measure in measures) or DASH}
        )
    )
    number = 0
    rank_header = [pgettext("ranking", "Rank"), _("Unit")] + [_measure_label(m) for m in measures] + [_("Score")]
    measure_width = max(10, int(96 / max(len(measures), 1)))
    widths = [10, 30] + [measure_width] * len(measures) + [16]
    figures = frozenset(range(2, len(measures) + 3))
    for number, (group, group_scores) in enumerate(_by_group(scores).items(), start=1):
        rows = [
            [str(score.rank or DASH), score.unit.name]
            + [_measure_cell(_measure_value(score, measure)) for measure in measures]
            + [_figure(score.total)]
            for score in group_scores
        ]
        document.sections.append(
            Section(
                section_heading(number, _("Ranking of %(group)s") % {"group": _group_label(group)}),
                [Grid(rank_header, rows, widths, figures)],
            )
        )
    lists = [
        (UnitScore.Listing.RED, _("Red list"), _("No unit is on the red list this month.")),
        (UnitScore.Listing.BLACK, _("Black list"), _("No unit is on the black list this month.")),
    ]
    for offset, (listing, label, empty) in enumerate(lists, start=1):
        listed = _listed(scores, listing)
        heading = section_heading(number + offset, label)
        if not listed:
            document.sections.append(Section(heading, [Para(empty)]))
            continue
        header = [pgettext("row number", "No."), _("Unit"), _("Group"), _("Score"), pgettext("ranking", "Rank")]
        rows = [
            [str(index), score.unit.name, _group_label(score.group), _figure(score.total), str(score.rank or DASH)]
            for index, score in enumerate(listed, start=1)
        ]
        document.sections.append(Section(heading, [Grid(header, rows, [10, 50, 50, 24, 22], frozenset({3, 4}))]))
    if not scores:
        document.preamble.append(Para(_("No unit was scored this month.")))
    return document


def _measure_cell(value):
    return value if isinstance(value, str) else _figure(value)


# Word


def _fonts(rpr, fonts):
    """Name the Latin and the Chinese font outright: theme fonts would win over them."""
    latin, chinese = fonts
    rfonts = rpr.get_or_add_rFonts()
    for attribute in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        rfonts.attrib.pop(qn(f"w:{attribute}"), None)
    for attribute in ("ascii", "hAnsi", "cs"):
        rfonts.set(qn(f"w:{attribute}"), latin)
    rfonts.set(qn("w:eastAsia"), chinese)
    rfonts.set(qn("w:hint"), "eastAsia")


def _color(font, rgb):
    color = font.element.rPr.find(qn("w:color")) if font.element.rPr is not None else None
    if color is not None:
        color.getparent().remove(color)
    font.color.rgb = rgb


def _style(document, name, fonts, size, *, base="Normal", bold=False, color=BLACK, align=None, line=None,
           before=0, after=0, indent=None):
    styles = document.styles
    style = styles[name] if name in [s.name for s in styles] else styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    if base and style.name != base:
        style.base_style = styles[base]
    style.font.size = Pt(size)
    style.font.bold = bold
    _color(style.font, color)
    _fonts(style.element.get_or_add_rPr(), fonts)
    paragraph = style.paragraph_format
    paragraph.space_before = Pt(before)
    paragraph.space_after = Pt(after)
    if line is not None:
        paragraph.line_spacing = Pt(line) if line > 3 else line
    if align is not None:
        paragraph.alignment = align
    if indent is not None:
        paragraph.first_line_indent = Pt(indent)
    return style


def _setup_styles(document, chinese, issuer):
    defaults = document.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _fonts(rpr, FANGSONG)
    lang = rpr.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:val"), "zh-CN" if chinese else "en-US")
        lang.set(qn("w:eastAsia"), "zh-CN")
    _style(document, "Normal", FANGSONG, 16, base=None, line=28)
    _style(document, "KP Body", FANGSONG, 16, line=28, indent=32, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    heading = _style(document, "Heading 1", HEITI, 16, line=28, indent=32, before=0, after=0)
    heading.paragraph_format.keep_with_next = True
    subheading = _style(document, "Heading 2", KAITI, 16, line=28, indent=32, before=0, after=0)
    subheading.paragraph_format.keep_with_next = True
    _style(document, "KP Issuer", XIAOBIAOSONG, issuer_size(issuer, 32), color=RED, align=WD_ALIGN_PARAGRAPH.CENTER,
           line=1.0, before=0, after=12)
    _style(document, "KP Number", FANGSONG, 16, align=WD_ALIGN_PARAGRAPH.CENTER, line=28)
    _style(document, "KP Mark", HEITI, 16, align=WD_ALIGN_PARAGRAPH.LEFT, line=28)
    _style(document, "KP Rule", FANGSONG, 4, line=1.0, after=16)
    _style(document, "KP Title", XIAOBIAOSONG, 22, align=WD_ALIGN_PARAGRAPH.CENTER, line=36, after=16)
    _style(document, "KP Closing", FANGSONG, 16, align=WD_ALIGN_PARAGRAPH.RIGHT, line=28)
    _style(document, "KP Table Text", FANGSONG, 10.5, line=1.0)
    _style(document, "KP Table Header", HEITI, 10.5, line=1.0, align=WD_ALIGN_PARAGRAPH.CENTER)
    _style(document, "Footer", SONGTI, 14, align=WD_ALIGN_PARAGRAPH.CENTER, line=1.0)


def _declare_fonts(document):
    """Declare the fonts with their alternatives in the font table."""
    part = document.part.part_related_by(RT.FONT_TABLE)
    root = etree.fromstring(part.blob)
    for name, alternative in FONT_TABLE:
        font = etree.SubElement(root, qn("w:font"))
        font.set(qn("w:name"), name)
        for tag, value in (("w:altName", alternative), ("w:charset", "86"), ("w:family", "modern"), ("w:pitch", "fixed")):
            element = etree.SubElement(font, qn(tag))
            element.set(qn("w:val"), value)
    # The font table is a plain part in python-docx: its bytes are replaced whole.
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _page_number(paragraph):
    """— 1 — in the footer, the number a PAGE field."""
    paragraph.add_run(f"{DASH} ")
    for kind, text in (("begin", None), ("instr", " PAGE "), ("separate", None), ("text", "1"), ("end", None)):
        run = paragraph.add_run()
        if kind == "instr":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        elif kind == "text":
            run.text = text
        else:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
    paragraph.add_run(f" {DASH}")


def _setup_page(document):
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance, section.footer_distance = Mm(15), Mm(25)
    footer = section.footer.paragraphs[0]
    footer.style = document.styles["Footer"]
    _page_number(footer)


def _red_rule(document):
    paragraph = document.add_paragraph(style="KP Rule")
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for attribute, value in (("val", "single"), ("sz", "18"), ("space", "1"), ("color", "FF0000")):
        bottom.set(qn(f"w:{attribute}"), value)
    borders.append(bottom)
    ppr.insert_element_before(
        borders, "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
        "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid",
        "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
        "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle",
        "w:rPr", "w:sectPr", "w:pPrChange",
    )


def _repeat_header(row):
    trpr = row._tr.get_or_add_trPr()
    for tag in ("w:cantSplit", "w:tblHeader"):
        trpr.append(OxmlElement(tag))


def _cell_text(cell, text, style, align):
    lines = str(text).split("\n")
    paragraph = cell.paragraphs[0]
    paragraph.style = style
    paragraph.alignment = align
    paragraph.add_run(lines[0])
    for line in lines[1:]:
        extra = cell.add_paragraph(line, style=style)
        extra.alignment = align


def _docx_table(document, grid):
    table = document.add_table(rows=1, cols=len(grid.header))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    total = sum(grid.widths)
    widths = [Mm(TEXT_WIDTH_MM * width / total) for width in grid.widths]
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width  # the grid, which LibreOffice lays the table out by
    header = table.rows[0]
    _repeat_header(header)
    for cell, text, width in zip(header.cells, grid.header, widths, strict=True):
        cell.width = width
        _cell_text(cell, text, document.styles["KP Table Header"], WD_ALIGN_PARAGRAPH.CENTER)
    text_style = document.styles["KP Table Text"]
    for values in grid.rows:
        cells = table.add_row().cells
        for column, (cell, text, width) in enumerate(zip(cells, values, widths, strict=True)):
            cell.width = width
            align = WD_ALIGN_PARAGRAPH.RIGHT if column in grid.figures else (
                WD_ALIGN_PARAGRAPH.CENTER if column == 0 else WD_ALIGN_PARAGRAPH.LEFT
            )
            _cell_text(cell, text, text_style, align)
    return table


def render_docx(content):
    """The document in Word, laid out as an official document."""
    document = docx.Document()
    _setup_styles(document, content.chinese, content.issuer)
    _declare_fonts(document)
    _setup_page(document)
    body = document.element.body
    for paragraph in list(body.iterchildren(qn("w:p"))):
        body.remove(paragraph)  # the template's empty first paragraph
    properties = document.core_properties
    properties.title = content.title
    properties.author = properties.last_modified_by = content.issuer
    properties.subject = content.number
    properties.created = properties.modified = timezone.now().replace(tzinfo=None, microsecond=0)
    properties.revision = 1
    properties.comments = ""
    if content.mark:
        document.add_paragraph(content.mark, style="KP Mark")
    document.add_paragraph(content.issuer, style="KP Issuer")
    document.add_paragraph(content.number, style="KP Number")
    _red_rule(document)
    document.add_paragraph(content.title, style="KP Title")
    _docx_blocks(document, content.preamble, content.chinese)
    for section in content.sections:
        document.add_paragraph(section.heading, style="Heading 1")
        _docx_blocks(document, section.blocks, content.chinese)
    closing = document.add_paragraph(content.issuer, style="KP Closing")
    closing.paragraph_format.space_before = Pt(28)
    document.add_paragraph(content.date, style="KP Closing")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _docx_blocks(document, blocks, chinese):
    for block in blocks:
        if isinstance(block, Grid):
            _docx_table(document, block)
        elif block.kind == "subheading":
            document.add_paragraph(block.text, style="Heading 2")
        elif block.kind == "line":
            paragraph = document.add_paragraph(style="KP Body")
            label = paragraph.add_run(f"{block.label}{'：' if chinese else ': '}")
            _fonts(label._r.get_or_add_rPr(), HEITI)
            paragraph.add_run(block.text)
        else:
            for line in block.text.split("\n"):
                document.add_paragraph(line, style="KP Body")


# PDF


def _pdf_font():
    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    return PDF_FONT


def _pdf_styles(chinese, issuer):
    font = _pdf_font()
    wrap = "CJK" if chinese else None

    def style(name, size, leading=None, **extra):
        return ParagraphStyle(name, fontName=font, fontSize=size, leading=leading or size * 1.5, wordWrap=wrap, **extra)

    return {
        "mark": style("mark", 14),
        "issuer": style("issuer", issuer_size(issuer, 28), textColor=colors.red, alignment=TA_CENTER, spaceAfter=8),
        "number": style("number", 14, alignment=TA_CENTER),
        "title": style("title", 20, alignment=TA_CENTER, spaceBefore=6, spaceAfter=12),
        "heading": style("heading", 15, spaceBefore=8, spaceAfter=4, firstLineIndent=28),
        "subheading": style("subheading", 14, spaceBefore=4, firstLineIndent=28),
        "body": style("body", 13, firstLineIndent=26),
        "closing": style("closing", 13, alignment=TA_RIGHT),
        "cell": style("cell", 9, leading=12, alignment=TA_LEFT),
        "cell_center": style("cell_center", 9, leading=12, alignment=TA_CENTER),
        "cell_right": style("cell_right", 9, leading=12, alignment=TA_RIGHT),
        "footer": style("footer", 11),
    }


def _escape(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br/>")


def _pdf_table(grid, styles):
    def cell(text, column):
        if column in grid.figures:
            return PdfParagraph(_escape(text), styles["cell_right"])
        return PdfParagraph(_escape(text), styles["cell_center" if column == 0 else "cell"])

    header = [PdfParagraph(_escape(text), styles["cell_center"]) for text in grid.header]
    rows = [[cell(text, column) for column, text in enumerate(values)] for values in grid.rows]
    total = sum(grid.widths)
    available = TEXT_WIDTH_MM * mm - 12  # the frame's padding, 6 points a side
    table = Table([header, *rows], colWidths=[available * width / total for width in grid.widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def render_pdf(content):
    """The same document in PDF, with reportlab's built-in Chinese font (no font files needed)."""
    styles = _pdf_styles(content.chinese, content.issuer)
    story = []
    if content.mark:
        story.append(PdfParagraph(_escape(content.mark), styles["mark"]))
    story += [
        PdfParagraph(_escape(content.issuer), styles["issuer"]),
        PdfParagraph(_escape(content.number), styles["number"]),
        HRFlowable(width="100%", thickness=1.5, color=colors.red, spaceBefore=2, spaceAfter=10),
        PdfParagraph(_escape(content.title), styles["title"]),
    ]
    story += _pdf_blocks(content.preamble, styles, content.chinese)
    for section in content.sections:
        story.append(PdfParagraph(_escape(section.heading), styles["heading"]))
        story += _pdf_blocks(section.blocks, styles, content.chinese)
    story += [
        Spacer(1, 18),
        PdfParagraph(_escape(content.issuer), styles["closing"]),
        PdfParagraph(_escape(content.date), styles["closing"]),
    ]

    def footer(canvas, template):
        canvas.saveState()
        canvas.setFont(PDF_FONT, 11)
        canvas.drawCentredString(A4[0] / 2, 20 * mm, f"{DASH} {template.page} {DASH}")
        canvas.restoreState()

    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=28 * mm, rightMargin=26 * mm, topMargin=30 * mm, bottomMargin=30 * mm,
        title=content.title, author=content.issuer, subject=content.number, creator=content.issuer,
    )
    template.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _pdf_blocks(blocks, styles, chinese):
    flowables = []
    for block in blocks:
        if isinstance(block, Grid):
            flowables += [Spacer(1, 4), _pdf_table(block, styles), Spacer(1, 6)]
        elif block.kind == "line":
            colon = "：" if chinese else ": "
            flowables.append(PdfParagraph(_escape(f"{block.label}{colon}{block.text}"), styles["body"]))
        else:
            flowables.append(PdfParagraph(_escape(block.text), styles["subheading" if block.kind == "subheading" else "body"]))
    return flowables


# Excel

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
FIGURE = "0.00"
MONEY = "#,##0.00"
WHEN = "yyyy-mm-dd hh:mm"


def _sheet_title(text, taken):
    title = re.sub(r"[\[\]:*?/\\]", " ", str(text))[:31] or "Sheet"
    candidate, counter = title, 2
    while candidate in taken:
        suffix = f" {counter}"
        candidate, counter = title[: 31 - len(suffix)] + suffix, counter + 1
    taken.add(candidate)
    return candidate


def _header(sheet, labels, widths):
    sheet.append([str(label) for label in labels])
    for column, width in enumerate(widths, start=1):
        cell = sheet.cell(row=1, column=column)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "C2"
    # Printed: A4 landscape, as wide as one page, the header on every page.
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"


def _workbook_bytes(workbook):
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _number(value):
    return None if value is None else float(value)


def bulletin_xlsx(bulletin):
    """The bulletin in Excel: a sheet for each group's ranking, and one for the red and black lists."""
    scores = _scores(bulletin)
    measures = _measures(scores)
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.title = str(bulletin.number)
    workbook.properties.creator = document_issuer()
    taken = set()
    labels = [pgettext("ranking", "Rank"), _("Unit")] + [_measure_label(m) for m in measures] + [_("Score"), _("List")]
    for group, group_scores in _by_group(scores).items():
        sheet = workbook.create_sheet(_sheet_title(_group_label(group), taken))
        _header(sheet, labels, [8, 28] + [14] * len(measures) + [10, 12])
        for score in group_scores:
            values = [_measure_value(score, measure) for measure in measures]
            sheet.append(
                [score.rank, score.unit.name]
                + [value if isinstance(value, str) else _number(value) for value in values]
                + [_number(score.total), str(score.get_listing_display()) if score.listing else ""]
            )
            for column in range(3, len(measures) + 4):
                sheet.cell(row=sheet.max_row, column=column).number_format = FIGURE
        sheet.auto_filter.ref = sheet.dimensions
    sheet = workbook.create_sheet(_sheet_title(_("Red and black lists"), taken))
    _header(sheet, [_("List"), _("Unit"), _("Group"), _("Score"), pgettext("ranking", "Rank")], [12, 28, 28, 10, 8])
    for listing in (UnitScore.Listing.RED, UnitScore.Listing.BLACK):
        for score in _listed(scores, listing):
            sheet.append([str(listing.label), score.unit.name, _group_label(score.group), _number(score.total), score.rank])
            sheet.cell(row=sheet.max_row, column=4).number_format = FIGURE
    return _workbook_bytes(workbook)


def _report_rows(month, scope):
    """Every active case, and every case with a report for the month, with that report."""
    reports = MonthlyReport.objects.filter(month=month)
    projects = (
        KeyProject.objects.filter(Q(stage__in=ACTIVE_STAGES) | Q(pk__in=reports.values("project_id")))
        .filter(scope if scope is not None else Q())
        .select_related("lead_unit")
        .prefetch_related(Prefetch("monthly_reports", queryset=reports.select_related("unit"), to_attr="month_reports"))
        .order_by("code")
    )
    return [(project, project.month_reports[0] if project.month_reports else None) for project in projects]


def _on_time(report, now):
    if report is None:
        return ""
    if report.submitted_at is not None:
        return _("Yes") if report.submitted_at <= report.due_at else _("No")
    return _("No") if now > report.due_at else ""


def _naive(value):
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def report_status_xlsx(month, scope=None):
    """The month's report status table: every active case, its report's state, dates and figures.

    ``scope`` (a filter on key projects, see ``report_scope``) narrows it to what a reader may see.
    """
    now = timezone.now()
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _sheet_title(_("Reports %(month)s") % {"month": f"{month:%Y-%m}"}, set())
    workbook.properties.title = sheet.title
    workbook.properties.creator = document_issuer()
    _header(
        sheet,
        [
            _("Code"), _("Project name"), _("Lead unit"), _("State"), pgettext("deadline", "Due"),
            _("Submitted at"), _("On time"), _("Investment this month (10k yuan)"), _("Image progress (%)"),
        ],
        [14, 36, 22, 16, 17, 17, 9, 16, 12],
    )
    for project, report in _report_rows(month, scope):
        unit = report.unit if report else project.lead_unit
        sheet.append(
            [
                project.code,
                project.name,
                unit.name if unit else "",
                str(report.get_state_display()) if report else _("No report"),
                _naive(report.due_at) if report else None,
                _naive(report.submitted_at) if report else None,
                _on_time(report, now),
                _number(in_wan(report.investment_month)) if report else None,
                _number(report.progress_percent) if report else None,
            ]
        )
        row = sheet.max_row
        for column, number_format in ((5, WHEN), (6, WHEN), (8, MONEY), (9, FIGURE)):
            sheet.cell(row=row, column=column).number_format = number_format
    sheet.auto_filter.ref = sheet.dimensions
    return _workbook_bytes(workbook)


# The formats


def agenda_docx(meeting):
    return render_docx(agenda_document(meeting))


def agenda_pdf(meeting):
    return render_pdf(agenda_document(meeting))


def minutes_docx(meeting):
    return render_docx(minutes_document(meeting))


def minutes_pdf(meeting):
    return render_pdf(minutes_document(meeting))


def bulletin_docx(bulletin):
    return render_docx(bulletin_document(bulletin))


def bulletin_pdf(bulletin):
    return render_pdf(bulletin_document(bulletin))


BUILDERS = {
    ("agenda", "docx"): agenda_docx,
    ("agenda", "pdf"): agenda_pdf,
    ("minutes", "docx"): minutes_docx,
    ("minutes", "pdf"): minutes_pdf,
    ("bulletin", "docx"): bulletin_docx,
    ("bulletin", "xlsx"): bulletin_xlsx,
    ("bulletin", "pdf"): bulletin_pdf,
}


def _filename_label(kind):
    return {
        "agenda": pgettext("file name", "agenda"),
        "minutes": pgettext("file name", "minutes"),
        "bulletin": pgettext("file name", "bulletin"),
        "report_status": pgettext("file name", "report-status"),
    }[kind]


def filename(kind, month, fmt, number=""):
    """``agenda-2026-10-调度〔2026〕10号.docx``: what it is, the month, the document number."""
    parts = [_filename_label(kind), f"{month:%Y-%m}"]
    if number:
        parts.append(UNSAFE_IN_FILENAMES.sub("-", number).strip("-."))
    return "-".join(part for part in parts if part) + f".{fmt}"


def build(kind, subject, fmt, *, scope=None):
    """The file of ``kind`` (agenda, minutes, bulletin, report_status) in ``fmt``, in the active language.

    ``subject`` is the meeting, the bulletin, or the month (a date) of the report status table.
    Raises KeyError for a format the kind does not come in.
    """
    if fmt not in FORMATS[kind]:
        raise KeyError(fmt)
    if kind == "report_status":
        return Built(report_status_xlsx(subject, scope), XLSX, filename(kind, subject, fmt))
    content = BUILDERS[(kind, fmt)](subject)
    return Built(content, CONTENT_TYPES[fmt], filename(kind, subject.month, fmt, subject.number))


# Who may download what


def _sees_drafts(user):
    return case_permissions.role_of(user) in case_permissions.ALL_SEEING


def meeting_for(user, pk, kind):
    """The meeting whose agenda or minutes ``user`` may download, or None.

    Government people read the agenda once published and the minutes once recorded; the
    secretariat and supervisors read the drafts too.
    """
    if not case_permissions.is_internal(user):
        return None
    meetings = Meeting.objects.filter(pk=pk)
    if not _sees_drafts(user):
        ready = [Meeting.State.MINUTED] if kind == "minutes" else [Meeting.State.PUBLISHED, Meeting.State.MINUTED]
        meetings = meetings.filter(state__in=ready)
    return meetings.first()


def bulletin_for(user, pk):
    """The bulletin ``user`` may download, or None: issued ones for government people, drafts too
    for the secretariat and supervisors."""
    if not case_permissions.is_internal(user):
        return None
    bulletins = Bulletin.objects.filter(pk=pk)
    if not _sees_drafts(user):
        bulletins = bulletins.filter(state=Bulletin.State.ISSUED)
    return bulletins.first()


def report_scope(user):
    """The cases whose reports ``user`` may see in the status table, as a filter on key projects."""
    if not case_permissions.is_internal(user):
        return Q(pk__in=[])
    return case_permissions.project_scope(user)
