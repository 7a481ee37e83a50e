"""Pages of the monthly cycle's timeline and its reports: this month's steps (done, next,
late), the month's report status table, and a report."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.exceptions import FlowLockFailed

from cases import permissions as case_permissions
from workflow.engine.pages import InternalPage

from .. import acceptance as report_acceptance
from .. import periods, reports, selectors, services, timeline
from ..models import CycleStep, MonthlyReport, ReportAcceptance
from ..tasks import run_cycle_step

SKIPPED_SHOWN = 200  # skipped reports listed on the page; the API gives them all
SKIP_LABELS = dict(ReportAcceptance.Skip.choices)


class CyclePage(InternalPage):
    """The cycle of a month: each step with its working day and date, and its state."""

    template_name = "workflow/cycle.html"

    def month(self):
        return periods.begun_month(self.request.GET.get("month")) or periods.first_of_month(timezone.localdate())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        month = self.month()
        period = timeline.period_of(month)
        steps = timeline.timeline(month)
        context.update(
            {
                "month": month,
                "period": period,
                "steps": steps,
                "running": any(step.status == "running" for step in steps),
                "counts": selectors.report_counts(self.request.user, period),
                "states": MonthlyReport.State.choices,
                "can_run": case_permissions.is_secretariat(self.request.user),
                "previous": periods.previous_month(month),
                "next": periods.next_month(month) if month < periods.first_of_month(timezone.localdate()) else None,
            }
        )
        return context

    def post(self, request, *args, **kwargs):
        """The secretariat runs a step now; it runs on a worker and the page shows it running."""
        if not case_permissions.is_secretariat(request.user):
            raise PermissionDenied
        month = periods.begun_month(request.POST.get("month"))
        kind = request.POST.get("step")
        if month is None or kind not in CycleStep.Kind.values:
            messages.error(request, _("Choose a step and a month that has begun."))
            return HttpResponseRedirect(request.path)
        transaction.on_commit(lambda: run_cycle_step.delay(kind, month.isoformat(), True))
        messages.success(
            request,
            _("%(step)s of %(month)s has started; this page shows when it is done.")
            % {"step": CycleStep.Kind(kind).label, "month": f"{month:%Y-%m}"},
        )
        return HttpResponseRedirect(f"{request.path}?month={month:%Y-%m}")


class ReportListPage(InternalPage):
    """The month's reports of the cases the reader may see: state, due, on time, figures. The
    secretariat accepts submitted reports together here, the ones it ticks or all the filter
    finds, and follows the acceptance until it is done."""

    template_name = "workflow/report_list.html"

    def filters(self, data):
        month = selectors.month_or_default(periods.month_param(data.get("month")))
        state = data.get("state", "")
        return month, state if state in MonthlyReport.State.values else ""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        month, state = self.filters(self.request.GET)
        page = Paginator(selectors.reports(self.request.user, month, state=state or None), 50).get_page(
            self.request.GET.get("page")
        )
        shown = self.request.GET.get("acceptance", "")
        acceptance = selectors.acceptance_shown(self.request.user, month, reports.id_param(shown))
        counts = selectors.report_counts(self.request.user, month)
        now = timezone.now()
        stalled = acceptance is not None and selectors.is_stalled(acceptance, now)
        context.update(
            {
                "month": month,
                "months": selectors.report_months(),
                "state": state,
                "states": MonthlyReport.State.choices,
                "page": page,
                "counts": counts,
                "now": now,
                "can_accept": case_permissions.is_secretariat(self.request.user),
                # what "all matching the filter" accepts: the filter shows submitted reports or every state
                "matching_submitted": counts[MonthlyReport.State.SUBMITTED] if state in ("", MonthlyReport.State.SUBMITTED) else 0,
                "acceptance": acceptance,
                "acceptance_running": acceptance is not None and acceptance.finished_at is None and not stalled,
                "acceptance_stalled": stalled,
                "skipped_shown": [
                    {**row, "why": SKIP_LABELS.get(row["reason"], row["reason"])}
                    for row in (acceptance.skipped[:SKIPPED_SHOWN] if acceptance else [])
                ],
            }
        )
        return context

    def post(self, request, *args, **kwargs):
        """The secretariat accepts the ticked reports, or every submitted one the filter finds;
        a few in the request, more on the workers, the page following the progress."""
        if not case_permissions.is_secretariat(request.user):
            raise PermissionDenied
        month, state = self.filters(request.POST)
        back = f"{request.path}?month={month:%Y-%m}&state={state}"
        if request.POST.get("scope") == "all":
            matches = state in ("", MonthlyReport.State.SUBMITTED)
            ids = selectors.submitted_report_ids(request.user, month) if matches else []
        else:
            ticked = request.POST.getlist("report")
            ids = [reports.id_param(pk) for pk in ticked]
            if None in ids:
                wrong = ", ".join(pk for pk, number in zip(ticked, ids, strict=True) if number is None)
                messages.error(request, _("There is no report %(ids)s.") % {"ids": wrong[:200]})
                return HttpResponseRedirect(back)
        try:
            acceptance = services.reports_accept_many(user=request.user, report_ids=ids)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return HttpResponseRedirect(back)
        except FlowLockFailed:
            messages.error(request, report_acceptance.BUSY)
            return HttpResponseRedirect(back)
        if acceptance.finished_at:
            messages.success(
                request,
                _("%(accepted)s of %(total)s reports accepted.")
                % {"accepted": acceptance.accepted_count, "total": acceptance.total},
            )
        else:
            messages.success(
                request,
                _("Accepting %(total)s reports on the workers; this page shows how far it got.")
                % {"total": acceptance.total},
            )
        return HttpResponseRedirect(f"{back}&acceptance={acceptance.pk}")


class ReportDetailPage(InternalPage):
    template_name = "workflow/report_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report = selectors.report_for(self.request.user, kwargs["pk"])
        if report is None:
            raise Http404
        write, review = selectors.open_task_of(report, "write"), selectors.open_task_of(report, "review")
        context.update(
            {
                "report": report,
                "write_url": selectors.task_url(write),
                "review_url": selectors.task_url(review),
                "previous_progress": reports.previous_progress(report),
            }
        )
        return context
