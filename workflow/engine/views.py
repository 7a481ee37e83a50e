"""The task page of a human step: the step's form, the case it concerns and the task's clock with
its breach history. viewflow's wrapper has claimed and started the task under the flow's lock; the
step's service changes the records and finishes the task."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _
from django.views import generic
from viewflow.workflow.flow.views import mixins

from cases import services as case_services

from . import selectors, steps


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
