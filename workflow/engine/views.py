"""The task page of a human step: the step's form, the case it concerns and the task's clock with
its breach history. viewflow's wrapper has claimed and started the task under the flow's lock; the
step's service changes the records and finishes the task.

And "my work" (待办), the page every person starts from: what they may act on now, with the
one-click take of a task waiting in their queue."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import generic
from viewflow.workflow.flow.views import mixins

from cases import permissions as case_permissions
from cases import services as case_services
from cases import views as case_views

from . import registry, selectors, services, steps, work
from .calendar import WorkingCalendar


class StepView(mixins.SuccessMessageMixin, mixins.TaskSuccessUrlMixin, generic.FormView):
    """A step's page: the form, the case it concerns and the task's clock with its breach history."""

    template_name = "workflow/task.html"
    success_message = gettext_lazy("Task {task} has been completed.")

    @property
    def activation(self):
        return self.request.activation

    @property
    def task(self):
        return self.activation.task

    @property
    def process(self):
        return self.activation.process

    @property
    def step(self):
        return steps.step_of(self.task)

    def get_form_class(self):
        return self.step.form_class

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(steps.form_kwargs(self.task))
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(selectors.task_context(self.task, self.process))
        return context

    def perform(self, form):
        self.step.perform(self.task, self.request.user, form.cleaned_data)

    def form_valid(self, form):
        try:
            self.perform(form)
        except case_services.TransitionBlocked as blocked:
            for reason in blocked.reasons:
                form.add_error(None, reason)
            return self.form_invalid(form)
        except (case_services.Conflict, case_services.TransitionNotAvailable) as error:
            form.add_error(None, error.message)
            return self.form_invalid(form)
        except PermissionDenied as denied:
            form.add_error(None, str(denied) or _("You may not take this step."))
            return self.form_invalid(form)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, messages in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, messages)
            else:
                form.add_error(None, error)
            return self.form_invalid(form)
        return super().form_valid(form)

    def get_success_url(self):
        return self.request.GET.get("back") or reverse("my_work")


# My work


def task_url(task):
    """A task's page: viewflow's index of the task sends to its form, its assign page or its detail."""
    return task.flow_task.reverse("index", args=[task.process_id, task.pk])


def taker_name(task):
    """Who holds a task, as a colleague reads it: their name, else their login."""
    person = case_permissions.person_of(task.owner) if task.owner_id else None
    return person.name if person is not None else (task.owner.username if task.owner_id else "")


class MyWorkView(LoginRequiredMixin, generic.TemplateView):
    """My work (待办): what the person may act on now, soonest due first, paged, filtered by step,
    case, due state and whether it is theirs or waits to be taken."""

    template_name = "workflow/my_work.html"
    page_size = 25

    def filters(self):
        """The valid filters of the query string; a page ignores the others."""
        found, _errors = work.read_filters(self.request.GET)
        return {name: found.get(name) for name in ("kind", "project", "due", "state")}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        filters = self.filters()
        rows_are, queryset = work.my_work(user, **filters)
        page = Paginator(queryset, self.page_size).get_page(self.request.GET.get("page"))
        rows = list(page.object_list)
        cal = WorkingCalendar.load()
        if rows_are == work.KIND_TASKS:
            for task in rows:
                clock = getattr(task, "clock", None)
                task.due = selectors.due_state(clock, cal=cal) if clock is not None else None
                task.due_day = cal.deadline_day(clock.due_at) if clock is not None else None
                task.url = task_url(task)
                task.taker = taker_name(task)
        kept = {name: value for name, value in filters.items() if value}
        context.update(
            {
                "rows_are": rows_are,
                "page": page,
                "rows": rows,
                "filters": filters,
                "query": urlencode(kept) + "&" if kept else "",
                "step_choices": work.step_choices() if rows_are == work.KIND_TASKS else [],
                "counts": work.counts(user),
            }
        )
        return context


class TakeTaskView(LoginRequiredMixin, generic.View):
    """Take a task from the queue in one click and open it; a colleague who took it first is named."""

    def post(self, request, pk):
        task = selectors.task_for(request.user, pk)
        if task is None:
            raise Http404
        if task.owner_id and task.owner_id != request.user.pk:
            messages.warning(request, _("%(name)s took this task first.") % {"name": taker_name(task)})
            return HttpResponseRedirect(reverse("my_work"))
        if task.owner_id is None:
            try:
                services.claim_task(task=task, user=request.user)
            except PermissionDenied as denied:
                messages.error(request, str(denied))
                return HttpResponseRedirect(reverse("my_work"))
        return HttpResponseRedirect(task_url(task))


class HomeView(case_views.HomeView):
    """The home page, opening with the person's work: its counts linking to my work, and the lines
    the domains add for the role (the secretariat's cycle step, a supervisor's overdue orders)."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        figures = work.counts(user)
        lines = [line for panel in registry.home_panels() for line in panel(user)]
        context.update(
            {
                "work_counts": figures,
                "home_lines": lines,
            }
        )
        return context
