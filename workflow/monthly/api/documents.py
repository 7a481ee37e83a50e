"""API of the monthly cycle's documents: the same files as the download pages, under
/api/documents/."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions as drf_permissions
from rest_framework import viewsets
from rest_framework.decorators import action

from workflow.engine.api.views import CoordinationAccess

from .. import documents, periods
from ..documents import layout
from ..models import Bulletin, Meeting, MonthlyReport
from ..pages.documents import document_response

NOT_FOUND = OpenApiResponse(
    description="No such record, one you may not see yet (a draft), or a format it does not come in."
)
FILE = OpenApiResponse(
    response=OpenApiTypes.BINARY, description="The file, as an attachment named with its month and number."
)
FORBIDDEN = OpenApiResponse(description="Documents are for government people.")


def _fmt_parameter(kind):
    formats = layout.FORMATS[kind]
    return OpenApiParameter(
        "fmt", str, enum=list(formats), default=formats[0], description=f"The file format: {', '.join(formats)}."
    )


def _binary(kind, summary, parameters=()):
    return extend_schema(
        summary=summary,
        parameters=[*parameters, _fmt_parameter(kind)] if len(layout.FORMATS[kind]) > 1 else list(parameters),
        request=None,
        responses={
            **{(200, layout.CONTENT_TYPES[fmt]): FILE for fmt in layout.FORMATS[kind]},
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )


class DocumentViewSet(viewsets.GenericViewSet):
    permission_classes = [drf_permissions.IsAuthenticated, CoordinationAccess]
    filter_backends = []
    pagination_class = None
    lookup_value_regex = r"[0-9]+"

    def perform_content_negotiation(self, request, force=False):
        # The files are not rendered by DRF; an Accept header asking for one must not make a 406,
        # and errors go out as JSON.
        return super().perform_content_negotiation(request, force=True)

    def _send(self, kind, subject):
        fmt = self.request.query_params.get("fmt") or layout.FORMATS[kind][0]
        if subject is None or fmt not in layout.FORMATS[kind]:
            raise Http404
        scope = documents.report_scope(self.request.user) if kind == "report_status" else None
        return document_response(documents.build(kind, subject, fmt, scope=scope))


class MeetingDocumentViewSet(DocumentViewSet):
    """A scheduling meeting's agenda and minutes, in Word or PDF."""

    queryset = Meeting.objects.none()

    @_binary("agenda", "A meeting's agenda as an official document")
    @action(detail=True, methods=["get"])
    def agenda(self, request, pk=None):
        return self._send("agenda", documents.meeting_for(request.user, int(pk), "agenda"))

    @_binary("minutes", "A meeting's minutes as an official document")
    @action(detail=True, methods=["get"])
    def minutes(self, request, pk=None):
        return self._send("minutes", documents.meeting_for(request.user, int(pk), "minutes"))


class BulletinDocumentViewSet(DocumentViewSet):
    """A month's bulletin (通报), in Word, Excel or PDF."""

    queryset = Bulletin.objects.none()

    @_binary("bulletin", "A month's bulletin: the units' scores, ranking, red and black lists")
    def retrieve(self, request, pk=None):
        return self._send("bulletin", documents.bulletin_for(request.user, int(pk)))


MONTH = OpenApiParameter(
    "month", str, OpenApiParameter.PATH, pattern=r"^[0-9]{4}-[0-9]{2}$",
    description="YYYY-MM, a month that has begun.",
)


class ReportStatusDocumentViewSet(DocumentViewSet):
    """The status table of a month's progress reports, in Excel."""

    queryset = MonthlyReport.objects.none()
    lookup_field = "month"
    lookup_value_regex = r"[0-9]{4}-[0-9]{2}"

    @_binary("report_status", "A month's report status table: every active case you may see", [MONTH])
    @action(detail=True, methods=["get"])
    def status(self, request, month=None):
        return self._send("report_status", periods.begun_month(month))
