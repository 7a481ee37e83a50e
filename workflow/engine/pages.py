"""The engine's pages: the inbox and queue with due badges, a task's deadline page and its pause,
the overdue board and its export, viewflow's per-flow pages scoped like everything else, and the
base page for government people."""

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from django.views import generic
from openpyxl import Workbook
from viewflow.utils import viewprop
from viewflow.workflow import chart
from viewflow.workflow.fields import get_task_ref
from viewflow.workflow.flow import FlowViewset, WorkflowAppViewset
from viewflow.workflow.flow.views import filters
from viewflow.workflow.flow.views.chart import FlowChartView
from viewflow.workflow.flow.views.dashboard import (
    DashboardProcessListView,
    DashboardTaskListView,
    DashboardView,
)
from viewflow.workflow.flow.views.detail import DetailProcessView
from viewflow.workflow.flow.views.list import (
    WorkflowArchiveListView,
    WorkflowInboxListView,
    WorkflowQueueListView,
)
from viewflow.workflow.flow.viewset import NestedFlowsApp
from viewflow.workflow.models import Process
from viewflow.workflow.status import STATUS

from cases import permissions as case_permissions
from cases.excel import as_text, save_workbook
from cases.models import Role

from . import clocks, selectors, services
from .calendar import WorkingCalendar, deadline_day_text, deadline_label
from .forms import OverdueFilterForm, PauseForm
from .models import TaskClock, step_and_subject


def case_label(project):
    """A case as a row shows it; a task about no single case says so."""
    return f"{project.code} {project.name}" if project is not None else _("no key project")


def due_badge(clock, cal=None):
    """A task's deadline in a list: the day it ends, beside a badge of how it stands."""
    if clock is None:
        return ""
    state = selectors.due_state(clock, cal=cal)
    day = deadline_day_text(clock.due_at)
    return format_html(
        '<span class="kp-due kp-due--{}" title="{}">{}</span> <time class="kp-due-day" datetime="{}">{}</time>',
        state.code,
        deadline_label(clock.due_at),
        state.label,
        WorkingCalendar.deadline_day(clock.due_at).isoformat(),
        day,
    )


class ClockColumnsMixin:
    """Columns that read the task's clock (loaded with the task, no query per row)."""

    def flow_task(self, task):
        return task.flow_task.task_title

    flow_task.short_description = gettext_lazy("Task")

    def case(self, task):
        clock = getattr(task, "clock", None)
        return case_label(clock.project) if clock else ""

    case.short_description = gettext_lazy("Key project")

    def unit(self, task):
        clock = getattr(task, "clock", None)
        return clock.unit.name if clock else ""

    unit.short_description = gettext_lazy("Unit")

    def due(self, task):
        # One calendar per request, not a holiday query per row.
        if not hasattr(self, "_calendar"):
            self._calendar = WorkingCalendar.load()
        return due_badge(getattr(task, "clock", None), self._calendar)

    due.short_description = gettext_lazy("Deadline")

    def deadline_page(self, task):
        return format_html('<a href="/workflow/tasks/{}/">{}</a>', task.pk, _("deadline"))

    deadline_page.short_description = gettext_lazy("Breach history")


