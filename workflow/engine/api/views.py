"""API of the engine's tasks: my tasks, my unit's queue, the overdue ones, a task's breach; claim,
give back, pause, resume, complete. Scoped by the selectors, every change through a service."""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions as drf_permissions
from rest_framework import serializers as drf_serializers
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Task

from cases import permissions as case_permissions

from .. import clocks, selectors, services, steps
from ..forms import OverdueFilterForm
from ..models import TaskClock
from . import serializers


class CoordinationAccess(drf_permissions.BasePermission):
    """Tasks are for government people: the secretariat, supervisors, leaders and the units."""

    def has_permission(self, request, view):
        return case_permissions.is_internal(request.user)


ERRORS = {
    400: OpenApiResponse(description="Bad input: the step's form errors, by field."),
    403: OpenApiResponse(description="The task is not yours, your unit's or your role's to do."),
    404: OpenApiResponse(description="Not found, or outside what you may see."),
    409: OpenApiResponse(description="The task is done already, or someone else took it."),
}


OVERDUE_FILTERS = [
    OpenApiParameter("unit", int, description="Only this unit's tasks."),
    OpenApiParameter(
        "leader", int, description="Only the cases of this responsible leader (tasks about no case have none)."
    ),
    OpenApiParameter("level", str, description="The highest rung fired: 0 to 4, or 'none'."),
    OpenApiParameter("min_days", int, description="At least this many working days overdue (0 to 2500)."),
    OpenApiParameter(
        "order",
        str,
        enum=list(selectors.BOARD_ORDERS),
        description=(
            "Sort; '-overdue' (the default) puts the most working days overdue first, that is the "
            "earliest deadline; ties go by task clock id."
        ),
    ),
]


