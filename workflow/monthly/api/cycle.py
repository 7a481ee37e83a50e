"""API of the monthly cycle's timeline and its reports: scoped by the selectors, every change
through a service."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import permissions as drf_permissions
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from viewflow.workflow.exceptions import FlowLockFailed

from cases import permissions as case_permissions
from cases import services as case_services
from cases import uploads
from cases.api import text
from cases.models import BlockerCategory
from workflow.engine import services as engine_services
from workflow.engine.api.views import ERRORS, CoordinationAccess

from .. import periods, reports, selectors, timeline
from .. import services as monthly_services
from ..acceptance import BUSY, BUSY_ONE
from ..models import CycleStep, MonthlyReport, ReportAcceptance
from ..reports import ACCEPT_MAX, MAX_ID
from ..tasks import run_cycle_step


class MonthField(serializers.RegexField):
    """A month that has begun, as YYYY-MM, validated to its first day."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "YYYY-MM, a month that has begun.")
        super().__init__(r"^\d{4}-(0[1-9]|1[0-2])$", **kwargs)

    def run_validation(self, data=serializers.empty):
        month = periods.begun_month(super().run_validation(data))
        if month is None:
            raise serializers.ValidationError(_("Choose a month that has begun, as YYYY-MM."))
        return month


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-10"})
class MonthOutField(serializers.DateField):
    """A month as the API writes it, YYYY-MM (its schema says so, not "a date")."""

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m", **kwargs)


class CycleRunSerializer(serializers.Serializer):
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    result = serializers.DictField()
    error = serializers.CharField()


class CycleStepSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CycleStep.Kind.choices)
    label = serializers.CharField()
    working_day = serializers.IntegerField()
    date = serializers.DateField()
    status = serializers.ChoiceField(choices=["done", "failed", "running", "late", "next", "upcoming", "inactive"])
    run = CycleRunSerializer(allow_null=True)


class RunStepSerializer(text.Serializer):
    step = serializers.ChoiceField(choices=CycleStep.Kind.choices)
    month = MonthField()


class CycleViewSet(viewsets.GenericViewSet):
    """The steps of a month's cycle with their day and state; the secretariat runs one now."""

    permission_classes = [drf_permissions.IsAuthenticated, CoordinationAccess]
    serializer_class = CycleStepSerializer
    queryset = MonthlyReport.objects.none()
    filter_backends = []
    pagination_class = None

    @extend_schema(
        summary="The steps of a month's cycle, in their order",
        parameters=[OpenApiParameter("month", str, description="YYYY-MM, the month the cycle runs in; this month when absent.")],
        responses={200: CycleStepSerializer(many=True), 400: ERRORS[400]},
    )
    def list(self, request):
        raw = request.query_params.get("month")
        month = periods.begun_month(raw) if raw else periods.first_of_month(timezone.localdate())
        if month is None:
            return Response({"month": [_("Choose a month that has begun, as YYYY-MM.")]}, status=400)
        return Response(CycleStepSerializer(timeline.timeline(month), many=True).data)

    @extend_schema(
        summary="Run a step of a month's cycle now (the secretariat); it runs on a worker",
        request=RunStepSerializer,
        responses={
            202: OpenApiResponse(description="Started: {\"step\": \"lights\", \"month\": \"2026-11\"}."),
            400: ERRORS[400],
            403: OpenApiResponse(description="Only the secretariat runs cycle steps."),
        },
    )
    @action(detail=False, methods=["post"])
    def run(self, request):
        if not case_permissions.is_secretariat(request.user):
            raise PermissionDenied(_("Only the secretariat runs cycle steps."))
        serializer = RunStepSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        kind, month = serializer.validated_data["step"], serializer.validated_data["month"]
        transaction.on_commit(lambda: run_cycle_step.delay(kind, month.isoformat(), True))
        return Response({"step": kind, "month": f"{month:%Y-%m}"}, status=202)


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()
    content_type = serializers.SerializerMethodField(help_text="The type the file is sent as.")
    url = serializers.SerializerMethodField(help_text="Where the file is sent, to those who may see the report.")

    def get_content_type(self, attachment) -> str:
        return uploads.served_as(attachment.file_type)[0]

    def get_url(self, attachment) -> str:
        url = reverse(
            "workflow_api:report-attachment-detail",
            kwargs={"report_id": attachment.report_id, "attachment_id": attachment.pk},
        )
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class ReportSerializer(serializers.ModelSerializer):
    project_code = serializers.CharField(source="project.code")
    project_name = serializers.CharField(source="project.name")
    unit_name = serializers.CharField(source="unit.name")
    month = MonthOutField()
    on_time = serializers.SerializerMethodField()

    class Meta:
        model = MonthlyReport
        fields = [
            "id", "project", "project_code", "project_name", "month", "unit", "unit_name", "state", "due_at",
            "submitted_at", "on_time", "investment_month", "progress_percent", "progress_back_reason", "work_done",
            "next_steps", "problems", "support_needed", "return_reason", "reviewed_at",
        ]

    def get_on_time(self, report) -> bool | None:
        if report.submitted_at is None:
            return None
        return report.submitted_at <= report.due_at