class TaskListFilter(filters.FlowUserTaskListFilter):
    """viewflow's inbox and queue filters without its process drop-down, which lists every
    process with a task in the list: thousands of options in a busy unit's queue."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters.pop("process")


class InboxView(ClockColumnsMixin, WorkflowInboxListView):
    columns = ("task_id", "flow_task", "case", "due", "deadline_page")
    filterset_class = TaskListFilter

    @viewprop
    def queryset(self):
        return selectors.inbox(self.request.user)


class QueueView(ClockColumnsMixin, WorkflowQueueListView):
    columns = ("task_id", "flow_task", "case", "unit", "due", "deadline_page")
    filterset_class = TaskListFilter

    @viewprop
    def queryset(self):
        return selectors.queue(self.request.user)


class ArchiveView(ClockColumnsMixin, WorkflowArchiveListView):
    columns = ("task_id", "flow_task", "case", "finished")

    @viewprop
    def queryset(self):
        return self.model._default_manager.archive(self.flow_classes, self.request.user).select_related(
            "process", "clock__project"
        )


class TaskClockView(LoginRequiredMixin, generic.TemplateView):
    """A task's deadline and breach: due when, each rung fired and who was told, the pauses."""

    template_name = "workflow/task_clock.html"
    viewset = None

    def get_task(self):
        task = selectors.task_for(self.request.user, self.kwargs["pk"])
        if task is None:
            raise Http404
        return task

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        task = self.get_task()
        context.update(selectors.task_context(task, task.process.coerced))
        clock = context.get("clock")
        context.update(
            {
                "task": task,
                "can_act": services.can_act(self.request.user, task),
                "task_url": task.flow_task.reverse("index", args=[task.process_id, task.pk]),
                "can_pause": clock is not None and clocks.may_pause(self.request.user, clock),
                "pause_form": PauseForm(),
            }
        )
        return context


class PauseView(LoginRequiredMixin, generic.View):
    def post(self, request, pk):
        task = selectors.task_for(request.user, pk)
        clock = TaskClock.objects.filter(task_id=pk).first() if task else None
        if clock is None:
            raise Http404
        try:
            if request.POST.get("action") == "resume":
                clocks.clock_resume(clock=clock, actor=request.user)
                messages.success(request, _("The clock runs again; the deadline moved by the time it stood."))
            else:
                form = PauseForm(request.POST)
                if not form.is_valid():
                    raise ValidationError(form.errors.get("reason", [_("Say why the clock stops.")])[0])
                clocks.clock_pause(clock=clock, actor=request.user, reason=form.cleaned_data["reason"])
                messages.success(request, _("The clock is paused."))
        except PermissionDenied:
            raise
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return HttpResponseRedirect(f"/workflow/tasks/{pk}/")


LEVEL_LABELS = {
    None: gettext_lazy("not escalated yet"),
    0: gettext_lazy("0 · owner reminded"),
    1: gettext_lazy("1 · unit head told"),
    2: gettext_lazy("2 · leader told"),
    3: gettext_lazy("3 · supervision order"),
    4: gettext_lazy("4 · interview proposed"),
}


GROUPINGS = {"unit": gettext_lazy("unit"), "leader": gettext_lazy("responsible leader"), "level": pgettext_lazy("escalation", "level")}
BOARD_PAGE_SIZE = 50
# An Excel sheet holds 1,048,576 rows: the header, the rows, and a last line saying what did not fit.
EXPORT_MAX_ROWS = 1_048_576 - 2


def group_of(clock, grouping):
    if grouping == "leader":
        if clock.project is None:
            return _("no key project")
        leader = clock.project.responsible_leader
        return leader.name if leader else _("no responsible leader")
    if grouping == "level":
        return str(LEVEL_LABELS.get(clock.level, clock.level))
    return clock.unit.name


