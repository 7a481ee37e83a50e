"""API of my work (待办): what the person may act on now, as the page lists it, paged with ``count``."""

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework import permissions as drf_permissions
from rest_framework.exceptions import ValidationError

from .. import work
from ..calendar import WorkingCalendar
from ..views import taker_name, task_url
from .serializers import (
    DueSerializer,
    ProjectRefSerializer,
    RefSerializer,
    _clock_of,
    _due,
    _project_ref,
)


class WorkItemSerializer(serializers.Serializer):
    """One item of my work: a task (its step, case, deadline, whether it is mine or waits to be
    taken) or, for an institution's people, a docking waiting for their step."""

    kind = serializers.SerializerMethodField()
    id = serializers.IntegerField(source="pk")
    title = serializers.SerializerMethodField()
    subject = serializers.SerializerMethodField()
    project = serializers.SerializerMethodField()
    unit = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField()
    taken_by = serializers.SerializerMethodField()
    due_at = serializers.SerializerMethodField()
    due_day = serializers.SerializerMethodField()
    due = serializers.SerializerMethodField()
    amount_yuan = serializers.SerializerMethodField()
    page = serializers.SerializerMethodField()

    @property
    def rows_are(self):
        return self.context["rows_are"]

    def get_kind(self, item) -> str:
        return "task" if self.rows_are == work.KIND_TASKS else "docking"

    def get_title(self, item) -> str:
        return str(item.flow_task.task_title) if self.rows_are == work.KIND_TASKS else item.project.name

    def get_subject(self, item) -> str:
        if self.rows_are == work.KIND_TASKS:
            clock = _clock_of(item)
            return clock.title if clock else ""
        return item.institution.name

    @extend_schema_field(ProjectRefSerializer(allow_null=True))
    def get_project(self, item):
        if self.rows_are == work.KIND_TASKS:
            clock = _clock_of(item)
            return _project_ref(clock.project) if clock else None
        return _project_ref(item.project)

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_unit(self, item):
        if self.rows_are == work.KIND_TASKS:
            clock = _clock_of(item)
            return {"id": clock.unit_id, "name": clock.unit.name} if clock else None
        return {"id": item.institution_id, "name": item.institution.name}

    def get_state(self, item) -> str:
        """A task: "mine" (taken by me) or "to_take" (waits in my queue); a docking: its state."""
        if self.rows_are == work.KIND_TASKS:
            return "mine" if item.owner_id else "to_take"
        return item.state

    def get_taken_by(self, item) -> str | None:
        if self.rows_are == work.KIND_TASKS and item.owner_id:
            return taker_name(item)
        return None

    def get_due_at(self, item) -> str | None:
        clock = _clock_of(item) if self.rows_are == work.KIND_TASKS else None
        return clock.due_at.isoformat() if clock else None

    def get_due_day(self, item) -> str | None:
        """The day the deadline ends (a deadline at midnight ends the day before)."""
        clock = _clock_of(item) if self.rows_are == work.KIND_TASKS else None
        return WorkingCalendar.deadline_day(clock.due_at).isoformat() if clock else None

    @extend_schema_field(DueSerializer(allow_null=True))
    def get_due(self, item):
        return _due(_clock_of(item), self.context) if self.rows_are == work.KIND_TASKS else None

    def get_amount_yuan(self, item) -> str | None:
        """A docking's need (else its case's financing gap), in yuan; None for a task."""
        if self.rows_are == work.KIND_TASKS:
            return None
        amount = item.need.amount if item.need_id else item.project.capital_gap
        return str(amount) if amount is not None else None

    def get_page(self, item) -> str:
        if self.rows_are == work.KIND_TASKS:
            return task_url(item)
        return reverse("financing:docking", args=[item.pk])


FILTERS = [
    OpenApiParameter("kind", str, description="Only this step (a task's flow_task reference)."),
    OpenApiParameter("project", int, description="Only the work of this key project."),
    OpenApiParameter("due", str, enum=list(work.DUE_FILTERS), description="Only the overdue, or due within a working day."),
    OpenApiParameter("state", str, enum=list(work.STATE_FILTERS), description="Only mine, or only waiting to be taken."),
]


class MyWorkView(generics.ListAPIView):
    """My work: the tasks I took and those my unit or role may take, soonest deadline first; for an
    institution's people, their dockings waiting for a step."""

    permission_classes = [drf_permissions.IsAuthenticated]
    serializer_class = WorkItemSerializer
    filter_backends = []

    def filters(self):
        found, errors = work.read_filters(self.request.query_params)
        if errors:
            raise ValidationError(errors)
        return found

    def get_queryset(self):
        self.rows_are, queryset = work.my_work(self.request.user, **self.filters())
        return queryset

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["rows_are"] = getattr(self, "rows_are", work.KIND_TASKS)
        context["calendar"] = WorkingCalendar.load()
        return context

    @extend_schema(summary="My work: what I may act on now, soonest due first", parameters=FILTERS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
