"""Pages of the monthly cycle's timeline and its reports: this month's steps (done, next,
late), the month's report status table, and a report."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import permissions as case_permissions

from . import cycle, lights, reports
from .models import CycleStep, MonthlyReport
from .pages import InternalPage


class CyclePage(InternalPage):
    """The cycle of a month: each step with its working day and date, and its state."""

    template_name = "workflow/cycle.html"

    def month(self):
        return lights.begun_month(self.request.GET.get("month")) or lights.first_of_month(timezone.localdate())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        month = self.month()
        period = cycle.period_of(month)
        steps = cycle.timeline(month)
        context.update(
            {
                "month": month,
                "period": period,
                "steps": steps,
                "running": any(step.status == "running" for step in steps),
                "counts": reports.report_counts(self.request.user, period),
                "states": MonthlyReport.State.choices,
                "can_run": case_permissions.is_secretariat(self.request.user),
                "previous": lights.previous_month(month),
                "next": lights.next_month(month) if month < lights.first_of_month(timezone.localdate()) else None,
            }
        )
        return context

    def post(self, request, *args, **kwargs):
        """The secretariat runs a step now; it runs on a worker and the page shows it running."""
        if not case_permissions.is_secretariat(request.user):
            raise PermissionDenied
        month = lights.begun_month(request.POST.get("month"))
        kind = request.POST.get("step")
        if month is None or kind not in CycleStep.Kind.values:
            messages.error(request, _("Choose a step and a month that has begun."))
            return HttpResponseRedirect(request.path)
        from .tasks import run_cycle_step

        transaction.on_commit(lambda: run_cycle_step.delay(kind, month.isoformat(), True))
        messages.success(
            request,
            _("%(step)s of %(month)s has started; this page shows when it is done.")
            % {"step": CycleStep.Kind(kind).label, "month": f"{month:%Y-%m}"},
        )
        return HttpResponseRedirect(f"{request.path}?month={month:%Y-%m}")


class ReportListPage(InternalPage):
    """The month's reports of the cases the reader may see: state, due, on time, figures."""

    template_name = "workflow/report_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        month = reports.month_or_default(lights.month_param(self.request.GET.get("month")))
        state = self.request.GET.get("state", "")
        state = state if state in MonthlyReport.State.values else ""
        page = Paginator(reports.reports(self.request.user, month, state=state or None), 50).get_page(
            self.request.GET.get("page")
        )
        context.update(
            {
                "month": month,
                "months": reports.report_months(),
                "state": state,
                "states": MonthlyReport.State.choices,
                "page": page,
                "counts": reports.report_counts(self.request.user, month),
                "now": timezone.now(),
            }
        )
        return context


class ReportDetailPage(InternalPage):
    template_name = "workflow/report_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report = reports.report_for(self.request.user, kwargs["pk"])
        if report is None:
            raise Http404
        write, review = reports.open_task_of(report, "write"), reports.open_task_of(report, "review")
        context.update(
            {
                "report": report,
                "write_url": reports.task_url(write),
                "review_url": reports.task_url(review),
                "previous_progress": reports.previous_progress(report),
            }
        )
        return context
