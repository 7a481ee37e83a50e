"""API of the bulletin (通报): bulletins with their scores, scoring and issuing, exemptions, and the
dashboard's figures. Everyone inside government reads; the secretariat scores, issues and exempts.
"""

from django.db.models import F, Prefetch
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions as drf_permissions
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.api import text
from cases.models import KeyProject
from workflow.engine.api.serializers import ProjectRefSerializer, RefSerializer
from workflow.engine.api.views import CoordinationAccess

from .. import bulletin as bulletins
from .. import dashboard
from ..models import Bulletin, ScoreExemption, ScoreMeasure, UnitScore
from ..periods import begun_month, month_param

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
ERRORS = {
    400: OpenApiResponse(description="Bad input, by field."),
    403: OpenApiResponse(description="Only the secretariat scores, issues and grants exemptions."),
    404: OpenApiResponse(description="Not found, or not yours to read (a draft, for a unit)."),
    409: OpenApiResponse(description="The bulletin has been issued: its scores and exemptions are final."),
}
MONTH_QUERY = OpenApiParameter("month", str, description="YYYY-MM.")


class MeasureSerializer(serializers.Serializer):
    score = serializers.FloatField(allow_null=True, help_text="0 to 100; null when there was nothing to score.")
    done = serializers.IntegerField()
    of = serializers.IntegerField()
    exempt = serializers.BooleanField(help_text="An exemption applied to this measure.")


MeasuresSerializer = type(
    "MeasuresSerializer",
    (serializers.Serializer,),
    {measure.value: MeasureSerializer(required=False) for measure in ScoreMeasure},
)


class UnitScoreSerializer(serializers.Serializer):
    unit = RefSerializer()
    group = serializers.ChoiceField(choices=[group.value for group in bulletins.SCORED_GROUPS])
    measures = MeasuresSerializer()
    total = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    rank = serializers.IntegerField(allow_null=True)
    listing = serializers.ChoiceField(choices=UnitScore.Listing.choices, allow_blank=True)


class BulletinSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    month = serializers.DateField()
    number = serializers.CharField()
    state = serializers.ChoiceField(choices=Bulletin.State.choices)
    computed_at = serializers.DateTimeField()
    issued_at = serializers.DateTimeField(allow_null=True)
    scores = UnitScoreSerializer(many=True, source="ordered_scores")


class ComputeSerializer(text.Serializer):
    month = serializers.RegexField(MONTH_PATTERN, help_text="YYYY-MM, a month that has begun.")

    def validate_month(self, value):
        month = begun_month(value)
        if month is None:
            raise serializers.ValidationError(_("Choose a month that has begun, as YYYY-MM."))
        return month


class ExemptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    unit = RefSerializer()
    month = serializers.DateField()
    measure = serializers.ChoiceField(choices=ScoreMeasure.choices)
    project = ProjectRefSerializer(allow_null=True)
    reason = serializers.CharField()
    created_by = serializers.CharField(source="granted_by_name")
    created_at = serializers.DateTimeField()


class ExemptionCreateSerializer(ComputeSerializer):
    unit = serializers.PrimaryKeyRelatedField(queryset=bulletins.scored_units())
    measure = serializers.ChoiceField(choices=ScoreMeasure.choices)
    project = serializers.PrimaryKeyRelatedField(queryset=KeyProject.objects.all(), allow_null=True, required=False)
    reason = serializers.CharField(max_length=2000)


class ChartMonthSerializer(serializers.Serializer):
    month = serializers.DateField()
    expected = serializers.DecimalField(max_digits=18, decimal_places=2)
    completed_in_month = serializers.DecimalField(max_digits=18, decimal_places=2)
    completed_to_date = serializers.DecimalField(max_digits=18, decimal_places=2)


class InvestmentSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    planned = serializers.DecimalField(max_digits=18, decimal_places=2)
    completed = serializers.DecimalField(max_digits=18, decimal_places=2)
    expected_progress = serializers.DecimalField(max_digits=6, decimal_places=2)
    months = ChartMonthSerializer(many=True)


class LightMonthSerializer(serializers.Serializer):
    month = serializers.DateField()
    green = serializers.IntegerField()
    yellow = serializers.IntegerField()
    red = serializers.IntegerField()


class OverdueUnitSerializer(serializers.Serializer):
    unit = serializers.IntegerField()
    name = serializers.CharField()
    overdue = serializers.IntegerField()


class OverdueByUnitSerializer(serializers.Serializer):
    units = OverdueUnitSerializer(many=True)
    total = serializers.IntegerField()


