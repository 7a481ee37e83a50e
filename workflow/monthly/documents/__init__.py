"""The monthly cycle's documents: the agenda, the minutes and the bulletin in Word and PDF in the
layout of an official document, the bulletin and the reports' status in Excel; who may have which.
"""

from django.db.models import Q
from django.utils.translation import pgettext

from cases import permissions as case_permissions

from ..models import Bulletin, Meeting
from .content import agenda_document, bulletin_document, minutes_document
from .layout import CONTENT_TYPES, FORMATS, UNSAFE_IN_FILENAMES, XLSX, Built
from .pdf import render_pdf
from .sheets import bulletin_xlsx, report_status_xlsx
from .word import render_docx


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
