"""The factor ledgers' API: ledgers (read; the secretariat opens them), their lines (read; a line
received or returned is written through the services), requests (read, ask, steps, raise the
shortfall as a blocker). Scoped by the selectors."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework import permissions as drf_permissions
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from cases.api.views import TRANSITION_ERRORS
from cases.models import PreworkItem

from .. import permissions, selectors, services
from ..models import FACTORS_OF_PREWORK_KIND, LineKind
from . import serializers as s

STEP_SERVICES = {
    "reserve": services.request_reserve,
    "release": services.request_release,
    "allocate": services.request_allocate,
}


class LedgerReaders(drf_permissions.BasePermission):
    def has_permission(self, request, view):
        return permissions.can_read_ledgers(request.user)


class RequestReaders(drf_permissions.BasePermission):
    def has_permission(self, request, view):
        return permissions.can_see_requests_of(request.user, None)


@extend_schema_view(
    list=extend_schema(summary="List factor ledgers"),
    retrieve=extend_schema(summary="A factor ledger with its totals and balance"),
)
class LedgerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.LedgerSerializer
    permission_classes = [drf_permissions.IsAuthenticated, LedgerReaders]
    filterset_fields = ["year", "factor", "bureau"]
    ordering_fields = ["year", "factor"]

    def get_queryset(self):
        return selectors.ledger_list(self.request.user)

    @extend_schema(summary="Open a factor ledger (the secretariat)", request=s.LedgerOpenSerializer,
                   responses={201: s.LedgerSerializer, **TRANSITION_ERRORS})
    def create(self, request, *args, **kwargs):
        serializer = s.LedgerOpenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ledger = services.ledger_open(actor=request.user, **serializer.validated_data)
        ledger = self.get_queryset().get(pk=ledger.pk)
        return Response(s.LedgerSerializer(ledger).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="A ledger's cash book, line by line with the running balance",
                   responses={200: s.LineSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def lines(self, request, pk=None):
        ledger = self.get_object()
        queryset = selectors.ledger_lines(ledger)
        page = self.paginate_queryset(queryset)
        visible = selectors.visible_project_ids(request.user, {line.project_id for line in page if line.project_id})
        data = s.LineSerializer(page, many=True).data
        for row in data:
            if row["project"] not in visible:
                row["project"] = None  # a case the reader may not open is not named
        return self.get_paginated_response(data)

    @extend_schema(summary="Write a line received or returned in a ledger", request=s.LineCreateSerializer,
                   responses={201: s.LineSerializer, **TRANSITION_ERRORS})
    @lines.mapping.post
    def add_line(self, request, pk=None):
        ledger = self.get_object()
        if not permissions.can_write_ledger(request.user, ledger):
            raise PermissionDenied
        serializer = s.LineCreateSerializer(data=request.data)
        serializer.fields["project"].queryset = selectors.visible_projects(request.user)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        kind = data.pop("kind")
        if kind == LineKind.RECEIVED:
            data.pop("project", None)
            line = services.ledger_receive(ledger=ledger, actor=request.user, **data)
        else:
            line = services.ledger_return(ledger=ledger, actor=request.user, **data)
        return Response(s.LineSerializer(line).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="List factor requests of pre-work items"),
    retrieve=extend_schema(summary="A factor request"),
)
class RequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.RequestSerializer
    permission_classes = [drf_permissions.IsAuthenticated, RequestReaders]
    filterset_fields = ["state", "project", "ledger"]
    ordering_fields = ["requested_at"]

    def get_queryset(self):
        return selectors.request_list(self.request.user)

    def _respond(self, request_obj, status_code=status.HTTP_200_OK):
        request_obj = self.get_queryset().get(pk=request_obj.pk)
        request_obj.shortfall = selectors.shortfall(request_obj)
        return Response(s.RequestSerializer(request_obj).data, status=status_code)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        for request_obj in page if page is not None else []:
            request_obj.shortfall = selectors.shortfall(request_obj)
        return page

    def get_object(self):
        obj = super().get_object()
        obj.shortfall = selectors.shortfall(obj)
        return obj

    @extend_schema(summary="Ask a factor ledger on a pre-work item", request=s.RequestCreateSerializer,
                   responses={201: s.RequestSerializer, **TRANSITION_ERRORS})
    def create(self, request, *args, **kwargs):
        serializer = s.RequestCreateSerializer(data=request.data)
        serializer.fields["item"].queryset = PreworkItem.objects.filter(
            project__in=selectors.visible_projects(request.user), kind__in=list(FACTORS_OF_PREWORK_KIND)
        ).select_related("project")
        serializer.is_valid(raise_exception=True)
        factor_request = services.factor_request(actor=request.user, **serializer.validated_data)
        return self._respond(factor_request, status.HTTP_201_CREATED)

    @extend_schema(summary="Reserve, release or allocate a factor request", request=s.RequestStepSerializer,
                   responses={200: s.RequestSerializer, **TRANSITION_ERRORS})
    @action(detail=True, methods=["post"])
    def steps(self, request, pk=None):
        factor_request = self.get_object()
        serializer = s.RequestStepSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        STEP_SERVICES[data.pop("step")](request=factor_request, actor=request.user, **data)
        return self._respond(factor_request)

    @extend_schema(summary="Raise a factor request's shortfall as a blocker on its case", request=None,
                   responses={201: s.RaisedBlockerSerializer, **TRANSITION_ERRORS})
    @action(detail=True, methods=["post"], url_path="raise-blocker")
    def raise_blocker(self, request, pk=None):
        factor_request = self.get_object()
        blocker = services.shortfall_raise(request=factor_request, actor=request.user)
        return Response(s.RaisedBlockerSerializer(blocker).data, status=status.HTTP_201_CREATED)
