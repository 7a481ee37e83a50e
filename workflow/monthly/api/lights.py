"""API of the monthly lights: a month's lights, red first; the secretariat computes them on demand.
"""

from django.utils.translation import gettext_lazy as _
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
from rest_framework.response import Response

from cases import permissions as case_permissions
from cases.api import text
from workflow.engine.api.serializers import ProjectRefSerializer
from workflow.engine.api.views import ERRORS, CoordinationAccess
from workflow.engine.models import TaskClock

from .. import lights, periods, selectors
from ..lights import reason_text
from ..models import LightSnapshot
from ..periods import begun_month


class LightReasonSerializer(serializers.Serializer):
    measure = serializers.CharField()
    light = serializers.CharField()
    text = serializers.CharField()


class LightSerializer(serializers.Serializer):
    """A case's light for a month, with the reasons that made it and next month's forecast."""

    project = serializers.SerializerMethodField()
    month = serializers.DateField()
    light = serializers.CharField()
    reasons = serializers.SerializerMethodField()
    expected_progress = serializers.DecimalField(max_digits=6, decimal_places=2)
    completed_progress = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    lag = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    consecutive_red = serializers.IntegerField()
    forecast = serializers.CharField()
    forecast_lag = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    interview_proposed = serializers.BooleanField()
    computed_at = serializers.DateTimeField()

    @extend_schema_field(ProjectRefSerializer)
    def get_project(self, snapshot):
        return {"id": snapshot.project_id, "code": snapshot.project.code, "name": snapshot.project.name}

    @extend_schema_field(LightReasonSerializer(many=True))
    def get_reasons(self, snapshot):
        return [
            {"measure": reason.get("measure", ""), "light": reason.get("light", ""), "text": reason_text(reason)}
            for reason in snapshot.reasons
        ]


class ComputeLightsSerializer(text.Serializer):
    month = serializers.RegexField(r"^\d{4}-(0[1-9]|1[0-2])$", help_text="YYYY-MM, a month that has begun.")

    def validate_month(self, value):
        month = begun_month(value)
        if month is None:
            raise serializers.ValidationError(_("Choose a month that has begun, as YYYY-MM."))
        return month


class LightViewSet(viewsets.GenericViewSet):
    """The monthly lights of the cases you may see; the secretariat computes them on demand."""

    permission_classes = [drf_permissions.IsAuthenticated, CoordinationAccess]
    serializer_class = LightSerializer
    queryset = TaskClock.objects.none()
    filter_backends = []

    @extend_schema(
        summary="A month's lights, red first",
        parameters=[
            OpenApiParameter("month", str, description="YYYY-MM; the newest month with lights when absent."),
            OpenApiParameter("light", str, enum=["green", "yellow", "red"], description="Only this light."),
        ],
        responses={200: LightSerializer(many=True), 400: ERRORS[400]},
    )
    def list(self, request):
        raw = request.query_params.get("month")
        month = periods.month_param(raw)
        if raw and month is None:
            return Response({"month": [_("Choose a month that has begun, as YYYY-MM.")]}, status=400)
        light = request.query_params.get("light") or None
        if light not in (None, "green", "yellow", "red"):
            return Response({"light": [_("One of green, yellow or red.")]}, status=400)
        if month is None:
            months = selectors.light_months()
            month = months[0] if months else None
        rows = selectors.lights(request.user, month, light) if month else LightSnapshot.objects.none()
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(LightSerializer(page, many=True).data)

    @extend_schema(
        summary="Compute a month's lights now (the secretariat)",
        request=ComputeLightsSerializer,
        responses={
            200: OpenApiResponse(description="How many cases got a light: {\"month\": \"2026-10\", \"computed\": 80}."),
            400: ERRORS[400],
            403: OpenApiResponse(description="Only the secretariat computes lights."),
        },
    )
    @action(detail=False, methods=["post"])
    def compute(self, request):
        if not case_permissions.is_secretariat(request.user):
            raise PermissionDenied(_("Only the secretariat computes lights."))
        serializer = ComputeLightsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        month = serializer.validated_data["month"]
        computed = lights.lights_compute(month=month)
        return Response({"month": f"{month:%Y-%m}", "computed": len(computed)})
