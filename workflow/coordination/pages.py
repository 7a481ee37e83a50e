"""Pages of supervision orders and interviews: their lists and pages, and a supervisor's acts on a
case or an overdue task (issue an order, propose an interview)."""


from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views import generic

from cases import permissions as case_permissions
from cases.models import KeyProject, Role
from workflow.engine.models import TaskClock
from workflow.engine.pages import InternalPage

from . import launch, selectors
from .forms import IssueOrderForm, ProposeInterviewForm


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


class OrderDetailView(InternalPage):
    """An order, for government people only, as the list (an owner saw its own cases' orders here)."""

    template_name = "workflow/order_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["order"] = get_object_or_404(selectors.supervision_orders(self.request.user), pk=self.kwargs["pk"])
        return context


class InterviewDetailView(InternalPage):
    """An interview, for government people only, as the list."""

    template_name = "workflow/interview_detail.html"

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

    def get_context_data(self, **kwargs):
        # The order still open about the task, if any: the page says so, and issuing is refused.
        return {**super().get_context_data(**kwargs), "open_order": selectors.open_order_of(self.clock)}

    def act(self, data):
        order = launch.issue_order(
            project=self.project,
            unit=data["unit"],
            subject=data["subject"],
            actor=self.request.user,
            clock=self.clock,
            urgency=data["urgency"],
            respond_by=data["respond_by"],
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
        interview = launch.propose_interview(
            project=self.project,
            leader=data["leader"],
            reason=data["reason"],
            actor=self.request.user,
            unit=self.clock.unit if self.clock else None,
            clock=self.clock,
        )
        messages.success(self.request, _("The interview was proposed for approval."))
        return f"/workflow/interviews/{interview.pk}/"