class RankingSerializer(serializers.Serializer):
    group = serializers.CharField()
    label = serializers.CharField()
    scores = UnitScoreSerializer(many=True)


class IndustryFiguresSerializer(serializers.Serializer):
    listed = serializers.IntegerField(help_text="Cases on the key list (past the reserve pool, not withdrawn).")
    pipeline = serializers.IntegerField(help_text="Cases in 谋划 and the reserve pool.")
    total = serializers.DecimalField(max_digits=18, decimal_places=2, help_text="Total investment of the listed, yuan.")
    planned = serializers.DecimalField(max_digits=18, decimal_places=2, help_text="The year's plan of the listed, yuan.")
    completed = serializers.DecimalField(max_digits=18, decimal_places=2, help_text="Completed this year, yuan.")
    completed_share = serializers.DecimalField(max_digits=7, decimal_places=1, allow_null=True)


class IndustryRowSerializer(IndustryFiguresSerializer):
    industry = serializers.CharField()
    label = serializers.CharField()
    strategic = serializers.BooleanField(help_text="A strategic emerging industry.")


class ClusterRowSerializer(IndustryFiguresSerializer):
    cluster = serializers.IntegerField()
    label = serializers.CharField()
    industry = serializers.CharField()


class IndustriesSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    industries = IndustryRowSerializer(many=True)
    clusters = ClusterRowSerializer(many=True)


class DashboardSerializer(serializers.Serializer):
    bulletin = serializers.DictField(allow_null=True, help_text="The bulletin ranked: id, month, number, state.")
    ranking = RankingSerializer(many=True)
    investment = InvestmentSerializer()
    lights = LightMonthSerializer(many=True)
    overdue = OverdueByUnitSerializer()
    industries = IndustriesSerializer()


def _score_row(score):
    return {
        "unit": {"id": score.unit_id, "name": score.unit.name},
        "group": score.group,
        "measures": score.measures,
        "total": score.total,
        "rank": score.rank,
        "listing": score.listing,
    }


def _bulletin_row(bulletin):
    return {
        "id": bulletin.pk,
        "month": bulletin.month,
        "number": bulletin.number,
        "state": bulletin.state,
        "computed_at": bulletin.computed_at,
        "issued_at": bulletin.issued_at,
        "ordered_scores": [_score_row(score) for score in bulletin.ordered_scores],
    }


def _exemption_row(exemption):
    person = getattr(exemption.created_by, "person", None)
    return {
        "id": exemption.pk,
        "unit": {"id": exemption.unit_id, "name": exemption.unit.name},
        "month": exemption.month,
        "measure": exemption.measure,
        "project": (
            {"id": exemption.project_id, "code": exemption.project.code, "name": exemption.project.name}
            if exemption.project_id
            else None
        ),
        "reason": exemption.reason,
        "granted_by_name": person.name if person else exemption.created_by.get_username(),
        "created_at": exemption.created_at,
    }


def _with_scores(queryset):
    return queryset.prefetch_related(
        Prefetch(
            "scores",
            queryset=UnitScore.objects.select_related("unit").order_by(
                "group", F("rank").asc(nulls_last=True), "unit__name"
            ),
            to_attr="ordered_scores",
        )
    )


def _secretariat_only(user):
    if not bulletins.can_manage(user):
        raise PermissionDenied(_("Only the secretariat scores, issues and grants exemptions."))


class BulletinViewSet(viewsets.GenericViewSet):
    """Monthly bulletins with each unit's scores; the secretariat scores a month and issues it."""

    permission_classes = [drf_permissions.IsAuthenticated, CoordinationAccess]
    serializer_class = BulletinSerializer
    queryset = Bulletin.objects.none()
    filter_backends = []
    lookup_value_regex = r"[0-9]+"

    def get_object(self):
        try:
            pk = int(self.kwargs["pk"])
        except (TypeError, ValueError):
            raise Http404 from None
        bulletin = _with_scores(bulletins.bulletins(self.request.user).filter(pk=pk)).first()
        if bulletin is None:
            raise Http404
        return bulletin

    @extend_schema(summary="Bulletins you may read, newest first, with every unit's scores")
    def list(self, request):
        page = self.paginate_queryset(_with_scores(bulletins.bulletins(request.user)))
        return self.get_paginated_response(BulletinSerializer([_bulletin_row(b) for b in page], many=True).data)

    @extend_schema(summary="A bulletin with every unit's scores", responses={200: BulletinSerializer, 404: ERRORS[404]})
    def retrieve(self, request, pk=None):
        return Response(BulletinSerializer(_bulletin_row(self.get_object())).data)

    @extend_schema(
        summary="Score a month now (the secretariat): creates its draft bulletin or replaces the draft's scores",
        request=ComputeSerializer,
        responses={200: BulletinSerializer, 400: ERRORS[400], 403: ERRORS[403], 409: ERRORS[409]},
    )
    @action(detail=False, methods=["post"])
    def compute(self, request):
        _secretariat_only(request.user)
        body = ComputeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        bulletin = bulletins.bulletin_compute(month=body.validated_data["month"])
        return Response(BulletinSerializer(_bulletin_row(_with_scores(Bulletin.objects.filter(pk=bulletin.pk)).get())).data)

    @extend_schema(
        summary="Issue a draft bulletin (the secretariat): its scores become final and unit heads are told",
        request=None,
        responses={200: BulletinSerializer, 403: ERRORS[403], 404: ERRORS[404], 409: ERRORS[409]},
    )
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        _secretariat_only(request.user)
        bulletin = bulletins.bulletin_issue(bulletin=self.get_object(), actor=request.user)
        return Response(BulletinSerializer(_bulletin_row(_with_scores(Bulletin.objects.filter(pk=bulletin.pk)).get())).data)


