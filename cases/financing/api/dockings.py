"""API of the docking funnel and of matchmaking events: thin views over ``docking_selectors`` and
the
services. Institutions' people reach their own institution's dockings and the events it is invited
to.

Answers: 400 form errors by field (or a step's guard with its reasons), 403 not allowed, 404 out
of scope, 409 a stale version, a step that does not start from the docking's state, or a
second interest in the same need.
"""

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework import permissions as drf_permissions
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from cases.api import text
from cases.models import KeyProject, Role, Unit, UnitKind

from .. import permissions, services
from .. import selectors as docking_selectors
from ..models import (
    Docking,
    DockingState,
    FinancialProduct,
    FinancingNeed,
    MatchmakingEvent,
    NeedState,
)
from ..services import events as event_services
from . import serializers as s

LOOKUP = r"[0-9]+"
ERRORS = {
    400: OpenApiResponse(description="Bad input, by field; or the step's guard, with its reasons."),
    403: OpenApiResponse(description="Your role or institution may not do this."),
    404: OpenApiResponse(description="Not found, or outside what you may see."),
    409: OpenApiResponse(description="Changed by someone else meanwhile, not possible from the current state, or done already."),
}


class FinancingAccess(drf_permissions.BasePermission):
    """Government people, project owners and institutions' people; each sees its own scope."""

    def has_permission(self, request, view):
        return permissions.role_of(request.user) in permissions.INTERNAL | {Role.OWNER, Role.INSTITUTION}


class EventAccess(drf_permissions.BasePermission):
    """Government people and institutions' people (the events they are invited to)."""

    def has_permission(self, request, view):
        return permissions.role_of(request.user) in permissions.INTERNAL | {Role.INSTITUTION}


def conflict(error):
    return Response({"detail": str(error.message), "code": "conflict"}, status=status.HTTP_409_CONFLICT)


# Dockings


def _docked_projects(request):
    """The projects a docking filter may name: those of the dockings the caller may see."""
    if request is None:
        return KeyProject.objects.none()
    return KeyProject.objects.filter(
        pk__in=Docking.objects.filter(permissions.docking_scope(request.user)).values("project_id")
    )


class DockingFunnelFilter(django_filters.FilterSet):
    project = django_filters.ModelChoiceFilter(label=_("key project"), queryset=_docked_projects)
    state = django_filters.MultipleChoiceFilter(label=_("state"), choices=DockingState.choices)

    class Meta:
        model = Docking
        fields = ["project", "need", "institution", "state", "source", "event"]


class DockingSerializer(serializers.ModelSerializer):
    project_code = serializers.CharField(source="project.code", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    source_display = serializers.CharField(source="get_source_display", read_only=True)
    need_amount = serializers.DecimalField(
        source="need.amount", max_digits=16, decimal_places=2, read_only=True, default=None, allow_null=True
    )
    product_name = serializers.CharField(source="product.name", read_only=True, default=None, allow_null=True)
    event_title = serializers.CharField(source="event.title", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Docking
        fields = [
            "id",
            "project",
            "project_code",
            "project_name",
            "need",
            "need_amount",
            "institution",
            "institution_name",
            "product",
            "product_name",
            "event",
            "event_title",
            "source",
            "source_display",
            "state",
            "state_display",
            "intent_amount",
            "credit_approved_amount",
            "disbursed_amount",
            "disbursed_on",
            "decline_reason",
            "last_step_at",
            "created_at",
            "version",
        ]
        read_only_fields = fields


class TrailEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor_name = serializers.CharField()
    action = serializers.CharField()
    transition = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    reason = serializers.CharField()
    changes = serializers.JSONField()


class DockingFunnelStepSerializer(serializers.Serializer):
    state = serializers.CharField()
    label = serializers.CharField()
    reached = serializers.BooleanField()
    skipped = serializers.BooleanField()
    current = serializers.BooleanField()
    at = serializers.DateTimeField(allow_null=True)
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)


class DockingDetailSerializer(DockingSerializer):
    funnel = serializers.SerializerMethodField()
    trail = serializers.SerializerMethodField()

    class Meta(DockingSerializer.Meta):
        fields = [*DockingSerializer.Meta.fields, "funnel", "trail"]
        read_only_fields = fields

    def _trail(self, docking):
        if not hasattr(docking, "_trail"):
            docking._trail = docking_selectors.docking_trail(docking)
        return docking._trail

    @extend_schema_field(DockingFunnelStepSerializer(many=True))
    def get_funnel(self, docking):
        return DockingFunnelStepSerializer(docking_selectors.funnel(docking, self._trail(docking)), many=True).data

    @extend_schema_field(TrailEventSerializer(many=True))
    def get_trail(self, docking):
        return TrailEventSerializer(self._trail(docking), many=True).data


class InterestSerializer(text.Serializer):
    need = serializers.PrimaryKeyRelatedField(queryset=FinancingNeed.objects.filter(state=NeedState.PUBLISHED))


class RecommendSerializer(text.Serializer):
    need = serializers.PrimaryKeyRelatedField(queryset=FinancingNeed.objects.all())
    product = serializers.PrimaryKeyRelatedField(queryset=FinancialProduct.objects.all(), required=False)
    institution = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.filter(kind=UnitKind.INSTITUTION), required=False
    )
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000, help_text=_("Kept on the docking's trail.")
    )


