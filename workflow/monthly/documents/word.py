"""An official document (``layout``) rendered as a Word file."""

import io

import docx
from django.utils import timezone
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from lxml import etree

from .layout import (
    BLACK,
    DASH,
    FANGSONG,
    FONT_TABLE,
    HEITI,
    KAITI,
    RED,
    SONGTI,
    TEXT_WIDTH_MM,
    XIAOBIAOSONG,
    Grid,
    fit_widths,
    issuer_size,
    text_ems,
    tie_numbers,
)

# The fonts each style's runs name, besides the style itself: a run keeps its fonts when the text
# is pasted into another document, whose styles of the same name would win over ours.
STYLE_FONTS = {
    "Normal": FANGSONG,
    "KP Body": FANGSONG,
    "Heading 1": HEITI,
    "Heading 2": KAITI,
    "KP Issuer": XIAOBIAOSONG,
    "KP Number": FANGSONG,
    "KP Mark": HEITI,
    "KP Title": XIAOBIAOSONG,
    "KP Closing": FANGSONG,
    "KP Table Text": FANGSONG,
    "KP Table Header": HEITI,
    "Footer": SONGTI,
}
TABLE_TEXT_PT = 10.5
CELL_MARGINS_PT = 10.8  # Table Grid's 0.19 cm on either side
# The red rule (GB/T 9704's 版头中的分隔线): 1.5 points, 4 mm under the document number.
RULE_SIZE = "12"  # eighths of a point
RULE_SPACE = "11"  # points


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
    fonts = STYLE_FONTS
    _style(document, "Normal", fonts["Normal"], 16, base=None, line=28)
    _style(document, "KP Body", fonts["KP Body"], 16, line=28, indent=32, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    heading = _style(document, "Heading 1", fonts["Heading 1"], 16, line=28, indent=32, before=0, after=0)
    heading.paragraph_format.keep_with_next = True
    subheading = _style(document, "Heading 2", fonts["Heading 2"], 16, line=28, indent=32, before=0, after=0)
    subheading.paragraph_format.keep_with_next = True
    _style(document, "KP Issuer", fonts["KP Issuer"], issuer_size(issuer, 32), color=RED,
           align=WD_ALIGN_PARAGRAPH.CENTER, line=1.0, before=0, after=12)
    _style(document, "KP Number", fonts["KP Number"], 16, align=WD_ALIGN_PARAGRAPH.CENTER, line=28, after=24)
    _style(document, "KP Mark", fonts["KP Mark"], 16, align=WD_ALIGN_PARAGRAPH.LEFT, line=28)
    _style(document, "KP Title", fonts["KP Title"], 22, align=WD_ALIGN_PARAGRAPH.CENTER, line=36, after=16)
    _style(document, "KP Closing", fonts["KP Closing"], 16, align=WD_ALIGN_PARAGRAPH.RIGHT, line=28)
    _style(document, "KP Table Text", fonts["KP Table Text"], TABLE_TEXT_PT, line=1.0)
    _style(document, "KP Table Header", fonts["KP Table Header"], TABLE_TEXT_PT, line=1.0,
           align=WD_ALIGN_PARAGRAPH.CENTER)
    _style(document, "Footer", fonts["Footer"], 14, align=WD_ALIGN_PARAGRAPH.CENTER, line=1.0)


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


def _add_text(paragraph, text, fonts=None):
    """A run of ``text`` naming the fonts of its paragraph's style (or ``fonts``), each number tied
    to its unit."""
    run = paragraph.add_run(tie_numbers(text))
    _fonts(run._r.get_or_add_rPr(), fonts or STYLE_FONTS[paragraph.style.name])
    return run


def _paragraph(document_or_cell, text, style):
    paragraph = document_or_cell.add_paragraph(style=style)
    if text:
        _add_text(paragraph, text)
    return paragraph


def _red_rule(paragraph):
    """The red rule under the document number, as the number paragraph's own bottom border: the
    empty 4-point paragraph that used to carry it was not seen in every reader."""
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for attribute, value in (("val", "single"), ("sz", RULE_SIZE), ("space", RULE_SPACE), ("color", str(RED))):
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
    if lines[0]:
        _add_text(paragraph, lines[0])
    for line in lines[1:]:
        extra = _paragraph(cell, line, style)
        extra.alignment = align


def _docx_table(document, grid):
    table = document.add_table(rows=1, cols=len(grid.header))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    points = fit_widths(grid, TEXT_WIDTH_MM * 72 / 25.4, lambda text: text_ems(text) * TABLE_TEXT_PT + CELL_MARGINS_PT)
    widths = [Pt(width) for width in points]
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
        _paragraph(document, content.mark, "KP Mark")
    _paragraph(document, content.issuer, "KP Issuer")
    _red_rule(_paragraph(document, content.number, "KP Number"))
    _paragraph(document, content.title, "KP Title")
    _docx_blocks(document, content.preamble, content.chinese)
    for section in content.sections:
        _paragraph(document, section.heading, "Heading 1")
        _docx_blocks(document, section.blocks, content.chinese)
    closing = _paragraph(document, content.issuer, "KP Closing")
    closing.paragraph_format.space_before = Pt(28)
    _paragraph(document, content.date, "KP Closing")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _docx_blocks(document, blocks, chinese):
    for block in blocks:
        if isinstance(block, Grid):
            _docx_table(document, block)
        elif block.kind == "subheading":
            _paragraph(document, block.text, "Heading 2")
        elif block.kind == "line":
            paragraph = document.add_paragraph(style="KP Body")
            _add_text(paragraph, f"{block.label}{'：' if chinese else ': '}", HEITI)
            _add_text(paragraph, block.text)
        else:
            for line in block.text.split("\n"):
                _paragraph(document, line, "KP Body")