class TaskViewSet(viewsets.GenericViewSet):
    """My tasks, my unit's queue, the overdue ones; a task's breach; claim, pause, complete."""

    permission_classes = [drf_permissions.IsAuthenticated, CoordinationAccess]
    serializer_class = serializers.TaskSerializer
    queryset = Task.objects.none()
    filter_backends = []
    lookup_value_regex = r"[0-9]+"

    def get_serializer_context(self):
        return serializers.context_with_calendar(super().get_serializer_context())

    def _page(self, rows, serializer_class):
        page = self.paginate_queryset(rows)
        data = serializer_class(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    def get_object(self):
        task = selectors.task_for(self.request.user, self.kwargs["pk"])
        if task is None:
            raise Http404
        return task

    @extend_schema(summary="My tasks: the ones I have claimed, soonest due first")
    def list(self, request):
        return self._page(selectors.inbox(request.user), serializers.TaskSerializer)

    @extend_schema(
        summary="My unit's queue: tasks waiting to be claimed, soonest due first",
        responses={200: serializers.TaskSerializer(many=True)},
    )
    @action(detail=False, methods=["get"])
    def queue(self, request):
        return self._page(selectors.queue(request.user), serializers.TaskSerializer)

    @extend_schema(
        summary="Overdue tasks I may see, with working days overdue and level",
        description=(
            "Paginated like every list (`count`, `next`, `previous`, `results`; `page` picks one): "
            "the filters and the order apply to every overdue task, the working days overdue are "
            "computed for the page's rows."
        ),
        parameters=OVERDUE_FILTERS,
        responses={200: serializers.OverdueSerializer(many=True), 400: ERRORS[400]},
    )
    @action(detail=False, methods=["get"])
    def overdue(self, request):
        form = OverdueFilterForm(request.query_params)
        if not form.is_valid():
            return Response(form.errors.get_json_data(), status=status.HTTP_400_BAD_REQUEST)
        order = request.query_params.get("order", selectors.BOARD_DEFAULT_ORDER)
        if order not in selectors.BOARD_ORDERS:
            return Response(
                {"order": [_("One of %(orders)s.") % {"orders": ", ".join(selectors.BOARD_ORDERS)}]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        context = self.get_serializer_context()
        board = selectors.overdue_board(request.user, order=order, now=context["now"], **form.filters())
        page = selectors.with_due_states(self.paginate_queryset(board), context["now"], context["calendar"])
        return self.get_paginated_response(serializers.OverdueSerializer(page, many=True, context=context).data)

    @extend_schema(
        summary="A task with its deadline, breach history and the inputs its step takes",
        responses={200: serializers.TaskDetailSerializer, 404: ERRORS[404]},
    )
    def retrieve(self, request, pk=None):
        return Response(serializers.TaskDetailSerializer(self.get_object(), context=self.get_serializer_context()).data)

    def _detail(self, task):
        task = selectors.task_for(self.request.user, task.pk) or task
        return Response(serializers.TaskDetailSerializer(task, context=self.get_serializer_context()).data)

    @extend_schema(summary="Claim a task from the queue", request=None, responses={200: serializers.TaskDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        task = self.get_object()
        if task.status != "NEW":
            return Response({"detail": _conflict_reason(task)}, status=status.HTTP_409_CONFLICT)
        services.claim_task(task=task, user=request.user)
        return self._detail(task)

    @extend_schema(summary="Give a claimed task back to the queue", request=None, responses={200: serializers.TaskDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        task = self.get_object()
        if task.status not in ("ASSIGNED", "STARTED") or task.owner_id != request.user.pk:
            return Response({"detail": _conflict_reason(task)}, status=status.HTTP_409_CONFLICT)
        services.release_task(task=task, user=request.user)
        return self._detail(task)

    def _clock(self, task):
        clock = TaskClock.objects.filter(task_id=task.pk).first()
        if clock is None:
            raise Http404
        if not clocks.may_pause(self.request.user, clock):
            raise PermissionDenied(str(_("Only the unit's head, a supervisor or the secretariat may pause this clock.")))
        return clock

    @extend_schema(
        summary="Pause the task's clock, with a reason",
        request=serializers.PauseSerializer,
        responses={200: serializers.TaskDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        task = self.get_object()
        clock = self._clock(task)
        body = serializers.PauseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        clocks.clock_pause(clock=clock, actor=request.user, reason=body.validated_data["reason"])
        return self._detail(task)

    @extend_schema(
        summary="Resume the task's clock; its deadline moves by the working time it stood",
        request=None,
        responses={200: serializers.TaskDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        task = self.get_object()
        clocks.clock_resume(clock=self._clock(task), actor=request.user)
        return self._detail(task)

    @extend_schema(
        summary="Complete the task's step",
        description=(
            "The body holds the step's inputs, as listed under `inputs` in the task's detail "
            "(for example `{\"decision\": \"close_out\", \"reason\": \"\"}` to verify a blocker). "
            "Steps whose form is not simple (`completable_by_api` false) are completed on their page."
        ),
        request=OpenApiTypes.OBJECT,
        responses={200: serializers.TaskDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        task = self.get_object()
        if task.status not in selectors.OPEN:
            return Response({"detail": _conflict_reason(task)}, status=status.HTTP_409_CONFLICT)
        if not services.can_act(request.user, task):
            raise PermissionDenied(str(_("This task is not yours to do.")))
        step = steps.step_of(task)
        if step is None or not step.simple:
            raise drf_serializers.ValidationError(
                {"non_field_errors": [str(_("This step is completed on its page."))], "page": f"/workflow/tasks/{task.pk}/"}
            )
        data = request.data if isinstance(request.data, dict) else {}
        form = step.form_class(data=data, **steps.form_kwargs(task))
        if not form.is_valid():
            return Response(
                {field: [e["message"] for e in errors] for field, errors in form.errors.get_json_data().items()},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            with services.task_locked(task):
                step.perform(task, request.user, form.cleaned_data)
        except FlowLockFailed:
            busy = _("Someone is working on this task right now: nothing was changed. Try again in a moment.")
            return Response({"detail": str(busy)}, status=status.HTTP_409_CONFLICT)
        return self._detail(task)


def _conflict_reason(task):
    if task.status not in selectors.OPEN:
        return str(_("This task is done already."))
    return str(_("Someone else has taken this task."))