@extend_schema_view(
    list=extend_schema(summary="List dockings", description="An institution's people list their own institution's."),
    retrieve=extend_schema(summary="A docking with its funnel and audit trail", responses={200: DockingDetailSerializer}),
)
class DockingViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DockingSerializer
    permission_classes = [drf_permissions.IsAuthenticated, FinancingAccess]
    filterset_class = DockingFunnelFilter
    search_fields = ["project__code", "project__project_code", "project__name", "institution__name"]
    ordering_fields = ["state", "last_step_at", "created_at"]
    lookup_value_regex = LOOKUP

    def get_queryset(self):
        return docking_selectors.docking_list(self.request.user)

    def get_serializer_class(self):
        return DockingDetailSerializer if self.action == "retrieve" else DockingSerializer

    def _respond(self, docking, status_code=status.HTTP_200_OK):
        docking = docking_selectors.docking_detail(self.request.user, docking.pk)
        return Response(DockingDetailSerializer(docking, context=self.get_serializer_context()).data, status=status_code)

    @extend_schema(
        summary="The steps from the docking's state, with why each is blocked",
        responses={200: s.TransitionOptionSerializer(many=True)},
        methods=["GET"],
    )
    @extend_schema(
        summary="Take a step of a docking",
        request=s.DockingTransitionSerializer,
        responses={200: DockingDetailSerializer, **ERRORS},
        methods=["POST"],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def transitions(self, request, pk=None):
        docking = self.get_object()
        if request.method == "GET":
            options = services.transition_options(docking, request.user)
            return Response(s.TransitionOptionSerializer(options, many=True).data)
        serializer = s.DockingTransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        allowed = serializer.fields_by_transition.get(data["transition"], set())
        try:
            services.docking_transition(
                docking=Docking.objects.select_related("project", "need", "institution").get(pk=docking.pk),
                transition=data["transition"],
                actor=request.user,
                reason=data["reason"],
                fields={k: v for k, v in data.items() if k in allowed},
                expected_version=data.get("version"),
            )
        except services.TransitionNotAvailable as error:
            return conflict(error)
        return self._respond(docking)

    @extend_schema(
        summary="Express your institution's interest in a published need: a docking opens",
        request=InterestSerializer,
        responses={201: DockingDetailSerializer, **ERRORS},
    )
    @action(detail=False, methods=["post"], pagination_class=None, filterset_class=None)
    def interest(self, request):
        if not permissions.can_express_interest(request.user):
            raise PermissionDenied(_("Only a financial institution's people express interest in a need."))
        serializer = InterestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        docking = services.docking_express_interest(need=serializer.validated_data["need"], actor=request.user)
        return self._respond(docking, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Recommend a matched product's institution (or an institution) for a published need",
        request=RecommendSerializer,
        responses={201: DockingDetailSerializer, **ERRORS},
    )
    @action(detail=False, methods=["post"], pagination_class=None, filterset_class=None)
    def recommend(self, request):
        if not permissions.is_secretariat(request.user):
            raise PermissionDenied(_("Only the secretariat recommends institutions for a need."))
        serializer = RecommendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        docking = services.docking_recommend(
            need=data["need"],
            actor=request.user,
            product=data.get("product"),
            institution=data.get("institution"),
            note=data["note"],
        )
        return self._respond(docking, status.HTTP_201_CREATED)


# Matchmaking events


class EventSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    chain_display = serializers.CharField(source="get_chain_display", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    project_count = serializers.IntegerField(read_only=True)
    intent_count = serializers.IntegerField(read_only=True)
    intent_total = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True, allow_null=True)

    class Meta:
        model = MatchmakingEvent
        fields = [
            "id",
            "title",
            "kind",
            "kind_display",
            "chain",
            "chain_display",
            "starts_at",
            "ends_at",
            "place",
            "organiser",
            "state",
            "state_display",
            "summary",
            "project_count",
            "intent_count",
            "intent_total",
            "version",
        ]
        read_only_fields = fields


class PitchedNeedSerializer(serializers.ModelSerializer):
    class Meta:
        model = FinancingNeed
        fields = ["id", "financing_type", "amount", "purpose", "term_months", "deadline"]
        read_only_fields = fields


class PitchedProjectSerializer(serializers.ModelSerializer):
    needs = PitchedNeedSerializer(source="published_needs", many=True, read_only=True)

    class Meta:
        model = KeyProject
        fields = ["id", "code", "name", "industry", "needs"]
        read_only_fields = fields


class InvitationSerializer(serializers.Serializer):
    institution = serializers.IntegerField(source="institution_id")
    institution_name = serializers.CharField(source="institution.name")
    invited_at = serializers.DateTimeField(allow_null=True)
    attended = serializers.BooleanField(allow_null=True)


class EventDetailSerializer(EventSerializer):
    projects = PitchedProjectSerializer(source="project_rows", many=True, read_only=True)
    invitations = InvitationSerializer(source="invitation_rows", many=True, read_only=True)
    intents = DockingSerializer(source="intent_rows", many=True, read_only=True)

    class Meta(EventSerializer.Meta):
        fields = [*EventSerializer.Meta.fields, "projects", "invitations", "intents"]
        read_only_fields = fields


class EventWriteSerializer(text.ModelSerializer):
    projects = serializers.PrimaryKeyRelatedField(queryset=KeyProject.objects.all(), many=True, required=False)
    organiser = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.exclude(kind__in=[UnitKind.INSTITUTION, UnitKind.ENTERPRISE]),
        required=False,
        allow_null=True,
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text=_("The version you read; a change made meanwhile by someone else is refused with 409."),
    )

    class Meta:
        model = MatchmakingEvent
        fields = ["title", "kind", "chain", "starts_at", "ends_at", "place", "organiser", "summary", "projects", "version"]


