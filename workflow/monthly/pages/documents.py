"""Download pages of the monthly cycle's documents: the agenda, the minutes, the bulletin and the
report status table, for government people (see ``documents.meeting_for`` and friends)."""

from django.http import Http404, HttpResponse
from django.utils.http import content_disposition_header

from workflow.engine.pages import InternalPage

from .. import documents, periods
from ..documents import layout


def document_response(built):
    """The file as an attachment, named with its number and month."""
    response = HttpResponse(built.content, content_type=built.content_type)
    response["Content-Disposition"] = content_disposition_header(True, built.filename)
    response["Content-Length"] = str(len(built.content))
    response["Cache-Control"] = "private, no-store"
    return response


class DocumentDownloadView(InternalPage):
    """One document in one format; an unknown format, or a record the reader may not see, is 404."""

    kind = None

    def subject(self, **kwargs):
        raise NotImplementedError

    def get(self, request, *args, fmt="xlsx", **kwargs):
        if fmt not in layout.FORMATS[self.kind]:
            raise Http404
        subject = self.subject(**kwargs)
        if subject is None:
            raise Http404
        scope = documents.report_scope(request.user) if self.kind == "report_status" else None
        return document_response(documents.build(self.kind, subject, fmt, scope=scope))


class AgendaDocumentView(DocumentDownloadView):
    kind = "agenda"

    def subject(self, pk, **kwargs):
        return documents.meeting_for(self.request.user, pk, self.kind)


class MinutesDocumentView(AgendaDocumentView):
    kind = "minutes"


class BulletinDocumentView(DocumentDownloadView):
    kind = "bulletin"

    def subject(self, pk, **kwargs):
        return documents.bulletin_for(self.request.user, pk)


class ReportStatusDocumentView(DocumentDownloadView):
    kind = "report_status"

    def subject(self, month, **kwargs):
        return periods.begun_month(month)
