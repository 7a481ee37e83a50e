"""The task pages of the monthly report: the figures and texts, photos and files, and problems to
raise as blockers; the secretariat's review with the report above its form."""


from workflow.engine.views import StepView

from . import reports, selectors
from .forms import RaiseBlockerFormSet


class ReportWriteView(StepView):
    """The monthly report: the figures and texts, photos and files, and problems to raise as blockers."""

    template_name = "workflow/task_report.html"

    def get_context_data(self, **kwargs):
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
        context = super().get_context_data(**kwargs)
        report = selectors.report_for(self.request.user, self.process.report_id)
        context["report"] = report
        context["previous_progress"] = reports.previous_progress(report) if report else None
        return context