class ReportDetailSerializer(ReportSerializer):
    attachments = AttachmentSerializer(many=True, read_only=True)
    raised_blockers = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta(ReportSerializer.Meta):
        fields = [*ReportSerializer.Meta.fields, "attachments", "raised_blockers"]


class BlockerRowSerializer(text.Serializer):
    title = serializers.CharField(max_length=200)
    category = serializers.ChoiceField(choices=BlockerCategory.choices, default=BlockerCategory.OTHER)
    description = serializers.CharField(required=False, allow_blank=True)


class ReportSubmitSerializer(text.Serializer):
    investment_month = serializers.DecimalField(max_digits=16, decimal_places=2)
    progress_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    progress_back_reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    work_done = serializers.CharField()
    next_steps = serializers.CharField(required=False, allow_blank=True, default="")
    problems = serializers.CharField(required=False, allow_blank=True, default="")
    support_needed = serializers.CharField(required=False, allow_blank=True, default="")
    blockers = BlockerRowSerializer(many=True, required=False, default=list, help_text="Problems to raise as blockers.")
    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, help_text="Photos and files (multipart only)."
    )


class ReportReviewSerializer(text.Serializer):
    accepted = serializers.BooleanField()
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class OpenReportsSerializer(text.Serializer):
    month = MonthField(help_text="YYYY-MM, the month reported on.")


class AcceptReportsSerializer(text.Serializer):
    """Either ``reports`` or ``month`` (with ``unit`` if you like): the reports to accept."""

    reports = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=ACCEPT_MAX,
        help_text="The ids of the reports to accept.",
    )
    month = MonthField(required=False, help_text="YYYY-MM: accept every submitted report on this month instead.")
    unit = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="With month: only this lead unit's reports."
    )

    def validate(self, data):
        if ("reports" in data) == ("month" in data):
            raise serializers.ValidationError(_("Give either the reports' ids or a month."))
        if "unit" in data and "month" not in data:
            raise serializers.ValidationError({"unit": [_("A unit filters a month's reports: give the month too.")]})
        return data


class SkippedReportSerializer(serializers.Serializer):
    report = serializers.IntegerField()
    project = serializers.CharField(help_text="The case's code; empty when the report no longer exists.")
    reason = serializers.ChoiceField(choices=ReportAcceptance.Skip.choices)
    why = serializers.SerializerMethodField()
    detail = serializers.CharField(help_text="What refused it, for reason 'refused' or 'failed'.")

    def get_why(self, row) -> str:
        return str(dict(ReportAcceptance.Skip.choices).get(row["reason"], row["reason"]))


class ReportAcceptanceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    month = MonthOutField(allow_null=True, help_text="Empty when the reports are of several months.")
    requested_at = serializers.DateTimeField()
    status = serializers.SerializerMethodField(help_text="running, done, or stalled (the rest was lost: accept it again).")
    total = serializers.IntegerField()
    accepted = serializers.IntegerField(source="accepted_count")
    skipped_count = serializers.IntegerField()
    pending = serializers.IntegerField(source="pending_count")
    accepted_reports = serializers.ListField(child=serializers.IntegerField(), source="accepted_ids")
    skipped = SkippedReportSerializer(many=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field({"type": "string", "enum": ["running", "done", "stalled"]})
    def get_status(self, acceptance):
        if acceptance.finished_at:
            return "done"
        return "stalled" if selectors.is_stalled(acceptance) else "running"


def _error_response(error):
    if hasattr(error, "error_dict"):
        return Response(error.message_dict, status=400)
    return Response({"detail": error.messages}, status=400)


class ReportViewSet(viewsets.GenericViewSet):
    """Monthly reports of the cases you may see: the lead unit submits, the secretariat reviews."""

    permission_classes = [drf_permissions.IsAuthenticated, CoordinationAccess]
    serializer_class = ReportSerializer
    queryset = MonthlyReport.objects.none()
    filter_backends = []
    lookup_value_regex = r"[0-9]+"
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def _report(self, pk):
        report = selectors.report_for(self.request.user, int(pk))
        if report is None:
            raise Http404
        return report

    @extend_schema(
        summary="A month's reports",
        parameters=[
            OpenApiParameter("month", str, description="YYYY-MM, the month reported on; last month when absent."),
            OpenApiParameter("state", str, enum=MonthlyReport.State.values, description="Only this state."),
            OpenApiParameter("unit", int, description="Only this lead unit's."),
        ],
        responses={200: ReportSerializer(many=True), 400: ERRORS[400]},
    )
    def list(self, request):
        raw = request.query_params.get("month")
        month = periods.month_param(raw)
        errors = {}
        if raw and month is None:
            errors["month"] = [_("Choose a month as YYYY-MM.")]
        state = request.query_params.get("state") or None
        if state and state not in MonthlyReport.State.values:
            errors["state"] = [_("Not a state of a report.")]
        unit = request.query_params.get("unit") or None
        if unit and reports.id_param(unit) is None:
            errors["unit"] = [_("A unit's id is a number.")]
        if errors:
            return Response(errors, status=400)
        rows = selectors.reports(request.user, selectors.month_or_default(month), state=state, unit=unit)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ReportSerializer(page, many=True).data)

    @extend_schema(summary="A report", responses={200: ReportDetailSerializer, 404: ERRORS[404]})
    def retrieve(self, request, pk=None):
        return Response(ReportDetailSerializer(self._report(pk), context={"request": request}).data)

    def _task(self, report, node_name):
        task = selectors.open_task_of(report, node_name)
        if task is None:
            return None
        if not engine_services.can_act(self.request.user, task):
            raise PermissionDenied(_("This task is not yours to do."))
        return task

    @extend_schema(
        summary="Submit the report (its lead unit); JSON, or multipart with photos and files",
        request={"application/json": ReportSubmitSerializer, "multipart/form-data": ReportSubmitSerializer},
        responses={200: ReportDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        report = self._report(pk)
        task = self._task(report, "write")
        if task is None:
            return Response({"detail": _("This report is not waiting to be written.")}, status=409)
        serializer = ReportSubmitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        files, blockers = data.pop("attachments"), data.pop("blockers")
        try:
            with engine_services.task_locked(task):
                reports.report_submit(task=task, user=request.user, data=data, files=files, blockers=blockers)
        except FlowLockFailed:
            return Response({"detail": str(BUSY_ONE)}, status=409)
        except ValidationError as error:
            return _error_response(error)
        except DjangoPermissionDenied as denied:
            raise PermissionDenied(str(denied)) from denied
        except case_services.Conflict as conflict:
            return Response({"detail": conflict.message}, status=409)
        return Response(ReportDetailSerializer(self._report(pk), context={"request": request}).data)

    @extend_schema(
        summary="Accept the report, adding its investment to the case, or send it back (the secretariat)",
        request=ReportReviewSerializer,
        responses={200: ReportDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        report = self._report(pk)
        task = self._task(report, "review")
        if task is None:
            return Response({"detail": _("This report is not waiting for review.")}, status=409)
        serializer = ReportReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            with engine_services.task_locked(task):
                reports.report_review(task=task, user=request.user, **serializer.validated_data)
        except FlowLockFailed:
            return Response({"detail": str(BUSY_ONE)}, status=409)
        except ValidationError as error:
            return _error_response(error)
        except DjangoPermissionDenied as denied:
            raise PermissionDenied(str(denied)) from denied
        return Response(ReportDetailSerializer(self._report(pk), context={"request": request}).data)

    @extend_schema(
        summary="Create the month's missing report tasks now (the secretariat); idempotent",
        request=OpenReportsSerializer,
        responses={
            202: OpenApiResponse(
                response=OpenApiTypes.OBJECT,
                description="{\"created\": 59, \"pending\": 59, \"batches\": 1}: rows created, flows to start, batches queued.",
            ),
            400: ERRORS[400],
            403: OpenApiResponse(description="Only the secretariat opens reports."),
        },
    )
    @action(detail=False, methods=["post"], url_path="open")
    def open_reports(self, request):
        if not case_permissions.is_secretariat(request.user):
            raise PermissionDenied(_("Only the secretariat opens reports."))
        serializer = OpenReportsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(monthly_services.reports_open(month=serializer.validated_data["month"]), status=202)

    @extend_schema(
        summary="Accept many submitted reports at once (the secretariat), each as its review would",
        description=(
            "A few are accepted in the request (200); more on the workers (202), whose progress "
            "GET /api/reports/acceptances/{acceptance_id}/ gives. A report no longer waiting for review is "
            "skipped with the reason."
        ),
        request=AcceptReportsSerializer,
        responses={
            200: ReportAcceptanceSerializer,
            202: ReportAcceptanceSerializer,
            400: OpenApiResponse(description="No reports, unknown ids, or a month with nothing submitted."),
            403: OpenApiResponse(description="Only the secretariat accepts reports."),
            409: OpenApiResponse(description="A review of one of the reports is being posted: nothing was accepted."),
        },
    )
    @action(detail=False, methods=["post"], url_path="accept")
    def accept(self, request):
        if not case_permissions.is_secretariat(request.user):
            raise PermissionDenied(_("Only the secretariat accepts reports."))
        serializer = AcceptReportsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "month" in data:
            ids = selectors.submitted_report_ids(request.user, data["month"], unit=data.get("unit"))
            if not ids:
                return Response({"month": [_("No submitted report of this month to accept.")]}, status=400)
        else:
            ids = data["reports"]
        try:
            acceptance = monthly_services.reports_accept_many(user=request.user, report_ids=ids)
        except ValidationError as error:
            return _error_response(error)
        except FlowLockFailed:
            return Response({"detail": str(BUSY)}, status=409)
        return Response(ReportAcceptanceSerializer(acceptance).data, status=200 if acceptance.finished_at else 202)

    @extend_schema(
        summary="How far an acceptance of many reports got (the secretariat)",
        parameters=[OpenApiParameter("acceptance_id", int, OpenApiParameter.PATH, description="The acceptance's id.")],
        responses={
            200: ReportAcceptanceSerializer,
            403: OpenApiResponse(description="Only the secretariat accepts reports."),
            404: ERRORS[404],
        },
    )
    @action(detail=False, methods=["get"], url_path=r"acceptances/(?P<acceptance_id>[0-9]+)")
    def acceptance(self, request, acceptance_id=None):
        if not case_permissions.is_secretariat(request.user):
            raise PermissionDenied(_("Only the secretariat accepts reports."))
        acceptance = selectors.acceptance_for(request.user, int(acceptance_id))
        if acceptance is None:
            raise Http404
        return Response(ReportAcceptanceSerializer(acceptance).data)