class InternalPage(LoginRequiredMixin, generic.TemplateView):
    """A page for government people only: institutions and owners get 403."""

    viewset = None

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and case_permissions.role_of(request.user) not in case_permissions.INTERNAL:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class OverdueBoardView(InternalPage):
    """The overdue tasks the reader may see, filtered and sorted in the database and shown a
    page at a time; the counts per level and the total are over every filtered row."""

    template_name = "workflow/overdue_board.html"

    def board(self, now):
        """The filtered board (a queryset), and the filter form (its errors shown, the rows unfiltered, when invalid)."""
        form = OverdueFilterForm(self.request.GET or None)
        filters = form.filters() if form.is_valid() else {}
        return form, selectors.overdue_board(self.request.user, order=self.order(), now=now, **filters)

    def order(self):
        order = self.request.GET.get("order", selectors.BOARD_DEFAULT_ORDER)
        return order if order in selectors.BOARD_ORDERS else selectors.BOARD_DEFAULT_ORDER

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        grouping = self.request.GET.get("group", "unit")
        grouping = grouping if grouping in GROUPINGS else "unit"
        now = timezone.now()
        form, board = self.board(now)
        levels = selectors.overdue_level_counts(board)
        total = sum(levels.values())
        can_issue = case_permissions.role_of(self.request.user) in (Role.SUPERVISOR, Role.SECRETARIAT)
        # Who may issue an order is offered one only for a task without one open.
        paginator = Paginator(selectors.with_open_orders(board) if can_issue else board, BOARD_PAGE_SIZE)
        paginator.count = total  # counted with the levels already: no second COUNT over the whole set
        page = paginator.get_page(self.request.GET.get("page"))
        rows = selectors.with_due_states(page.object_list, now)
        # The groups are of the page's rows: a group is as long on this page as it says.
        groups = defaultdict(list)
        for clock in rows:
            groups[group_of(clock, grouping)].append(clock)
        filters = self.request.GET.copy()
        filters.pop("page", None)
        context.update(
            {
                "rows": rows,
                "page": page,
                "groups": sorted(groups.items(), key=lambda item: -len(item[1])),
                "grouping": grouping,
                "groupings": GROUPINGS.items(),
                "order": self.order(),
                "filter_form": form,
                "query": filters.urlencode(),
                "level_counts": [(LEVEL_LABELS[level], levels.get(level, 0)) for level in LEVEL_LABELS],
                "total": total,
                "can_issue": can_issue,
            }
        )
        return context


