"""The monthly cycle's Excel workbooks: the bulletin's scores and the reports' status."""

import re

from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from cases.excel import save_workbook
from cases.formatting import in_wan
from cases.models import ACTIVE_STAGES, KeyProject

from ..models import (
    MonthlyReport,
    UnitScore,
)
from .content import (
    _by_group,
    _group_label,
    _listed,
    _measure_label,
    _measure_value,
    _measures,
    _scores,
)
from .layout import document_issuer

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
    return save_workbook(workbook)


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
            _("Project code (national platform)"),
        ],
        [14, 36, 22, 16, 17, 17, 9, 16, 12, 26],
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
                project.project_code,
            ]
        )
        row = sheet.max_row
        for column, number_format in ((5, WHEN), (6, WHEN), (8, MONEY), (9, FIGURE)):
            sheet.cell(row=row, column=column).number_format = number_format
    sheet.auto_filter.ref = sheet.dimensions
    return _workbook_bytes(workbook)