class InviteSerializer(text.Serializer):
    institutions = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.filter(kind=UnitKind.INSTITUTION), many=True, allow_empty=False
    )
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class AttendanceSerializer(text.Serializer):
    attended = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.filter(kind=UnitKind.INSTITUTION), many=True)
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class SigningSerializer(text.Serializer):
    need = serializers.PrimaryKeyRelatedField(queryset=FinancingNeed.objects.all())
    institution = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.filter(kind=UnitKind.INSTITUTION))
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=0, help_text=_("Yuan."))


class CloseSerializer(text.Serializer):
    summary = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class SuggestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = KeyProject
        fields = ["id", "code", "name", "industry"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="List matchmaking events", description="Institutions' people list those they are invited to."),
    retrieve=extend_schema(summary="A matchmaking event with its projects, invitations and intents signed"),
    create=extend_schema(summary="Plan a matchmaking event", request=EventWriteSerializer, responses={201: EventDetailSerializer, **ERRORS}),
    update=extend_schema(summary="Change a matchmaking event", request=EventWriteSerializer, responses={200: EventDetailSerializer, **ERRORS}),
    partial_update=extend_schema(
        summary="Change some facts of a matchmaking event", request=EventWriteSerializer, responses={200: EventDetailSerializer, **ERRORS}
    ),
)
class EventViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [drf_permissions.IsAuthenticated, EventAccess]
    filterset_class = None
    filterset_fields = ["kind", "chain", "state"]
    search_fields = ["title", "place"]
    ordering_fields = ["starts_at", "title"]
    lookup_value_regex = LOOKUP

    def get_queryset(self):
        return docking_selectors.event_list(self.request.user)

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return EventWriteSerializer
        return EventDetailSerializer if self.action == "retrieve" else EventSerializer

    def get_object(self):
        event = super().get_object()  # 404 out of scope, before anything is read or written
        if self.request.method not in SAFE_METHODS and not permissions.can_manage_events(self.request.user):
            raise PermissionDenied(_("Only the secretariat organises matchmaking events."))
        return docking_selectors.event_detail(self.request.user, event.pk)

    def _respond(self, event, status_code=status.HTTP_200_OK):
        event = docking_selectors.event_detail(self.request.user, event.pk)
        return Response(EventDetailSerializer(event, context=self.get_serializer_context()).data, status=status_code)

    def create(self, request, *args, **kwargs):
        if not permissions.can_manage_events(request.user):
            raise PermissionDenied(_("Only the secretariat organises matchmaking events."))
        serializer = EventWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        projects = data.pop("projects", [])
        event = event_services.event_create(actor=request.user, data=data, projects=projects)
        return self._respond(event, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        event = self.get_object()
        serializer = EventWriteSerializer(event, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        projects = data.pop("projects", None)
        event_services.event_update(
            event=event, actor=request.user, data=data, projects=projects, expected_version=version
        )
        return self._respond(event)

    @extend_schema(summary="Invite institutions (each gets an iCalendar invitation)", request=InviteSerializer, responses={200: EventDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"], pagination_class=None, filterset_class=None)
    def invite(self, request, pk=None):
        event = self.get_object()
        serializer = InviteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event_services.event_invite(
            event=event,
            institutions=serializer.validated_data["institutions"],
            actor=request.user,
            expected_version=serializer.validated_data.get("version"),
        )
        return self._respond(event)

    @extend_schema(summary="Record which invited institutions came", request=AttendanceSerializer, responses={200: EventDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"], pagination_class=None, filterset_class=None)
    def attendance(self, request, pk=None):
        event = self.get_object()
        serializer = AttendanceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event_services.event_record_attendance(
            event=event,
            attended=serializer.validated_data["attended"],
            actor=request.user,
            expected_version=serializer.validated_data.get("version"),
        )
        return self._respond(event)

    @extend_schema(
        summary="Record an intent signed at the event: the docking is opened or advanced to intent signed",
        request=SigningSerializer,
        responses={201: DockingDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], pagination_class=None, filterset_class=None)
    def sign(self, request, pk=None):
        event = self.get_object()
        serializer = SigningSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            docking = event_services.event_sign_intent(
                event=event, need=data["need"], institution=data["institution"], amount=data["amount"], actor=request.user
            )
        except services.TransitionNotAvailable as error:
            return conflict(error)
        docking = docking_selectors.docking_detail(request.user, docking.pk)
        return Response(
            DockingDetailSerializer(docking, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(summary="Close a held event with its summary", request=CloseSerializer, responses={200: EventDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"], pagination_class=None, filterset_class=None)
    def close(self, request, pk=None):
        event = self.get_object()
        serializer = CloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event_services.event_close(
            event=event,
            actor=request.user,
            summary=serializer.validated_data["summary"],
            expected_version=serializer.validated_data.get("version"),
        )
        return self._respond(event)

    @extend_schema(
        summary="Projects of the event's chain with a need on the white list, not pitched yet",
        responses={200: SuggestionSerializer(many=True), 403: ERRORS[403], 404: ERRORS[404]},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None, search_fields=[], ordering_fields=[])
    def suggestions(self, request, pk=None):
        event = self.get_object()
        if not permissions.can_manage_events(request.user):
            raise PermissionDenied(_("Only the secretariat organises matchmaking events."))
        return Response(SuggestionSerializer(docking_selectors.suggested_projects(event), many=True).data)
