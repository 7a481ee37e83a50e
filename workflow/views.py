"""Task pages: one per step of a flow. Each collects its step's form and calls the step's service.

viewflow's wrapper has claimed and started the task under the flow's lock; the service
changes the records and finishes the task (directly, or through the cases hook for steps
that are a record's transition). What a step asks for and does lives in ``steps``, which
the API shares.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _
from django.views import generic
from viewflow.workflow.flow.views import mixins

from cases import services as case_services

from . import selectors, steps
from .forms import CommitmentFormSet, RaiseBlockerFormSet


class StepView(mixins.SuccessMessageMixin, mixins.TaskSuccessUrlMixin, generic.FormView):
    """A step's page: the form, the case it concerns and the task's clock with its breach history."""

    template_name = "workflow/task.html"
    success_message = _("Task {task} has been completed.")

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
        return self.request.GET.get("back") or "/workflow/inbox/"


class InterviewHoldView(StepView):
    """The interview's minutes, with a formset of the commitments made."""

    template_name = "workflow/task_hold.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("commitments", self.commitments)
        return context

    def post(self, request, *args, **kwargs):
        self.commitments = CommitmentFormSet(request.POST, prefix="commitments")
        return super().post(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        self.commitments = CommitmentFormSet(prefix="commitments")
        return super().get(request, *args, **kwargs)

    def form_valid(self, form):
        if not self.commitments.is_valid():
            return self.form_invalid(form)
        return super().form_valid(form)

    def perform(self, form):
        rows = [row for row in self.commitments.cleaned_data if row.get("text")]
        self.step.perform(self.task, self.request.user, {**form.cleaned_data, "commitments": rows})


class ReportWriteView(StepView):
    """The monthly report: the figures and texts, photos and files, and problems to raise as blockers."""

    template_name = "workflow/task_report.html"

    def get_context_data(self, **kwargs):
        from . import reports

        context = super().get_context_data(**kwargs)
        context.setdefault("blockers", self.blockers)
        report = self.process.report
        context["report"] = report
        context["previous_progress"] = reports.previous_progress(report)
        return context

    def post(self, request, *args, **kwargs):
        self.blockers = RaiseBlockerFormSet(request.POST, prefix="blockers")
        return super().post(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        self.blockers = RaiseBlockerFormSet(prefix="blockers")
        return super().get(request, *args, **kwargs)

    def get_initial(self):
        report = self.process.report
        if report.state == report.State.RETURNED:
            return {name: getattr(report, name) for name in self.get_form_class().base_fields if hasattr(report, name)}
        return {}

    def form_valid(self, form):
        if not self.blockers.is_valid():
            return self.form_invalid(form)
        return super().form_valid(form)

    def perform(self, form):
        rows = [row for row in self.blockers.cleaned_data if row.get("title")]
        files = self.request.FILES.getlist("attachments")
        self.step.perform(self.task, self.request.user, {**form.cleaned_data, "blockers": rows, "attachments": files})


class ReportReviewView(StepView):
    """The secretariat's review: the report's figures and texts above the accept-or-return form."""

    template_name = "workflow/task_report_review.html"

    def get_context_data(self, **kwargs):
        from . import reports

        context = super().get_context_data(**kwargs)
        report = reports.report_for(self.request.user, self.process.report_id)
        context["report"] = report
        context["previous_progress"] = reports.previous_progress(report) if report else None
        return context
