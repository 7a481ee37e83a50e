"""The task page of a unit's "propose projects": its proposals, the reason of any sent back, and
the submit form."""

from workflow.engine.views import StepView

from . import selectors


class ProposeStepView(StepView):
    template_name = "workflow/planning/task_propose.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        compilation = self.process.compilation
        context["compilation"] = compilation
        context["proposals"] = list(selectors.proposals(self.request.user, compilation).filter(unit_id=self.process.unit_id))
        return context
