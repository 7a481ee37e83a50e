"""API of the financing statistics (the dashboard's figures and its Excel workbook) and of the
institution portal's summary, under /api/financing/ and /api/portal/."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions as drf_permissions
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.models import Industry, Stage

from .. import permissions
from .. import stats as financing_stats
from ..models import DockingState, FinancingType
from ..views.stats import XLSX, StatisticsFilterForm

MONEY = {"max_digits": 18, "decimal_places": 2}
PERCENT = {"max_digits": 9, "decimal_places": 1, "allow_null": True}


class StatisticsAccess(drf_permissions.BasePermission):
    """Government people and institutions' people; each reads the figures of their scope."""

    def has_permission(self, request, view):
        return permissions.can_view_financing_statistics(request.user)


class PortalAccess(drf_permissions.BasePermission):
    """An institution's people."""

    def has_permission(self, request, view):
        return permissions.can_use_institution_portal(request.user)


class StatisticsMeasuresSerializer(serializers.Serializer):
    needed = serializers.DecimalField(**MONEY, help_text="Yuan needed by needs published in the period.")
    needed_count = serializers.IntegerField()
    intended = serializers.DecimalField(**MONEY, help_text="Yuan intended by dockings that reached a signed intent.")
    intended_count = serializers.IntegerField()
    approved = serializers.DecimalField(**MONEY, help_text="Yuan of credit approved.")
    approved_count = serializers.IntegerField()
    disbursed = serializers.DecimalField(**MONEY, help_text="Yuan disbursed.")
    disbursed_count = serializers.IntegerField()


class BreakdownRowSerializer(StatisticsMeasuresSerializer):
    key = serializers.CharField(help_text="The month's number, the industry or stage, or the unit's id.")
    label = serializers.CharField()


class MonthRowSerializer(BreakdownRowSerializer):
    previous = StatisticsMeasuresSerializer(help_text="The same month of last year's same period.")


class GrowthSerializer(serializers.Serializer):
    needed = serializers.DecimalField(**PERCENT)
    intended = serializers.DecimalField(**PERCENT)
    approved = serializers.DecimalField(**PERCENT)
    disbursed = serializers.DecimalField(**PERCENT)


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class FunnelStepSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=DockingState.choices)
    label = serializers.CharField()
    count = serializers.IntegerField(help_text="Dockings opened in the period that reached this step or a later one.")
    conversion = serializers.DecimalField(**PERCENT, help_text="Percent of the step before.")
    share_of_first = serializers.DecimalField(**PERCENT, help_text="Percent of all dockings opened.")


class FunnelSerializer(serializers.Serializer):
    steps = FunnelStepSerializer(many=True)
    declined = serializers.IntegerField()
    total = serializers.IntegerField()


class SpreadRowSerializer(serializers.Serializer):
    institutions = serializers.IntegerField()
    projects = serializers.IntegerField()


class InstitutionsPerProjectSerializer(serializers.Serializer):
    projects = serializers.IntegerField(help_text="Projects with a docking opened in the period.")
    dockings = serializers.IntegerField(help_text="Distinct institutions summed over those projects.")
    average = serializers.DecimalField(max_digits=9, decimal_places=2, allow_null=True)
    distribution = SpreadRowSerializer(many=True)


class StatisticsSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    period = PeriodSerializer()
    previous_period = PeriodSerializer()
    filters = serializers.DictField(child=serializers.CharField())
    totals = StatisticsMeasuresSerializer()
    previous_totals = StatisticsMeasuresSerializer()
    growth = GrowthSerializer(help_text="Percent growth on last year's same period; null when it had nothing.")
    by_month = MonthRowSerializer(many=True)
    by_industry = BreakdownRowSerializer(many=True)
    by_institution = BreakdownRowSerializer(many=True)
    by_region = BreakdownRowSerializer(many=True)
    by_stage = BreakdownRowSerializer(many=True)
    funnel = FunnelSerializer()
    institutions_per_project = InstitutionsPerProjectSerializer()


