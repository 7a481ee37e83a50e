"""Pages around the flows: the inbox and queue with due badges, the overdue board, a task's
deadline page, and the lists of supervision orders and interviews."""

import io
from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
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
from viewflow.workflow.flow import FlowViewset
from viewflow.workflow.flow.views import filters
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
from viewflow.workflow.models import Process
from viewflow.workflow.status import STATUS

from cases import permissions as case_permissions
from cases.models import KeyProject, Role

from . import lights, selectors, services
from .calendar import WorkingCalendar, deadline_text
from .forms import IssueOrderForm, OverdueFilterForm, PauseForm, ProposeInterviewForm
from .models import Light, LightSnapshot, TaskClock, step_and_subject


def case_label(project):
    """A case as a row shows it; a task about no single case says so."""
    return f"{project.code} {project.name}" if project is not None else _("no key project")


def due_badge(clock, cal=None):
    if clock is None:
        return ""
    state = selectors.due_state(clock, cal=cal)
    return format_html(
        '<span class="kp-due kp-due--{}" title="{}">{}</span>',
        state.code,
        deadline_text(clock.due_at),
        state.label,
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


# A task's deadline


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
                "can_pause": clock is not None and services.may_pause(self.request.user, clock),
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
                services.clock_resume(clock=clock, actor=request.user)
                messages.success(request, _("The clock runs again; the deadline moved by the time it stood."))
            else:
                form = PauseForm(request.POST)
                if not form.is_valid():
                    raise ValidationError(form.errors.get("reason", [_("Say why the clock stops.")])[0])
                services.clock_pause(clock=clock, actor=request.user, reason=form.cleaned_data["reason"])
                messages.success(request, _("The clock is paused."))
        except PermissionDenied:
            raise
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return HttpResponseRedirect(f"/workflow/tasks/{pk}/")


# The overdue board


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
        paginator = Paginator(board, BOARD_PAGE_SIZE)
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
                "can_issue": case_permissions.role_of(self.request.user) in (Role.SUPERVISOR, Role.SECRETARIAT),
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
                    step_and_subject(step, subject),
                    f"{code} {name}" if code is not None else _("no key project"),
                    unit,
                    leader or "",
                    due_day.strftime("%Y-%m-%d"),
                    days_late[due_day],
                    "" if level is None else level,
                ]
            )
            written += 1
        buffer = io.BytesIO()
        workbook.save(buffer)
        response = HttpResponse(
            buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="overdue-{timezone.localdate():%Y%m%d}.xlsx"'
        return response


# Supervision orders and interviews


class ListPage(InternalPage):
    selector = None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        queryset = type(self).selector(self.request.user)
        state = self.request.GET.get("state")
        if state:
            queryset = queryset.filter(state=state)
        context["page"] = Paginator(queryset, 25).get_page(self.request.GET.get("page"))
        context["state"] = state or ""
        context["states"] = queryset.model.State.choices
        return context


class OrderListView(ListPage):
    template_name = "workflow/order_list.html"
    selector = staticmethod(selectors.supervision_orders)


class InterviewListView(ListPage):
    template_name = "workflow/interview_list.html"
    selector = staticmethod(selectors.interviews)


class OrderDetailView(LoginRequiredMixin, generic.TemplateView):
    template_name = "workflow/order_detail.html"
    viewset = None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["order"] = get_object_or_404(selectors.supervision_orders(self.request.user), pk=self.kwargs["pk"])
        return context


class InterviewDetailView(LoginRequiredMixin, generic.TemplateView):
    template_name = "workflow/interview_detail.html"
    viewset = None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["interview"] = get_object_or_404(selectors.interviews(self.request.user), pk=self.kwargs["pk"])
        return context


class ProjectActionView(LoginRequiredMixin, generic.FormView):
    """A supervisor's act on a case, or on an overdue task: issue a supervision order, propose an interview."""

    template_name = "workflow/project_action.html"
    viewset = None
    title = ""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if case_permissions.role_of(request.user) not in (Role.SUPERVISOR, Role.SECRETARIAT):
            raise PermissionDenied
        self.project, self.clock = self.target(request, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def target(self, request, **kwargs):
        """The case acted on, and the overdue task that prompted it (if any)."""
        project = get_object_or_404(KeyProject, pk=kwargs["project"])
        clock = TaskClock.objects.filter(pk=request.GET.get("clock") or request.POST.get("clock") or 0).first()
        return project, clock

    def get_initial(self):
        initial = super().get_initial()
        if self.clock is not None:
            initial.update({"subject": self.clock.title, "unit": self.clock.unit_id})
        return initial

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "project": self.project, "clock": self.clock, "title": self.title}

    def form_valid(self, form):
        try:
            target = self.act(form.cleaned_data)
        except ValidationError as error:
            for field, errors in getattr(error, "message_dict", {None: error.messages}).items():
                form.add_error(field if field in form.fields else None, errors)
            return self.form_invalid(form)
        return HttpResponseRedirect(target)


class IssueOrderView(ProjectActionView):
    form_class = IssueOrderForm

    @property
    def title(self):
        return _("Issue a supervision order")

    def act(self, data):
        order = services.issue_order(
            project=self.project, unit=data["unit"], subject=data["subject"], actor=self.request.user, clock=self.clock
        )
        messages.success(self.request, _("Supervision order %(number)s was issued.") % {"number": order.number})
        return f"/workflow/orders/{order.pk}/"


class IssueTaskOrderView(IssueOrderView):
    """A supervision order about an overdue task, on its case if it has one: the board's action
    for a task about no single case (a meeting decision on a policy)."""

    def target(self, request, **kwargs):
        clock = get_object_or_404(TaskClock.objects.select_related("project", "unit"), task_id=kwargs["pk"])
        return clock.project, clock


class ProposeInterviewView(ProjectActionView):
    form_class = ProposeInterviewForm

    @property
    def title(self):
        return _("Propose an interview")

    def get_initial(self):
        initial = super().get_initial()
        if self.project.responsible_leader_id:
            initial["leader"] = self.project.responsible_leader_id
        return initial

    def act(self, data):
        interview = services.propose_interview(
            project=self.project,
            leader=data["leader"],
            reason=data["reason"],
            actor=self.request.user,
            unit=self.clock.unit if self.clock else None,
            clock=self.clock,
        )
        messages.success(self.request, _("The interview was proposed for approval."))
        return f"/workflow/interviews/{interview.pk}/"



# viewflow's per-flow pages, scoped like everything else


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


class ScopedFlowViewset(FlowViewset):
    dashboard_view_class = ScopedDashboardView
    process_detail_view_class = ScopedProcessDetailView
    process_list_view_class = ScopedProcessListView
    task_list_view_class = ScopedTaskListView


# Lights


class LightsView(InternalPage):
    """The month's lights of the cases the reader may see, with their reasons and forecast."""

    template_name = "workflow/lights.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        months = selectors.light_months()
        month = lights.month_param(self.request.GET.get("month")) or (
            months[0] if months else lights.previous_month(lights.first_of_month(timezone.localdate()))
        )
        light = self.request.GET.get("light", "")
        light = light if light in Light.values else ""
        page = Paginator(selectors.lights(self.request.user, month, light or None), 50).get_page(
            self.request.GET.get("page")
        )
        for snapshot in page:
            snapshot.reason_texts = [lights.reason_text(reason) for reason in snapshot.reasons]
        counts = selectors.light_counts(self.request.user, month)
        context.update(
            {
                "month": month,
                "months": months,
                "light": light,
                "lights": Light.choices,
                "page": page,
                "light_counts": [
                    (value, label, counts[value]) for value, label in reversed(Light.choices)
                ],
                "method": lights.FORECAST_METHOD,
                "can_compute": case_permissions.is_secretariat(self.request.user),
                "this_month": lights.first_of_month(timezone.localdate()),
                "headers": {
                    name: capfirst(LightSnapshot._meta.get_field(name).verbose_name)
                    for name in ("expected_progress", "completed_progress")
                },
            }
        )
        return context

    def post(self, request, *args, **kwargs):
        if not case_permissions.is_secretariat(request.user):
            raise PermissionDenied
        month = lights.begun_month(request.POST.get("month"))
        if month is None:
            messages.error(request, _("Choose a month that has begun, as YYYY-MM."))
            return HttpResponseRedirect(request.path)
        computed = lights.lights_compute(month=month)
        messages.success(
            request, _("The lights of %(month)s were computed for %(count)s cases.") % {
                "month": f"{month:%Y-%m}", "count": len(computed)
            }
        )
        return HttpResponseRedirect(f"{request.path}?month={month:%Y-%m}")
