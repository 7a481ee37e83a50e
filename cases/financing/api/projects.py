"""The key projects' API as financing docking extends it: a project's detail lists its dockings.

``config.urls`` routes ``/api/projects/`` here; the case core's ``ProjectViewSet`` does the work.
"""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action

from cases.api import serializers as case_serializers
from cases.api import views as case_views

from ..models import Docking
from .serializers import ProjectDetailSerializer

ERRORS = case_views.TRANSITION_ERRORS


@extend_schema_view(
    list=extend_schema(summary="List key projects"),
    retrieve=extend_schema(summary="A key project"),
    create=extend_schema(summary="Add a key project", responses={201: ProjectDetailSerializer}),
    update=extend_schema(summary="Change a key project", responses={200: ProjectDetailSerializer, **ERRORS}),
    partial_update=extend_schema(
        summary="Change some facts of a key project", responses={200: ProjectDetailSerializer, **ERRORS}
    ),
)
class ProjectViewSet(case_views.ProjectViewSet):
    detail_serializer_class = ProjectDetailSerializer

    def detail_lookups(self):
        return [*super().detail_lookups(), Prefetch("dockings", queryset=Docking.objects.select_related("institution"))]

    @extend_schema(
        summary="The transitions from the current stage, with why each is blocked",
        responses={200: case_serializers.TransitionOptionSerializer(many=True)},
        methods=["GET"],
    )
    @extend_schema(
        summary="Take a stage transition",
        request=case_serializers.TransitionRequestSerializer,
        responses={200: ProjectDetailSerializer, **ERRORS},
        methods=["POST"],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def transitions(self, request, pk=None):
        return super().transitions(request, pk=pk)