PARAMETERS = [
    OpenApiParameter("year", int, description="The calendar year; this year (to today) when absent."),
    OpenApiParameter("industry", str, enum=Industry.values),
    OpenApiParameter("region", int, description="A district's unit id."),
    OpenApiParameter("institution", int, description="An institution's unit id."),
    OpenApiParameter("stage", str, enum=Stage.values, description="The stage the case is in now."),
    OpenApiParameter("financing_type", str, enum=FinancingType.values),
]
BAD_INPUT = OpenApiResponse(description="A parameter is not valid, by name.")
FORBIDDEN = OpenApiResponse(description="Your role has no financing statistics.")


def _arguments(request):
    form = StatisticsFilterForm(request.query_params or None, user=request.user)
    if request.query_params and not form.is_valid():
        errors = {name: [str(message) for message in messages] for name, messages in form.errors.items()}
        return None, Response(errors, status=status.HTTP_400_BAD_REQUEST)
    return (form.statistics_arguments() if request.query_params else {"year": None}), None


def _stringify_keys(data):
    for name in ("by_month", "by_industry", "by_institution", "by_region", "by_stage"):
        for row in data[name]:
            row["key"] = str(row["key"])
    data["filters"] = {name: str(value) for name, value in data["filters"].items()}
    return data


class StatisticsView(APIView):
    """The figures of the financing dashboard, for the caller's scope."""

    permission_classes = [drf_permissions.IsAuthenticated, StatisticsAccess]

    @extend_schema(
        summary="Financing statistics",
        parameters=PARAMETERS,
        responses={200: StatisticsSerializer, 400: BAD_INPUT, 403: FORBIDDEN},
    )
    def get(self, request):
        arguments, error = _arguments(request)
        if error is not None:
            return error
        data = _stringify_keys(financing_stats.statistics(request.user, **arguments))
        return Response(StatisticsSerializer(data).data)


class StatisticsWorkbookView(APIView):
    """The same figures as an Excel workbook, amounts in ten-thousand yuan."""

    permission_classes = [drf_permissions.IsAuthenticated, StatisticsAccess]

    def perform_content_negotiation(self, request, force=False):
        # The file is not rendered by DRF: an Accept header asking for it must not make a 406.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        summary="Financing statistics as an Excel workbook",
        parameters=PARAMETERS,
        responses={(200, XLSX): OpenApiResponse(response=OpenApiTypes.BINARY), 400: BAD_INPUT, 403: FORBIDDEN},
    )
    def get(self, request):
        arguments, error = _arguments(request)
        if error is not None:
            return error
        data = financing_stats.statistics(request.user, **arguments)
        response = HttpResponse(financing_stats.statistics_workbook(data), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{financing_stats.workbook_name(data)}"'
        return response


class PortalInstitutionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class StateCountSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=DockingState.choices)
    label = serializers.CharField()
    count = serializers.IntegerField()
    intended = serializers.DecimalField(**MONEY)
    approved = serializers.DecimalField(**MONEY)
    disbursed = serializers.DecimalField(**MONEY)


class PortalSummarySerializer(serializers.Serializer):
    institutions = PortalInstitutionSerializer(many=True, help_text="The caller's institution and its branches.")
    dockings = StateCountSerializer(many=True, help_text="The institution's dockings by state, with their amounts.")
    open_dockings = serializers.IntegerField()
    products = serializers.IntegerField()
    active_products = serializers.IntegerField()
    white_list = serializers.IntegerField(help_text="Needs published on the white list.")
    white_list_amount = serializers.DecimalField(**MONEY)
    matched_needs = serializers.IntegerField(help_text="Published needs matched with the institution's products.")
    matched_not_docked = serializers.IntegerField(help_text="Of those, the ones the institution has no docking on yet.")


class PortalView(APIView):
    """An institution's portal at a glance: its dockings, products and the white list's needs."""

    permission_classes = [drf_permissions.IsAuthenticated, PortalAccess]

    @extend_schema(
        summary="The institution portal's summary",
        responses={200: PortalSummarySerializer, 403: OpenApiResponse(description="Only institutions' people.")},
    )
    def get(self, request):
        return Response(PortalSummarySerializer(financing_stats.portal_summary(request.user)).data)
