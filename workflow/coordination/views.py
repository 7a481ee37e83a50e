"""The task pages of coordination steps that need more than the engine's step page: the interview's
minutes with its commitments."""


from workflow.engine.views import StepView

from .forms import CommitmentFormSet


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
