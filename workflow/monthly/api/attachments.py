"""API of a monthly report's photos and files: each sent as the report page sends it, to those
who may see the report, under /api/reports/{report_id}/attachments/{attachment_id}/."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions as drf_permissions
from rest_framework import viewsets

from cases import uploads

from .. import selectors
from ..models import ReportAttachment
from ..pages.attachments import attachment_response

SERVED_TYPES = sorted({kind.content_type.split(";")[0] for kind in uploads.TYPES.values()} | {uploads.OCTET_STREAM})
FILE = OpenApiResponse(
    response=OpenApiTypes.BINARY,
    description=(
        "The file's bytes, typed by what its content was checked to be when it was uploaded; a photo "
        "inline, anything else as an attachment. A file kept before the check: application/octet-stream."
    ),
)


class ReportAttachmentViewSet(viewsets.GenericViewSet):
    """A report's photo or file, for those who may see the report; 404 for anyone else, whatever
    their role, so that the answer does not tell whether it exists."""

    # Not CoordinationAccess: an outsider gets the same 404 as a unit that may not see the report.
    permission_classes = [drf_permissions.IsAuthenticated]
    queryset = ReportAttachment.objects.none()
    filter_backends = []
    pagination_class = None
    lookup_url_kwarg = "attachment_id"
    lookup_value_regex = r"[0-9]+"

    def perform_content_negotiation(self, request, force=False):
        # The file is not rendered by DRF; an Accept header asking for its type must not make a
        # 406, and errors go out as JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        summary="A photo or file of a monthly report",
        parameters=[
            OpenApiParameter("report_id", int, OpenApiParameter.PATH, description="The report's id."),
            OpenApiParameter("attachment_id", int, OpenApiParameter.PATH, description="The attachment's id."),
        ],
        responses={
            **{(200, content_type): FILE for content_type in SERVED_TYPES},
            404: OpenApiResponse(description="No such attachment of this report, or a report you may not see."),
        },
    )
    def retrieve(self, request, report_id=None, attachment_id=None):
        attachment = selectors.attachment_for(request.user, int(report_id), int(attachment_id))
        if attachment is None:
            raise Http404
        return attachment_response(attachment)