class ExemptionViewSet(viewsets.GenericViewSet):
    """Items taken out of a unit's score for a month, with the reason; granted and revoked by the secretariat."""

    permission_classes = [drf_permissions.IsAuthenticated, CoordinationAccess]
    serializer_class = ExemptionSerializer
    queryset = ScoreExemption.objects.none()
    filter_backends = []
    lookup_value_regex = r"[0-9]+"

    @extend_schema(
        summary="Exemptions you may read, newest month first",
        parameters=[MONTH_QUERY],
        responses={200: ExemptionSerializer(many=True), 400: ERRORS[400]},
    )
    def list(self, request):
        raw = request.query_params.get("month")
        month = month_param(raw)
        if raw and month is None:
            return Response({"month": [str(_("A month as YYYY-MM."))]}, status=status.HTTP_400_BAD_REQUEST)
        page = self.paginate_queryset(bulletins.exemptions(request.user, month))
        return self.get_paginated_response(ExemptionSerializer([_exemption_row(e) for e in page], many=True).data)

    @extend_schema(
        summary="Grant an exemption (the secretariat): without a project it takes the whole measure out",
        request=ExemptionCreateSerializer,
        responses={201: ExemptionSerializer, 400: ERRORS[400], 403: ERRORS[403], 409: ERRORS[409]},
    )
    def create(self, request):
        _secretariat_only(request.user)
        body = ExemptionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        exemption = bulletins.exemption_grant(actor=request.user, **body.validated_data)
        exemption = bulletins.exemptions(request.user).get(pk=exemption.pk)
        return Response(ExemptionSerializer(_exemption_row(exemption)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Revoke an exemption (the secretariat)",
        responses={204: None, 403: ERRORS[403], 404: ERRORS[404], 409: ERRORS[409]},
    )
    def destroy(self, request, pk=None):
        _secretariat_only(request.user)
        try:
            exemption = bulletins.exemptions(request.user).filter(pk=int(pk)).first()
        except (TypeError, ValueError):
            exemption = None
        if exemption is None:
            raise Http404
        bulletins.exemption_revoke(exemption=exemption, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DashboardView(APIView):
    """The dashboard's figures: investment against plan by month, lights over time, the ranking,
    overdue work by unit."""

    permission_classes = [drf_permissions.IsAuthenticated, CoordinationAccess]

    @extend_schema(
        summary="The dashboard's chart data",
        parameters=[OpenApiParameter("month", str, description="YYYY-MM: the bulletin ranked; the newest when absent.")],
        responses={200: DashboardSerializer, 400: ERRORS[400]},
    )
    def get(self, request):
        raw = request.query_params.get("month")
        month = month_param(raw)
        if raw and month is None:
            return Response({"month": [str(_("A month as YYYY-MM."))]}, status=status.HTTP_400_BAD_REQUEST)
        data = dashboard.dashboard(request.user, month=month)
        bulletin = data["bulletin"]
        body = {
            "bulletin": (
                {"id": bulletin.pk, "month": bulletin.month.isoformat(), "number": bulletin.number, "state": bulletin.state}
                if bulletin
                else None
            ),
            "ranking": [
                {"group": group, "label": str(label), "scores": [_score_row(score) for score in scores]}
                for group, label, scores in data["ranking"]
            ],
            "investment": data["investment"],
            "lights": data["lights"],
            "overdue": data["overdue"],
            "industries": data["industries"],
        }
        return Response(DashboardSerializer(body).data)
