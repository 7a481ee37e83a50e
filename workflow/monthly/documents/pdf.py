"""An official document (``layout``) rendered as a PDF, in a Chinese font it embeds."""

import io
from functools import cache
from importlib.resources import as_file, files

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import HRFlowable, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus import Paragraph as PdfParagraph
from reportlab.rl_config import _FUZZ

from .layout import (
    CANNOT_END,
    CANNOT_START,
    DASH,
    TEXT_WIDTH_MM,
    Grid,
    clusters,
    fit_widths,
    issuer_size,
    tie_numbers,
)

# WenQuanYi Micro Hei (Apache-2.0), installed with the package paperang-p2-fonts-cjk: a TrueType
# collection with glyf outlines, which reportlab embeds as a subset of the glyphs a file uses.
PDF_FONT = "WenQuanYiMicroHei"
FONT_PACKAGE, FONT_FILE = "paperang_p2_fonts_cjk", ("fonts", "wqy-microhei.ttc")
CELL_TEXT_PT = 9
CELL_PADDING_PT = 13  # reportlab's table cells: 6 points a side, and one that rounding does not eat


@cache
def _pdf_font():
    """Register the packaged font once; reportlab reads the file when it registers it."""
    with as_file(files(FONT_PACKAGE).joinpath(*FONT_FILE)) as path:
        pdfmetrics.registerFont(TTFont(PDF_FONT, str(path), subfontIndex=0))
    return PDF_FONT


class CJKParagraph(PdfParagraph):
    """A paragraph of Chinese that breaks lines between ideographs but never inside a number, a
    code, or between a number and its unit (``layout.clusters``), and keeps closing marks off the
    start of a line and opening ones off its end.

    reportlab's own CJK wrapping cuts anywhere once the run of Latin characters is more than half a
    line long, which is how "100" became "1" and "00" in a narrow cell.
    """

    def breakLinesCJK(self, maxWidths):  # noqa: N802 (reportlab's name)
        frags = self.frags
        if len(frags) != 1 or hasattr(frags[0], "cbDefn") or self.style.endDots or self.bulletText:
            return super().breakLinesCJK(maxWidths)
        frag = frags[0]
        if hasattr(self, "blPara") and getattr(self, "_splitpara", 0):
            return frag.clone(kind=0, lines=self.blPara.lines)
        widths = maxWidths if isinstance(maxWidths, list | tuple) else [maxWidths]
        text = frag.text if hasattr(frag, "text") else "".join(getattr(frag, "words", []))
        lines = cjk_lines(text, widths, lambda piece: stringWidth(piece, frag.fontName, frag.fontSize))
        return frag.clone(
            kind=0, lines=[(space, [line]) for space, line in lines], ascent=frag.fontSize, descent=-0.2 * frag.fontSize
        )


def cjk_lines(text, widths, measure):
    """``text`` in lines no wider than ``widths`` (the first line's, then the others'), as
    ``(room left, line)``; a cluster wider than a whole line is cut where it must be."""
    lines, line, used = [], [], 0.0

    def room():
        return widths[min(len(lines), len(widths) - 1)]

    def end_line(carry=()):
        nonlocal line, used
        kept = "".join(line).strip()
        lines.append((room() - measure(kept), kept))
        line = list(carry)
        used = sum(measure(piece) for piece in line)

    for cluster in clusters(text):
        width = measure(cluster)
        if line and used + width > room() + _FUZZ:
            if cluster in CANNOT_START:
                line.append(cluster)  # hangs in the margin rather than start the next line
                used += width
                continue
            carry = []
            while len(line) > 1 and line[-1] in CANNOT_END:
                carry.insert(0, line.pop())
            end_line(carry)
            if cluster.isspace() and not line:
                continue
        if not line and cluster.isspace():
            continue
        while width > room() + _FUZZ and not line:
            cut = 1
            while cut < len(cluster) and measure(cluster[: cut + 1]) <= room() + _FUZZ:
                cut += 1
            line, used = [cluster[:cut]], measure(cluster[:cut])
            end_line()
            cluster, width = cluster[cut:], measure(cluster[cut:])
        if cluster:
            line.append(cluster)
            used += width
    if line:
        end_line()
    return lines


