"""API views: scoped by the selectors, written through the services."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework import permissions as drf_permissions
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from .. import approvals, permissions, selectors, services
from ..excel import ImportFailed
from ..filters import (
    PROJECT_SEARCH_FIELDS,
    BlockerFilter,
    PoolFilter,
    PreworkItemFilter,
    ProjectFilter,
)
from ..forms import ImportForm
from ..models import Blocker, KeyProject, PreworkItem, Role
from . import serializers as s


class PoolAccess(drf_permissions.BasePermission):
    """The pipeline (ideas and the reserve pool) is the government's."""

    def has_permission(self, request, view):
        return permissions.is_internal(request.user)


class CaseAccess(drf_permissions.BasePermission):
    """Roles that work with cases: government people and project owners."""

    def has_permission(self, request, view):
        return permissions.role_of(request.user) in permissions.INTERNAL | {Role.OWNER}


class DirectoryAccess(drf_permissions.BasePermission):
    """The organisation directory is for government people."""

    def has_permission(self, request, view):
        return permissions.is_internal(request.user)


TRANSITION_ERRORS = {
    400: OpenApiResponse(description="Blocked by its guard (with reasons), not possible from here, or bad input."),
    403: OpenApiResponse(description="Your role or unit may not take this step."),
    404: OpenApiResponse(description="Not found, or outside what you may see."),
    409: OpenApiResponse(description="Someone else changed the record first."),
}


def _transition_fields(serializer):
    """The extra inputs the chosen transition takes, from a validated transition request."""
    allowed = getattr(serializer, "fields_by_transition", {}).get(serializer.validated_data["transition"], set())
    return {k: v for k, v in serializer.validated_data.items() if k in allowed}


class TokenView(ObtainAuthToken):
    """An API token for a user name and password, which are checked for length and control
    characters first (``s.TokenRequestSerializer``)."""

    serializer_class = s.TokenRequestSerializer


@extend_schema_view(
    list=extend_schema(summary="List units"),
    retrieve=extend_schema(summary="A unit"),
)
class UnitViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.UnitSerializer
    permission_classes = [drf_permissions.IsAuthenticated, DirectoryAccess]
    filterset_fields = ["kind", "parent"]
    search_fields = ["name", "short_name"]
    ordering_fields = ["name", "kind"]

    def get_queryset(self):
        return selectors.unit_list(self.request.user)


@extend_schema_view(
    list=extend_schema(summary="List people"),
    retrieve=extend_schema(summary="A person"),
)
class PersonViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.PersonSerializer
    permission_classes = [drf_permissions.IsAuthenticated, DirectoryAccess]
    filterset_fields = ["unit", "role", "rank"]
    search_fields = ["name", "title", "unit__name"]
    ordering_fields = ["name"]

    def get_queryset(self):
        return selectors.person_list(self.request.user)


