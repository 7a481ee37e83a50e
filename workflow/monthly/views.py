"""The task pages of the monthly report: the figures and texts, photos and files, and problems to
raise as blockers; the secretariat's review with the report above its form."""

from django.core.exceptions import ValidationError

from workflow.engine.views import StepView

from . import reports, selectors
from .forms import RaiseBlockerFormSet


class ReportWriteView(StepView):
    """The monthly report: the figures and texts, photos and files, and problems to raise as blockers."""

    template_name = "workflow/task_report.html"
    attachment_errors = ()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("blockers", self.blockers)
        context["attachment_errors"] = self.attachment_errors
        context["max_attachments"] = reports.MAX_ATTACHMENTS
        report = self.process.report
        context["report"] = report
        context["previous_progress"] = reports.previous_progress(report)
        return context

    def post(self, request, *args, **kwargs):
        self.blockers = RaiseBlockerFormSet(request.POST, prefix="blockers")
        try:
            # Checked before the form, so that refused files show beside the file input along
            # with any other error; the service checks them again before it writes.
            reports.check_attachments(request.FILES.getlist("attachments"))
        except ValidationError as refused:
            self.attachment_errors = refused.message_dict["attachments"]
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
        if not self.blockers.is_valid() or self.attachment_errors:
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