def _pdf_styles(chinese, issuer):
    font = _pdf_font()
    wrap = "CJK" if chinese else None

    def style(name, size, leading=None, **extra):
        return ParagraphStyle(name, fontName=font, fontSize=size, leading=leading or size * 1.5, wordWrap=wrap, **extra)

    cell = CELL_TEXT_PT
    return {
        "mark": style("mark", 14),
        "issuer": style("issuer", issuer_size(issuer, 28), textColor=colors.red, alignment=TA_CENTER, spaceAfter=8),
        "number": style("number", 14, alignment=TA_CENTER),
        "title": style("title", 20, alignment=TA_CENTER, spaceBefore=6, spaceAfter=12),
        "heading": style("heading", 15, spaceBefore=8, spaceAfter=4, firstLineIndent=28),
        "subheading": style("subheading", 14, spaceBefore=4, firstLineIndent=28),
        "body": style("body", 13, firstLineIndent=26),
        "closing": style("closing", 13, alignment=TA_RIGHT),
        "cell": style("cell", cell, leading=12, alignment=TA_LEFT),
        "cell_center": style("cell_center", cell, leading=12, alignment=TA_CENTER),
        "cell_right": style("cell_right", cell, leading=12, alignment=TA_RIGHT),
        "footer": style("footer", 11),
    }


def _escape(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _paragraphs(text, style):
    """One paragraph a line, each number tied to its unit."""
    return [CJKParagraph(_escape(tie_numbers(line)), style) for line in str(text).split("\n")]


def _pdf_table(grid, styles):
    def cell(text, column):
        if column in grid.figures:
            return _paragraphs(text, styles["cell_right"])
        return _paragraphs(text, styles["cell_center" if column == 0 else "cell"])

    header = [_paragraphs(text, styles["cell_center"]) for text in grid.header]
    rows = [[cell(text, column) for column, text in enumerate(values)] for values in grid.rows]
    available = TEXT_WIDTH_MM * mm - 12  # the frame's padding, 6 points a side
    widths = fit_widths(grid, available, lambda text: stringWidth(text, _pdf_font(), CELL_TEXT_PT) + CELL_PADDING_PT)
    table = Table([header, *rows], colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                # The cells' own font, which reportlab sets even when they hold paragraphs.
                ("FONT", (0, 0), (-1, -1), _pdf_font(), CELL_TEXT_PT),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def render_pdf(content):
    """The same document in PDF, every font in it embedded (``PDF_FONT``, subset)."""
    styles = _pdf_styles(content.chinese, content.issuer)
    story = []
    if content.mark:
        story += _paragraphs(content.mark, styles["mark"])
    story += [
        *_paragraphs(content.issuer, styles["issuer"]),
        *_paragraphs(content.number, styles["number"]),
        # The red rule, 4 mm under the number as GB/T 9704 puts it.
        HRFlowable(width="100%", thickness=1.5, color=colors.red, spaceBefore=4 * mm, spaceAfter=10),
        *_paragraphs(content.title, styles["title"]),
    ]
    story += _pdf_blocks(content.preamble, styles, content.chinese)
    for section in content.sections:
        story += _paragraphs(section.heading, styles["heading"])
        story += _pdf_blocks(section.blocks, styles, content.chinese)
    story += [
        Spacer(1, 18),
        *_paragraphs(content.issuer, styles["closing"]),
        *_paragraphs(content.date, styles["closing"]),
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
        initialFontName=_pdf_font(),  # else the canvas starts in Helvetica, which is not embedded
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
            flowables += _paragraphs(f"{block.label}{colon}{block.text}", styles["body"])
        else:
            flowables += _paragraphs(block.text, styles["subheading" if block.kind == "subheading" else "body"])
    return flowables