class OverdueExportView(OverdueBoardView):
    """Every row of the filtered board in a spreadsheet, streamed from the database as tuples."""

    def get(self, request, *args, **kwargs):
        cal = WorkingCalendar.load()
        now = timezone.now()
        # Rows due on the same day are as late as each other: one count per day, not per row.
        days_late = {}
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(_("Overdue tasks"))
        sheet.append(
            [
                capfirst(_("task")),
                capfirst(_("key project")),
                capfirst(_("unit")),
                capfirst(_("responsible leader")),
                _("Due"),
                _("Working days overdue"),
                pgettext("escalation", "Level"),
            ]
        )
        written = 0
        for step, subject, code, name, unit, leader, due_at, level in selectors.overdue_export_rows(self.board(now)[1]):
            if written == EXPORT_MAX_ROWS:
                sheet.append(
                    [_("Only the first %(count)s rows fit in a sheet; filter the board to export the rest.") % {
                        "count": EXPORT_MAX_ROWS
                    }]
                )
                break
            due_day = cal.deadline_day(due_at)
            if due_day not in days_late:
                days_late[due_day] = cal.overdue_days(due_at, now)
            sheet.append(
                [
                    as_text(sheet, step_and_subject(step, subject)),
                    as_text(sheet, f"{code} {name}") if code is not None else _("no key project"),
                    as_text(sheet, unit),
                    as_text(sheet, leader or ""),
                    due_day.strftime("%Y-%m-%d"),
                    days_late[due_day],
                    "" if level is None else level,
                ]
            )
            written += 1
        response = HttpResponse(
            save_workbook(workbook), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="overdue-{timezone.localdate():%Y%m%d}.xlsx"'
        return response


class ScopedDashboardView(DashboardView):
    """viewflow's kanban of a flow, showing only the processes the reader may see."""

    def get_context_data(self, **kwargs):
        sorted_nodes, _unused = chart.topsort(self.flow_class)
        available = self.flow_class.task_class._default_manager.filter(
            process__flow_class=self.flow_class, process__in=Process.objects.filter(selectors.process_scope(self.request.user))
        ).select_related("process")
        columns = [
            {
                "node": node,
                "node_ref": get_task_ref(node),
                "tasks": available.filter(Q(finished__isnull=True) | Q(status=STATUS.ERROR), flow_task=node)[
                    : self.MAX_ROWS
                ],
            }
            for node in sorted_nodes
            if node.task_type in ["HUMAN", "JOB", "SUBPROCESS"]
        ]
        end_nodes = [node for node in sorted_nodes if node.task_type in ["END"]]
        start_nodes = [
            {"node": node, "can_execute": node.can_execute(self.request.user)}
            for node in self.flow_class.instance.get_start_nodes()
        ]
        return super(DashboardView, self).get_context_data(
            columns=columns,
            start_nodes=start_nodes,
            end_nodes=end_nodes,
            finished=available.filter(finished__isnull=False, flow_task__in=end_nodes)[: self.MAX_ROWS],
            **kwargs,
        )


class ScopedProcessListView(DashboardProcessListView):
    def get_queryset(self):
        queryset = super().get_queryset().filter(selectors.process_scope(self.request.user))
        return queryset if queryset.ordered else queryset.order_by("-created", "-pk")


class ScopedTaskListView(DashboardTaskListView):
    @viewprop
    def queryset(self):
        return (
            self.model._default_manager.filter(
                process__flow_class=self.flow_class,
                process__in=Process.objects.filter(selectors.process_scope(self.request.user)),
            )
            .select_related("process")
        )


class ScopedProcessDetailView(DetailProcessView):
    """viewflow's process page, offering Cancel only to who may cancel (it manages the flow)."""

    template_name = "workflow/process_detail.html"

    def get_context_data(self, **kwargs):
        may_cancel = self.flow_class.instance.has_manage_permission(self.request.user, obj=self.object)
        return super().get_context_data(may_cancel=may_cancel, **kwargs)


class ScopedChartView(FlowChartView):
    """A process's chart shows how far it got: only to who may see the process (viewflow asked
    only whether the person may see the flow)."""

    def dispatch(self, request, *args, **kwargs):
        process_pk = kwargs.get("process_pk")
        if process_pk is not None:
            process = Process.objects.filter(pk=process_pk, flow_class=self.flow_class).first()
            if process is None:
                raise Http404
            if not self.flow_class.instance.has_view_permission(request.user, process):
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ScopedFlowViewset(FlowViewset):
    chart_view_class = ScopedChartView
    dashboard_view_class = ScopedDashboardView
    process_detail_view_class = ScopedProcessDetailView
    process_list_view_class = ScopedProcessListView
    task_list_view_class = ScopedTaskListView


class _FlowsIndexView(LoginRequiredMixin, generic.RedirectView):
    """The processes' index: to the first flow the person may see; to the login page for
    nobody logged in, refused for a person who may see none (viewflow's raises an error)."""

    viewset = None

    def get_redirect_url(self, *args, **kwargs):
        for flow_class in self.viewset.parent.flow_classes:
            if flow_class.instance.has_view_permission(self.request.user):
                return flow_class.instance.reverse("index")
        raise PermissionDenied


class ScopedFlowsApp(NestedFlowsApp):
    @property
    def index_path(self):
        return path("", _FlowsIndexView.as_view(viewset=self), name="index")


class ScopedWorkflowAppViewset(WorkflowAppViewset):
    """viewflow's inbox, queue and archive over the flows, with the processes' index above and the
    queue's bulk assign and the inbox's bulk unassign for logged-in people only (viewflow's fail
    with a server error for nobody logged in)."""

    def __init__(self, flow_viewsets, **kwargs):
        self.flow_classes = [viewset._flow_class for viewset in flow_viewsets]
        kwargs["viewsets"] = [*kwargs.get("viewsets", []), ScopedFlowsApp(viewsets=flow_viewsets)]
        super(WorkflowAppViewset, self).__init__(**kwargs)

    @viewprop
    def tasks_assign_view(self):
        return login_required(self.tasks_assign_view_class.as_view(**self.get_tasks_assign_view_kwargs()))

    @viewprop
    def tasks_unassign_view(self):
        return login_required(self.tasks_unassign_view_class.as_view(**self.get_tasks_unassign_view_kwargs()))
