"""An official document (``layout``) rendered as a PDF."""

import io

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import HRFlowable, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus import Paragraph as PdfParagraph

from .layout import DASH, PDF_FONT, TEXT_WIDTH_MM, Grid, issuer_size


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
