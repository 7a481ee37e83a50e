"""The secretariat accepting many submitted reports at once: each report accepted by
``reports.report_review`` as if reviewed alone, whole or not at all, and a report no longer waiting
for review skipped with the reason; the acceptance records how far it got."""


from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy
from viewflow.workflow.models import Task

from notifications.services import notify
from workflow.engine import services

from . import reports
from .flows import ReportFlow
from .models import MonthlyReport, ReportAcceptance, ReportProcess
from .reports import report_review

# Said when the flow's lock could not be had (PostgreSQL broke a deadlock with another request).
BUSY = gettext_lazy("One of these reports is being reviewed right now: nothing was accepted. Try again in a moment.")
BUSY_ONE = gettext_lazy("Someone is working on this report right now: nothing was changed. Try again in a moment.")


def _skip_reason(report, task, user):
    """Why ``report`` cannot be accepted now, or None when its review waits for ``user``."""
    if report.state != MonthlyReport.State.SUBMITTED:
        return report.state  # open, returned or accepted: the Skip values of the same names
    if task is None:
        return ReportAcceptance.Skip.NO_TASK
    if task.owner_id is not None and task.owner_id != user.pk:
        return ReportAcceptance.Skip.TAKEN
    return None


def reports_accept_batch(*, acceptance_id, report_ids):
    """Accept a batch of an acceptance's reports, each in a transaction of its own that also
    records its outcome on the acceptance, so that a report is accepted whole or not at all and
    the acceptance always says which.

    Each report takes the locks in the order a review page takes them: its flow's (the process
    row, waited for), then the report's, then the acceptance's row, which no page takes. A review
    posted on a page or through the API at the same moment therefore waits for one report at
    most, or is waited for; the loser finds the report accepted. (A deadlock PostgreSQL breaks
    would come out as ``FlowLockFailed``: the worker's task retries later; in a request, the whole
    acceptance is undone and the reader asked to try again.) A second delivery of the batch, or
    its redelivery after a crash, finds the reports handled so far recorded and goes on with the
    others. Returns how many it accepted and skipped."""
    processes = dict(ReportProcess.objects.filter(report_id__in=report_ids).values_list("report_id", "pk"))
    user = ReportAcceptance.objects.select_related("requested_by").get(pk=acceptance_id).requested_by
    counts = {"accepted": 0, "skipped": 0}
    for report_id in report_ids:
        process_id = processes.get(report_id)
        # viewflow's FlowLockFailed (a deadlock broken) goes up: the task retries later
        with ReportFlow.lock(process_id) if process_id else transaction.atomic():
            outcome = _accept_one(acceptance_id, report_id, process_id, user)
        if outcome:
            counts[outcome] += 1
    return counts


def _accept_one(acceptance_id, report_id, process_id, user):
    """Under the report's flow lock: accept one report, or say why not, and record which on the
    acceptance. Returns "accepted", "skipped", or None when the acceptance had it already."""
    report = MonthlyReport.objects.select_for_update(of=("self",)).select_related("project").filter(pk=report_id).first()
    if _handled(acceptance_id, report_id):
        return None
    if report is None:
        return _record_skip(acceptance_id, report_id, ReportAcceptance.Skip.GONE)
    task = None
    if process_id is not None:
        task = Task.objects.filter(process_id=process_id, flow_task=ReportFlow.review, status__in=services.OPEN_STATUSES).first()
    reason = _skip_reason(report, task, user)
    if reason is not None:
        return _record_skip(acceptance_id, report_id, reason, code=report.project.code)
    try:
        with transaction.atomic():
            report_review(task=task, user=user, accepted=True)
    except (ValidationError, PermissionDenied) as refused:
        messages = getattr(refused, "messages", None) or [str(refused)]
        return _record_skip(acceptance_id, report_id, ReportAcceptance.Skip.REFUSED, " ".join(messages), report.project.code)
    _record(acceptance_id, [report_id], [])
    return "accepted"


def _handled(acceptance_id, report_id):
    """Has the acceptance recorded this report already (a batch delivered twice)? Read without
    the acceptance's lock, which would make the batches on other workers wait: the report's lock,
    taken before, makes a second delivery wait until the first one's record is committed."""
    acceptance = ReportAcceptance.objects.only("accepted_ids", "skipped").get(pk=acceptance_id)
    return report_id in acceptance.handled_ids


def _record_skip(acceptance_id, report_id, reason, detail="", code=None):
    if code is None:
        code = MonthlyReport.objects.filter(pk=report_id).values_list("project__code", flat=True).first() or ""
    skipped = {"report": report_id, "project": code, "reason": str(reason), "detail": str(detail)[:300]}
    _record(acceptance_id, [], [skipped])
    return "skipped"


def _record(acceptance_id, accepted, skipped):
    """Add a batch's outcome to the acceptance, under its lock (batches end on several workers);
    the batch that handles the last report finishes it and tells whoever asked, when it ran on
    the workers (a small acceptance is seen finished in the request)."""
    acceptance = ReportAcceptance.objects.select_for_update().select_related("requested_by").get(pk=acceptance_id)
    acceptance.accepted_ids = [*acceptance.accepted_ids, *accepted]
    acceptance.skipped = [*acceptance.skipped, *skipped]
    acceptance.updated_at = timezone.now()
    if acceptance.pending_count <= 0 and acceptance.finished_at is None:
        acceptance.finished_at = acceptance.updated_at
        if acceptance.total > reports.ACCEPT_INLINE:
            notify(
                recipients=[acceptance.requested_by],
                key="reports_accepted",
                context={
                    "accepted": acceptance.accepted_count,
                    "total": acceptance.total,
                    "skipped": acceptance.skipped_count,
                },
                link=acceptance_url(acceptance),
            )
    acceptance.save(update_fields=["accepted_ids", "skipped", "updated_at", "finished_at"])
    return acceptance


def reports_accept_failed(*, acceptance_id, report_ids, error):
    """A batch that kept failing after its retries: its reports not yet recorded are skipped
    with the error (the batch rolled back, so none of them is half accepted), so that the
    acceptance ends and says what was not done."""
    with transaction.atomic():
        # The reports' locks: a delivery of the batch still running is waited for, report by report.
        list(MonthlyReport.objects.select_for_update(of=("self",)).filter(pk__in=report_ids).order_by("pk").values_list("pk"))
        acceptance = ReportAcceptance.objects.get(pk=acceptance_id)
        handled = acceptance.handled_ids
        todo = [pk for pk in report_ids if pk not in handled]
        codes = dict(MonthlyReport.objects.filter(pk__in=todo).values_list("pk", "project__code"))
        skipped = [
            {"report": pk, "project": codes.get(pk, ""), "reason": str(ReportAcceptance.Skip.FAILED), "detail": str(error)[:300]}
            for pk in todo
        ]
        return _record(acceptance_id, [], skipped)


def acceptance_url(acceptance):
    month = f"month={acceptance.month:%Y-%m}&" if acceptance.month else ""
    return f"/workflow/reports/?{month}acceptance={acceptance.pk}"
