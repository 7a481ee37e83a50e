"""API of the white list and the products: /api/needs/ and /api/products/.

Needs: the white list's filters on the list (published needs unless a government reader, or an
owner for its own cases' needs, asks for another ``state``), drafting, changing with the
``version`` last read (409 when stale), the lifecycle's steps (submit, publish, return, close,
withdraw) and the products that fit. An owner enterprise's people reach their own cases' needs
only, and no products or matches. Products: a scoped list with filters, adding and changing (the
secretariat, or the institution's people for its own) with the ``version`` last read (409 when
stale), deactivating, and the published needs that fit. Every write goes through the services;
reads through ``financing_selectors``.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework import permissions as drf_permissions
from rest_framework.decorators import action
from rest_framework.response import Response

from cases.api import text
from cases.models import Industry, KeyProject, Stage, Unit, UnitKind

from .. import matching, permissions, selectors, services
from ..models import (
    INDUSTRY_BITS,
    STAGE_BITS,
    FinancialProduct,
    FinancingNeed,
    NeedState,
    values_of,
)
from ..services.needs import NEED_STEPS

MAX_ID = 2**63 - 1
NEED_TRANSITION_CHOICES = [(name, step.label) for name, step in NEED_STEPS.items()]

ERRORS = {
    400: OpenApiResponse(description="Bad input, by field; or the step is blocked (with reasons)."),
    403: OpenApiResponse(description="Your role or unit may not do this."),
    404: OpenApiResponse(description="Not found, or outside what you may see."),
    409: OpenApiResponse(description="Someone else changed the record first, or its state no longer allows it."),
}


class NeedAccess(drf_permissions.BasePermission):
    """Needs are for government people, institutions' people (the white list) and owners' people
    (their own cases' needs)."""

    def has_permission(self, request, view):
        return permissions.can_read_needs(request.user)


class ProductAccess(drf_permissions.BasePermission):
    def has_permission(self, request, view):
        return permissions.can_read_products(request.user)


class IdField(serializers.PrimaryKeyRelatedField):
    """A primary key that says "does not exist" for ids no record can have, rather than failing."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            number = int(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 0 < number <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(number)


# Needs


class NeedSerializer(serializers.ModelSerializer):
    project_code = serializers.CharField(source="project.code", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)
    owner_name = serializers.CharField(source="project.owner.name", read_only=True, default=None, allow_null=True)
    industry = serializers.ChoiceField(choices=Industry.choices, allow_blank=True, read_only=True)
    industry_display = serializers.CharField(source="get_industry_display", read_only=True)
    stage = serializers.ChoiceField(choices=Stage.choices, allow_blank=True, read_only=True)
    stage_display = serializers.CharField(source="get_stage_display", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True, default=None, allow_null=True)
    financing_type_display = serializers.CharField(source="get_financing_type_display", read_only=True)
    state = serializers.ChoiceField(choices=NeedState.choices, read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    match_count = serializers.IntegerField(read_only=True, default=0)
    lead_unit_name = serializers.SerializerMethodField(help_text="For government readers; null for others.")
    review_note = serializers.SerializerMethodField(
        help_text="For government readers and the case's owner; null for institutions."
    )

    class Meta:
        model = FinancingNeed
        fields = [
            "id",
            "project",
            "project_code",
            "project_name",
            "owner_name",
            "industry",
            "industry_display",
            "stage",
            "stage_display",
            "region",
            "region_name",
            "amount",
            "financing_type",
            "financing_type_display",
            "purpose",
            "term_months",
            "deadline",
            "collateral",
            "state",
            "state_display",
            "submitted_at",
            "published_at",
            "closed_at",
            "version",
            "match_count",
            "lead_unit_name",
            "review_note",
        ]
        read_only_fields = fields

    def _internal(self):
        request = self.context.get("request")
        return request is not None and permissions.is_internal(request.user)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_lead_unit_name(self, need):
        if not self._internal() or not need.project.lead_unit_id:
            return None
        return need.project.lead_unit.name

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_review_note(self, need):
        request = self.context.get("request")
        readable = request is not None and permissions.can_read_review_note(request.user, need)
        return need.review_note if readable else None


class NeedFitSerializer(NeedSerializer):
    fit_score = serializers.DecimalField(max_digits=6, decimal_places=2, read_only=True)
    among_best = serializers.SerializerMethodField(help_text="Whether the product is among the need's best matches.")

    class Meta(NeedSerializer.Meta):
        fields = [*NeedSerializer.Meta.fields, "fit_score", "among_best"]
        read_only_fields = fields

    def get_among_best(self, need) -> bool:
        return need.kept_score is not None


class NeedCreateSerializer(text.ModelSerializer):
    project = IdField(queryset=KeyProject.objects.none())

    class Meta:
        model = FinancingNeed
        fields = ["project", "amount", "financing_type", "purpose", "term_months", "deadline", "collateral"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["project"].queryset = KeyProject.objects.filter(permissions.project_scope(request.user))


class NeedUpdateSerializer(text.ModelSerializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1, help_text="The version you last read.")

    class Meta:
        model = FinancingNeed
        fields = ["amount", "financing_type", "purpose", "term_months", "deadline", "collateral", "version"]


class NeedTransitionSerializer(text.Serializer):
    transition = serializers.ChoiceField(choices=NEED_TRANSITION_CHOICES)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class NeedStepSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=NEED_TRANSITION_CHOICES)
    label = serializers.CharField()
    target = serializers.ChoiceField(choices=NeedState.choices)
    target_label = serializers.CharField()
    permitted = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())
    reason_required = serializers.BooleanField()


class ReasonSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=[(code, code) for code in matching.REASON_CODES])
    points = serializers.FloatField(help_text="The points this part of the score gave.")


class MatchSerializer(serializers.Serializer):
    product = serializers.IntegerField(source="product_id")
    product_name = serializers.CharField(source="product.name")
    institution = serializers.IntegerField(source="institution_id")
    institution_name = serializers.CharField(source="institution.name")
    score = serializers.DecimalField(max_digits=6, decimal_places=2, help_text="Out of 100.")
    reasons = serializers.SerializerMethodField(help_text="The parts of the score: a code and the points it gave.")
    reason_texts = serializers.SerializerMethodField(help_text="Why it fits, as sentences in your language.")
    computed_at = serializers.DateTimeField()

    @extend_schema_field(ReasonSerializer(many=True))
    def get_reasons(self, match):
        return [{"code": code, "points": float(points)} for code, points in match.reasons or []]

    def get_reason_texts(self, match) -> list[str]:
        return matching.reason_texts(match.reasons, need=self.context["need"], product=match.product)


@extend_schema_view(
    list=extend_schema(summary="The white list: published financing needs (another state for government readers)"),
    retrieve=extend_schema(summary="A financing need"),
    create=extend_schema(
        summary="Draft a financing need of a key project in docking or financing",
        request=NeedCreateSerializer,
        responses={201: NeedSerializer, **ERRORS},
    ),
    update=extend_schema(
        summary="Change a financing need", request=NeedUpdateSerializer, responses={200: NeedSerializer, **ERRORS}
    ),
    partial_update=extend_schema(
        summary="Change some facts of a financing need", request=NeedUpdateSerializer, responses={200: NeedSerializer, **ERRORS}
    ),
)
class NeedViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [drf_permissions.IsAuthenticated, NeedAccess]
    serializer_class = NeedSerializer
    filterset_class = selectors.NeedFilter
    search_fields = list(selectors.NEED_SEARCH_FIELDS)
    ordering_fields = ["published_at", "amount", "deadline", "term_months"]
    ordering = ["-published_at", "-id"]
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        queryset = selectors.need_list(self.request.user)
        if self.action == "list" and not (
            self.request.query_params.get("state") and permissions.can_read_unpublished_needs(self.request.user)
        ):
            queryset = queryset.filter(state=NeedState.PUBLISHED)
        return queryset

    def get_serializer_class(self):
        if self.action == "create":
            return NeedCreateSerializer
        if self.action in ("update", "partial_update"):
            return NeedUpdateSerializer
        return NeedSerializer

    def _respond(self, need, status_code=status.HTTP_200_OK):
        need = selectors.need_list(self.request.user).get(pk=need.pk)
        return Response(NeedSerializer(need, context=self.get_serializer_context()).data, status=status_code)

    def create(self, request, *args, **kwargs):
        if not permissions.can_draft_needs(request.user):
            raise PermissionDenied
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        project = data.pop("project")
        need = services.need_create(project=project, actor=request.user, data=data)
        return self._respond(need, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        need = self.get_object()
        serializer = self.get_serializer(need, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        if version is None:
            raise serializers.ValidationError({"version": [_("Give the version of the need you last read.")]})
        services.need_update(
            need=selectors.need_for_change(need.pk), actor=request.user, data=data, expected_version=version
        )
        return self._respond(need)

    @extend_schema(
        summary="The steps from the need's state, with whether you may take each and what blocks it",
        responses={200: NeedStepSerializer(many=True)},
        methods=["GET"],
    )
    @extend_schema(
        summary="Take a step: submit, publish, return (send back, with a note), close or withdraw",
        request=NeedTransitionSerializer,
        responses={200: NeedSerializer, **ERRORS},
        methods=["POST"],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None, search_fields=[], ordering_fields=[])
    def transitions(self, request, pk=None):
        need = self.get_object()
        if request.method == "GET":
            return Response(NeedStepSerializer(services.need_transition_options(need, request.user), many=True).data)
        serializer = NeedTransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.need_transition(
            need=selectors.need_for_change(need.pk),
            transition=serializer.validated_data["transition"],
            actor=request.user,
            reason=serializer.validated_data["reason"],
            expected_version=serializer.validated_data.get("version"),
        )
        return self._respond(need)

    @extend_schema(
        summary="The products that fit the need, best first, with the reasons (an institution's people: their own)",
        responses={200: MatchSerializer(many=True), 403: ERRORS[403], 404: ERRORS[404]},
    )
    @action(detail=True, methods=["get"], filterset_class=None, search_fields=[], ordering_fields=[])
    def matches(self, request, pk=None):
        need = self.get_object()
        if not permissions.can_read_products(request.user):
            raise PermissionDenied
        page = self.paginate_queryset(selectors.need_matches(request.user, need))
        data = MatchSerializer(page, many=True, context={**self.get_serializer_context(), "need": need}).data
        return self.get_paginated_response(data)


# Products


class ProductSerializer(serializers.ModelSerializer):
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    institution_type = serializers.CharField(source="institution.institution_type", read_only=True)
    financing_type_display = serializers.CharField(source="get_financing_type_display", read_only=True)
    special_line_display = serializers.CharField(source="get_special_line_display", read_only=True)
    industries = serializers.SerializerMethodField(help_text="Target industries; empty for every industry.")
    stages = serializers.SerializerMethodField(help_text="Target stages; empty for every stage.")
    regions = serializers.SerializerMethodField(help_text="Ids of the districts it is offered in; empty for every region.")
    match_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = FinancialProduct
        fields = [
            "id",
            "institution",
            "institution_name",
            "institution_type",
            "name",
            "financing_type",
            "financing_type_display",
            "special_line",
            "special_line_display",
            "amount_min",
            "amount_max",
            "rate_min",
            "rate_max",
            "term_months_min",
            "term_months_max",
            "industries",
            "stages",
            "regions",
            "description",
            "is_active",
            "updated_at",
            "version",
            "match_count",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=Industry.choices)))
    def get_industries(self, product):
        return values_of(product.industries_mask, INDUSTRY_BITS)

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=Stage.choices)))
    def get_stages(self, product):
        return values_of(product.stages_mask, STAGE_BITS)

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_regions(self, product):
        return sorted(unit.pk for unit in product.regions.all())


class ProductWriteSerializer(text.ModelSerializer):
    institution = IdField(queryset=Unit.objects.filter(kind=UnitKind.INSTITUTION))
    industries = serializers.ListField(
        child=serializers.ChoiceField(choices=Industry.choices), required=False, max_length=len(Industry.choices)
    )
    stages = serializers.ListField(
        child=serializers.ChoiceField(choices=Stage.choices), required=False, max_length=len(Stage.choices)
    )
    regions = serializers.ListField(
        child=IdField(queryset=Unit.objects.filter(kind=UnitKind.DISTRICT)), required=False, max_length=100
    )
    version = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        help_text="The version you last read; required to change a product, ignored when adding one.",
    )

    class Meta:
        model = FinancialProduct
        fields = [
            "institution",
            "name",
            "financing_type",
            "special_line",
            "amount_min",
            "amount_max",
            "rate_min",
            "rate_max",
            "term_months_min",
            "term_months_max",
            "industries",
            "stages",
            "regions",
            "description",
            "is_active",
            "version",
        ]
        extra_kwargs = {
            "term_months_min": {"min_value": 1, "max_value": 600},
            "term_months_max": {"min_value": 1, "max_value": 600},
        }


class DeactivateSerializer(text.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


@extend_schema_view(
    list=extend_schema(summary="Financial products (an institution's people: their own)"),
    retrieve=extend_schema(summary="A financial product"),
    create=extend_schema(
        summary="Add a product (the secretariat, or the institution's people)",
        request=ProductWriteSerializer,
        responses={201: ProductSerializer, **ERRORS},
    ),
    update=extend_schema(
        summary="Change a product", request=ProductWriteSerializer, responses={200: ProductSerializer, **ERRORS}
    ),
    partial_update=extend_schema(
        summary="Change some terms of a product", request=ProductWriteSerializer, responses={200: ProductSerializer, **ERRORS}
    ),
)
class ProductViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [drf_permissions.IsAuthenticated, ProductAccess]
    serializer_class = ProductSerializer
    filterset_class = selectors.ProductFilter
    search_fields = list(selectors.PRODUCT_SEARCH_FIELDS)
    ordering_fields = ["name", "amount_min", "amount_max", "rate_min", "updated_at"]
    ordering = ["institution__name", "name", "id"]
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        return selectors.product_list(self.request.user)

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return ProductWriteSerializer
        return ProductSerializer

    def _respond(self, product, status_code=status.HTTP_200_OK):
        product = selectors.product_list(self.request.user).get(pk=product.pk)
        return Response(ProductSerializer(product, context=self.get_serializer_context()).data, status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        product = services.product_create(actor=request.user, data=data)
        return self._respond(product, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        product = self.get_object()
        serializer = self.get_serializer(product, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        if version is None:
            raise serializers.ValidationError({"version": [_("Give the version of the product you last read.")]})
        services.product_update(product=product, actor=request.user, data=data, expected_version=version)
        return self._respond(product)

    @extend_schema(
        summary="Take the product off the market: it leaves every match",
        request=DeactivateSerializer,
        responses={200: ProductSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], filterset_class=None, search_fields=[], ordering_fields=[])
    def deactivate(self, request, pk=None):
        product = self.get_object()
        serializer = DeactivateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.product_deactivate(product=product, actor=request.user, reason=serializer.validated_data["reason"])
        return self._respond(product)

    @extend_schema(
        summary="The published needs the product fits, best first",
        responses={200: NeedFitSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], filterset_class=None, search_fields=[], ordering_fields=[])
    def needs(self, request, pk=None):
        product = self.get_object()
        page = self.paginate_queryset(
            selectors.needs_for_product(product, request.user).select_related("project__lead_unit")
        )
        return self.get_paginated_response(NeedFitSerializer(page, many=True, context=self.get_serializer_context()).data)