@extend_schema_view(
    list=extend_schema(summary="List key projects"),
    retrieve=extend_schema(summary="A key project"),
    create=extend_schema(summary="Add a key project", responses={201: s.ProjectDetailSerializer}),
    update=extend_schema(summary="Change a key project", responses={200: s.ProjectDetailSerializer, **TRANSITION_ERRORS}),
    partial_update=extend_schema(
        summary="Change some facts of a key project", responses={200: s.ProjectDetailSerializer, **TRANSITION_ERRORS}
    ),
)
class ProjectViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [drf_permissions.IsAuthenticated, CaseAccess]
    filterset_class = ProjectFilter
    search_fields = PROJECT_SEARCH_FIELDS
    ordering_fields = ["code", "name", "stage", "total_investment", "capital_gap", "planned_start", "updated_at"]
    ordering = ["code"]
    # A key project as its detail shows it; financing docking's subclass adds the dockings.
    detail_serializer_class = s.ProjectDetailSerializer

    def detail_lookups(self):
        return ["cooperating_units", "annual_plans"]

    def get_queryset(self):
        queryset = selectors.project_list(self.request.user)
        if self.action != "list":
            queryset = queryset.prefetch_related(*self.detail_lookups())
        return queryset

    def get_serializer_class(self):
        if self.action == "list":
            return s.ProjectListSerializer
        if self.action in ("create", "update", "partial_update"):
            return s.ProjectWriteSerializer
        return self.detail_serializer_class

    def _detail(self, project):
        project = self.get_queryset().get(pk=project.pk)
        return self.detail_serializer_class(project, context=self.get_serializer_context()).data

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        plans = data.pop("annual_plans", None)
        data.pop("version", None)
        project = services.project_create(actor=request.user, data=data, annual_plans=plans)
        return Response(self._detail(project), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        project = self.get_object()
        serializer = self.get_serializer(project, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        plans = data.pop("annual_plans", None)
        version = data.pop("version", None)
        services.project_update(
            project=project, actor=request.user, data=data, annual_plans=plans, expected_version=version
        )
        return Response(self._detail(project))

    @extend_schema(
        summary="The transitions from the current stage, with why each is blocked",
        responses={200: s.TransitionOptionSerializer(many=True)},
        methods=["GET"],
    )
    @extend_schema(
        summary="Take a stage transition",
        request=s.TransitionRequestSerializer,
        responses={200: s.ProjectDetailSerializer, **TRANSITION_ERRORS},
        methods=["POST"],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def transitions(self, request, pk=None):
        project = self.get_object()
        if request.method == "GET":
            options = services.transition_options(project, request.user)
            return Response(s.TransitionOptionSerializer(options, many=True).data)
        serializer = s.TransitionRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.project_transition(
            project_id=project.pk,
            transition=serializer.validated_data["transition"],
            actor=request.user,
            reason=serializer.validated_data["reason"],
            expected_version=serializer.validated_data.get("version"),
        )
        return Response(self._detail(project))

    @extend_schema(
        summary="Import approvals from the national approval platform's Excel export",
        description=(
            "Each row's approval item marks its case's pre-work item done with the document number "
            "and date; the case is found by its project code. Every row or none: 422 names each bad "
            "or unmatched row."
        ),
        request={"multipart/form-data": s.ApprovalsImportRequestSerializer},
        responses={
            200: s.ApprovalsImportResultSerializer,
            400: OpenApiResponse(description="Not an .xlsx file, or too large."),
            403: OpenApiResponse(description="Only the secretariat imports approvals."),
            422: s.ImportFailedSerializer,
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="approvals-import",
        parser_classes=[MultiPartParser],
        pagination_class=None,
        filterset_class=None,
        search_fields=[],
        ordering_fields=[],
    )
    def approvals_import(self, request):
        if not permissions.can_import_projects(request.user):
            raise PermissionDenied
        form = ImportForm(files=request.FILES)
        if not form.is_valid():
            return Response(
                {name: [str(m) for m in messages] for name, messages in form.errors.items()},
                status=status.HTTP_400_BAD_REQUEST,
            )
        upload = form.cleaned_data["file"]
        try:
            done, unchanged = approvals.import_approvals(upload, actor=request.user, file_name=upload.name)
        except ImportFailed as failure:
            errors = [
                {"row": e.row, "column": e.column, "header": e.header, "message": str(e.message)}
                for e in failure.errors
            ]
            return Response(
                {"detail": _("Nothing was imported."), "errors": errors},
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        return Response({"done": done, "unchanged": unchanged})

    @extend_schema(summary="The audit timeline of a key project", responses={200: s.AuditEventSerializer(many=True)})
    @action(detail=True, methods=["get"], filterset_class=None, search_fields=[], ordering_fields=[])
    def timeline(self, request, pk=None):
        project = self.get_object()
        page = self.paginate_queryset(selectors.project_timeline(project))
        return self.get_paginated_response(s.AuditEventSerializer(page, many=True).data)


class _RecordViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Pre-work items and blockers: scoped lists, creation on a visible case, transitions."""

    permission_classes = [drf_permissions.IsAuthenticated, CaseAccess]
    transition_serializer_class = None
    update_serializer_class = None

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return self.update_serializer_class
        return self.serializer_class

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        project_field = serializer.fields.get("project") if hasattr(serializer, "fields") else None
        if project_field is not None and not project_field.read_only:
            project_field.queryset = KeyProject.objects.filter(permissions.project_scope(self.request.user))
        return serializer

    def _respond(self, record, status_code=status.HTTP_200_OK):
        record = self.get_queryset().get(pk=record.pk)
        return Response(self.serializer_class(record, context=self.get_serializer_context()).data, status=status_code)


@extend_schema_view(
    list=extend_schema(summary="List pre-work items"),
    retrieve=extend_schema(summary="A pre-work item"),
    create=extend_schema(summary="Add a pre-work item to a key project"),
    update=extend_schema(summary="Change a pre-work item", responses={200: s.PreworkItemSerializer, **TRANSITION_ERRORS}),
    partial_update=extend_schema(
        summary="Change some facts of a pre-work item", responses={200: s.PreworkItemSerializer, **TRANSITION_ERRORS}
    ),
)
class PreworkItemViewSet(_RecordViewSet):
    serializer_class = s.PreworkItemSerializer
    update_serializer_class = s.PreworkItemUpdateSerializer
    filterset_class = PreworkItemFilter
    search_fields = ["project__code", "project__project_code", "project__name", "title", "document_number"]
    ordering_fields = ["project__code", "state", "kind"]

    def get_queryset(self):
        return selectors.prework_item_list(self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        project = data.pop("project")
        item = services.prework_item_create(project=project, actor=request.user, data=data)
        return self._respond(item, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        item = self.get_object()
        serializer = self.get_serializer(item, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        services.prework_item_update(item=item, actor=request.user, data=data, expected_version=version)
        return self._respond(item)

    @extend_schema(
        summary="Take a transition of a pre-work item",
        request=s.PreworkTransitionSerializer,
        responses={200: s.PreworkItemSerializer, **TRANSITION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def transitions(self, request, pk=None):
        item = self.get_object()
        serializer = s.PreworkTransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.prework_item_transition(
            item=PreworkItem.objects.select_related("project").get(pk=item.pk),
            transition=serializer.validated_data["transition"],
            actor=request.user,
            reason=serializer.validated_data["reason"],
            fields=_transition_fields(serializer),
            expected_version=serializer.validated_data.get("version"),
        )
        return self._respond(item)


@extend_schema_view(
    list=extend_schema(summary="List blockers"),
    retrieve=extend_schema(summary="A blocker"),
    create=extend_schema(summary="Report a blocker on a key project"),
    update=extend_schema(summary="Change a blocker", responses={200: s.BlockerSerializer, **TRANSITION_ERRORS}),
    partial_update=extend_schema(
        summary="Change some facts of a blocker", responses={200: s.BlockerSerializer, **TRANSITION_ERRORS}
    ),
)
class BlockerViewSet(_RecordViewSet):
    serializer_class = s.BlockerSerializer
    update_serializer_class = s.BlockerUpdateSerializer
    filterset_class = BlockerFilter
    search_fields = ["project__code", "project__project_code", "project__name", "title"]
    ordering_fields = ["created_at", "due_on", "state"]

    def get_queryset(self):
        return selectors.blocker_list(self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        project = data.pop("project")
        blocker = services.blocker_report(project=project, actor=request.user, data=data)
        return self._respond(blocker, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        blocker = self.get_object()
        serializer = self.get_serializer(blocker, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        services.blocker_update(blocker=blocker, actor=request.user, data=data, expected_version=version)
        return self._respond(blocker)

    @extend_schema(
        summary="Take a transition of a blocker",
        request=s.BlockerTransitionSerializer,
        responses={200: s.BlockerSerializer, **TRANSITION_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def transitions(self, request, pk=None):
        blocker = self.get_object()
        serializer = s.BlockerTransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.blocker_transition(
            blocker=Blocker.objects.select_related("project").get(pk=blocker.pk),
            transition=serializer.validated_data["transition"],
            actor=request.user,
            reason=serializer.validated_data["reason"],
            fields=_transition_fields(serializer),
            expected_version=serializer.validated_data.get("version"),
        )
        return self._respond(blocker)


class PoolViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The ideas (谋划) and the reserve pool, with each case's readiness checklist; filtered like the
    pool's page (stage, pool by planned start, readiness, entry threshold, industry, cluster…)."""

    permission_classes = [drf_permissions.IsAuthenticated, PoolAccess]
    serializer_class = s.PoolProjectSerializer
    filterset_class = PoolFilter
    search_fields = PROJECT_SEARCH_FIELDS
    ordering_fields = ["code", "name", "stage", "total_investment", "planned_start"]
    ordering = ["stage", "code"]

    def get_queryset(self):
        return selectors.pool_list(self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "checklists": selectors.readiness_checklists()}


class IdeaViewSet(mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Propose a project idea (谋划); it enters the reserve pool by its guard, at the project office."""

    permission_classes = [drf_permissions.IsAuthenticated, PoolAccess]
    serializer_class = s.IdeaSerializer

    def get_queryset(self):
        return KeyProject.objects.none()

    @extend_schema(responses={201: s.PoolProjectSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if not permissions.is_secretariat(request.user):
            data.pop("lead_unit", None)
        project = services.project_propose_idea(actor=request.user, data=data)
        row = selectors.pool_list(request.user).get(pk=project.pk)
        context = {**self.get_serializer_context(), "checklists": selectors.readiness_checklists()}
        return Response(s.PoolProjectSerializer(row, context=context).data, status=status.HTTP_201_CREATED)
