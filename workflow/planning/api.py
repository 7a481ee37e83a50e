"""API of the annual plan (DRF, schema generated): the compilations, a year's check against the
targets, the proposals a person sees; a unit proposes, the secretariat decides and publishes.
Amounts are yuan, as stored; the year is a parameter, never a path segment."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions as drf_permissions
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from cases.api import text
from workflow.engine.api.views import CoordinationAccess

from . import adjustments, selectors, services
from .models import PlanCompilation, PlanProposal, PlanVersion

MONEY = {"max_digits": 16, "decimal_places": 2}
YEAR = OpenApiParameter("year", int, required=True, description="The plan's year, such as 2027.")
ERRORS = {
    400: OpenApiResponse(description="Bad input or a guard refused: the reasons, by field."),
    403: OpenApiResponse(description="Not your role's or your unit's to do."),
    404: OpenApiResponse(description="No compilation of that year, or not one you may see."),
}


class CompilationSerializer(serializers.ModelSerializer):
    proposal_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = PlanCompilation
        fields = ["year", "state", "deadline", "target_total", "adjust_from", "adjust_to", "published_at", "proposal_count"]


class ProposalSerializer(serializers.ModelSerializer):
    project_code = serializers.CharField(source="project.code", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)

    class Meta:
        model = PlanProposal
        fields = ["id", "project", "project_code", "unit", "unit_name", "planned_year", "planned_next",
                  "planned_after", "planned_start", "state", "return_reason"]


class CheckRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    amount = serializers.DecimalField(**MONEY)
    target = serializers.DecimalField(**MONEY, allow_null=True)
    gap = serializers.DecimalField(**MONEY, allow_null=True)
    percent = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)


class CheckTotalSerializer(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY)
    target = serializers.DecimalField(**MONEY, allow_null=True)
    gap = serializers.DecimalField(**MONEY, allow_null=True)
    percent = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)


class CheckSerializer(serializers.Serializer):
    total = CheckTotalSerializer()
    groups = CheckRowSerializer(many=True)
    industries = CheckRowSerializer(many=True)
    states = serializers.DictField(child=serializers.IntegerField())


class ProposeSerializer(text.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    project = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    planned_year = serializers.DecimalField(**MONEY, min_value=0, help_text="Yuan.")
    planned_next = serializers.DecimalField(**MONEY, min_value=0, help_text="Yuan.")
    planned_after = serializers.DecimalField(**MONEY, min_value=0, help_text="Yuan.")
    planned_start = serializers.DateField()


class DecideSerializer(text.Serializer):
    proposal = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    decision = serializers.ChoiceField(choices=["accept", "return"])
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class PublishSerializer(text.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)


class WindowSerializer(text.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    start = serializers.DateField()
    end = serializers.DateField()


class AdjustSerializer(text.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    change = serializers.ChoiceField(choices=[PlanVersion.Change.ADDED, PlanVersion.Change.DROPPED, PlanVersion.Change.REPLANNED])
    project = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    reason = serializers.CharField(max_length=500)
    planned_year = serializers.DecimalField(**MONEY, min_value=0, required=False, help_text="Yuan; not for a drop.")
    planned_next = serializers.DecimalField(**MONEY, min_value=0, required=False, help_text="Yuan; not for a drop.")
    planned_after = serializers.DecimalField(**MONEY, min_value=0, required=False, help_text="Yuan; not for a drop.")
    planned_start = serializers.DateField(required=False, help_text="Not for a drop.")


class VersionSerializer(serializers.ModelSerializer):
    project_code = serializers.CharField(source="project.code", read_only=True, default=None)
    made_by = serializers.CharField(source="created_by.username", read_only=True, default=None)
    entry_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = PlanVersion
        fields = ["number", "change", "project", "project_code", "reason", "made_by", "created_at", "entry_count"]


class DiffEntrySerializer(serializers.Serializer):
    project = serializers.IntegerField(source="project_id")
    project_code = serializers.CharField(source="project.code")
    planned_year = serializers.DecimalField(**MONEY)
    planned_next = serializers.DecimalField(**MONEY)
    planned_after = serializers.DecimalField(**MONEY)
    planned_start = serializers.DateField()


class DiffFieldSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.CharField()
    new = serializers.CharField()


class DiffChangedSerializer(serializers.Serializer):
    project = serializers.IntegerField()
    project_code = serializers.CharField()
    fields = DiffFieldSerializer(many=True)


class DiffSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    older = serializers.IntegerField()
    newer = serializers.IntegerField()
    added = DiffEntrySerializer(many=True)
    dropped = DiffEntrySerializer(many=True)
    changed = DiffChangedSerializer(many=True)


VERSION_NUMBER = {"min_value": 1, "max_value": 100000}


def _refused(error):
    if hasattr(error, "error_dict"):
        return Response(error.message_dict, status=400)
    return Response({"non_field_errors": error.messages}, status=400)


class PlanViewSet(viewsets.GenericViewSet):
    """The annual investment plans: compilations, the check, the proposals."""

    permission_classes = [drf_permissions.IsAuthenticated, CoordinationAccess]
    serializer_class = CompilationSerializer
    queryset = PlanCompilation.objects.none()
    filter_backends = []
    pagination_class = None

    def _compilation(self, raw):
        """The compilation of the year ``raw`` that the person may see; 404 otherwise."""
        raw = str(raw or "")
        year = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 6 else None
        compilation = selectors.compilation_of(self.request.user, year) if year else None
        if compilation is None:
            raise NotFound(_("No compilation of that year."))
        return compilation

    def _posted(self, serializer_class):
        """The request's body, validated (400 with the errors by field), and its year's compilation."""
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data, self._compilation(serializer.validated_data["year"])

    @extend_schema(summary="The compilations, newest year first", responses={200: CompilationSerializer(many=True)})
    def list(self, request):
        return Response(CompilationSerializer(selectors.compilations(request.user), many=True).data)

    @extend_schema(summary="A year's proposals against the city's targets, by group and industry",
                   parameters=[YEAR], responses={200: CheckSerializer, 404: ERRORS[404]})
    @action(detail=False, methods=["get"])
    def check(self, request):
        compilation = self._compilation(request.query_params.get("year"))
        return Response(CheckSerializer(selectors.check(compilation)).data)

    @extend_schema(summary="The year's proposals you may see", parameters=[YEAR],
                   responses={200: ProposalSerializer(many=True), 404: ERRORS[404]})
    @action(detail=False, methods=["get"])
    def proposals(self, request):
        compilation = self._compilation(request.query_params.get("year"))
        rows = selectors.proposals(request.user, compilation)[:1000]
        return Response(ProposalSerializer(rows, many=True).data)

    @extend_schema(summary="Propose one of your unit's reserve cases", request=ProposeSerializer,
                   responses={201: ProposalSerializer, **ERRORS})
    @action(detail=False, methods=["post"])
    def propose(self, request):
        data, compilation = self._posted(ProposeSerializer)
        try:
            proposal = services.proposal_save(actor=request.user, compilation_id=compilation.pk,
                                              project_id=data["project"], data=data)
        except ValidationError as error:
            return _refused(error)
        return Response(ProposalSerializer(proposal).data, status=201)

    @extend_schema(summary="Accept a submitted proposal or send it back with a reason (the secretariat)",
                   request=DecideSerializer, responses={200: ProposalSerializer, **ERRORS})
    @action(detail=False, methods=["post"])
    def decide(self, request):
        serializer = DecideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not PlanProposal.objects.filter(pk=data["proposal"]).exists():
            return Response({"detail": _("No such proposal.")}, status=404)
        try:
            if data["decision"] == "accept":
                proposal = services.proposal_accept(actor=request.user, proposal_id=data["proposal"])
            else:
                proposal = services.proposal_return(actor=request.user, proposal_id=data["proposal"],
                                                    reason=data.get("reason", ""))
        except ValidationError as error:
            return _refused(error)
        return Response(ProposalSerializer(proposal).data)

    @extend_schema(summary="Publish the year's key list as version 1 (the secretariat)",
                   request=PublishSerializer, responses={200: OpenApiResponse(description="{\"year\": 2027, \"version\": 1}"), **ERRORS})
    @action(detail=False, methods=["post"])
    def publish(self, request):
        _data, compilation = self._posted(PublishSerializer)
        try:
            version = services.compilation_publish(actor=request.user, compilation_id=compilation.pk)
        except ValidationError as error:
            return _refused(error)
        return Response({"year": compilation.year, "version": version.number})

    @extend_schema(summary="Open or move the adjustment window of a published plan (the secretariat)",
                   request=WindowSerializer, responses={200: CompilationSerializer, **ERRORS})
    @action(detail=False, methods=["post"])
    def window(self, request):
        data, compilation = self._posted(WindowSerializer)
        try:
            compilation = adjustments.adjustment_window_set(
                actor=request.user, compilation_id=compilation.pk, start=data["start"], end=data["end"]
            )
        except ValidationError as error:
            return _refused(error)
        return Response(CompilationSerializer(compilation).data)

    @extend_schema(summary="Add, drop or re-plan a case of the published plan, with a reason (the secretariat): the next version",
                   request=AdjustSerializer, responses={201: VersionSerializer, **ERRORS})
    @action(detail=False, methods=["post"])
    def adjust(self, request):
        data, compilation = self._posted(AdjustSerializer)
        try:
            version = adjustments.plan_adjust(
                actor=request.user, compilation_id=compilation.pk, change=data["change"], project_id=data["project"],
                data=data, reason=data["reason"],
            )
        except ValidationError as error:
            return _refused(error)
        version = selectors.versions(compilation).get(pk=version.pk)
        return Response(VersionSerializer(version).data, status=201)

    @extend_schema(summary="The published plan's versions, the first one the published list", parameters=[YEAR],
                   responses={200: VersionSerializer(many=True), 404: ERRORS[404]})
    @action(detail=False, methods=["get"])
    def versions(self, request):
        compilation = self._compilation(request.query_params.get("year"))
        return Response(VersionSerializer(selectors.versions(compilation), many=True).data)

    @extend_schema(
        summary="What changed between two versions: cases added, dropped and re-planned",
        parameters=[
            YEAR,
            OpenApiParameter("older", int, required=False, description="The older version (default: the one before the newer)."),
            OpenApiParameter("newer", int, required=False, description="The newer version (default: the latest)."),
        ],
        responses={200: DiffSerializer, 400: ERRORS[400], 404: ERRORS[404]},
    )
    @action(detail=False, methods=["get"])
    def diff(self, request):
        compilation = self._compilation(request.query_params.get("year"))
        numbers = {}
        for name in ("older", "newer"):
            raw = request.query_params.get(name)
            if raw in (None, ""):
                continue
            field = serializers.IntegerField(**VERSION_NUMBER)
            try:
                numbers[name] = field.run_validation(raw)
            except serializers.ValidationError as error:
                return Response({name: error.detail}, status=400)
        by_number = {version.number: version for version in compilation.versions.all()}
        if not by_number:
            return Response({"detail": _("The plan of that year is not published yet.")}, status=404)
        newer = numbers.get("newer", max(by_number))
        older = numbers.get("older", newer - 1)
        missing = [name for name, number in (("older", older), ("newer", newer)) if number not in by_number]
        if missing:
            return Response({name: [_("No such version.")] for name in missing}, status=400)
        if older >= newer:
            return Response({"older": [_("Compare an older version with a newer one.")]}, status=400)
        difference = selectors.difference(by_number[older], by_number[newer])
        return Response(DiffSerializer({
            "year": compilation.year, "older": older, "newer": newer,
            "added": difference["added"], "dropped": difference["dropped"],
            "changed": [
                {"project": row["entry"].project_id, "project_code": row["entry"].project.code,
                 "fields": [{"field": name, "old": str(old), "new": str(new)} for name, old, new in row["fields"]]}
                for row in difference["changed"]
            ],
        }).data)
