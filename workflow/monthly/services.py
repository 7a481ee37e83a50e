"""Writing the monthly cycle's state that fans out to the workers: the month's report rows and their
flows, and accepting many reports at once.

At the start of the cycle the report rows are created set-based (one INSERT per thousand cases),
then one report flow per case is started in batches spread over the celery workers. Both halves are
idempotent and resume after a crash: a row is unique per case and month, and a batch skips, under
the row's lock, a report whose flow has started. More than ``ACCEPT_INLINE`` reports accepted at
once go to the workers in batches that record their progress on a ``ReportAcceptance`` the page and
the API follow."""


from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import permissions as case_permissions
from cases.models import ACTIVE_STAGES, KeyProject
from workflow.engine.calendar import WorkingCalendar

from . import reports
from .acceptance import reports_accept_batch
from .batches import accept_reports, start_report_flows
from .models import MonthlyReport, ReportAcceptance
from .reports import ACCEPT_MAX, INSERT_BATCH, MAX_ID, REPORT_BATCH, due_at_for
from .selectors import report_scope


def reports_open(*, month, now=None, enqueue=True):
    """Create this period's missing report rows for every active case, then hand the reports
    whose flow has not started to celery in batches. Safe to run again: it only completes."""
    now = now or timezone.now()
    cal = WorkingCalendar.load()
    due_at = due_at_for(month, cal)
    missing = (
        KeyProject.objects.filter(stage__in=ACTIVE_STAGES, lead_unit__isnull=False)
        .exclude(pk__in=MonthlyReport.objects.filter(month=month).values("project_id"))
        .values_list("pk", "lead_unit_id")
        .order_by("pk")
    )
    rows = [
        MonthlyReport(project_id=pk, unit_id=unit_id, month=month, due_at=due_at, created_at=now)
        for pk, unit_id in missing.iterator(chunk_size=INSERT_BATCH)
    ]
    with transaction.atomic():
        MonthlyReport.objects.bulk_create(rows, ignore_conflicts=True)  # one statement on PostgreSQL; SQLite splits by its limit
    pending = list(
        MonthlyReport.objects.filter(month=month, process__isnull=True).order_by("pk").values_list("pk", flat=True)
    )
    batches = [pending[i : i + REPORT_BATCH] for i in range(0, len(pending), REPORT_BATCH)]
    if enqueue:
        for batch in batches:
            transaction.on_commit(lambda ids=batch: start_report_flows.delay(ids))
    return {"created": len(rows), "pending": len(pending), "batches": len(batches)}


@transaction.atomic
def reports_accept_many(*, user, report_ids) -> ReportAcceptance:
    """The secretariat accepts many submitted reports at once, each exactly as ``report_review``
    accepts one. Up to ``ACCEPT_INLINE`` are accepted here; more in batches of ``ACCEPT_BATCH``
    on the workers after commit. Returns the acceptance, which says how far it got."""
    if not case_permissions.is_secretariat(user):
        raise PermissionDenied(_("Only the secretariat accepts reports."))
    ids = sorted(set(report_ids))
    if not ids:
        raise ValidationError({"reports": _("Choose at least one submitted report.")})
    if len(ids) > ACCEPT_MAX:
        raise ValidationError({"reports": _("Accept at most %(max)s reports at once.") % {"max": ACCEPT_MAX}})
    in_range = [pk for pk in ids if 0 < pk <= MAX_ID]  # the database cannot even compare the others
    found = dict(MonthlyReport.objects.filter(report_scope(user), pk__in=in_range).values_list("pk", "month"))
    unknown = [pk for pk in ids if pk not in found]
    if unknown:
        raise ValidationError(
            {"reports": _("There is no report %(ids)s.") % {"ids": ", ".join(str(pk) for pk in unknown[:20])}}
        )
    months = set(found.values())
    now = timezone.now()
    acceptance = ReportAcceptance.objects.create(
        month=months.pop() if len(months) == 1 else None,
        requested_by=user,
        requested_at=now,
        updated_at=now,
        report_ids=ids,
    )
    if len(ids) <= reports.ACCEPT_INLINE:
        reports_accept_batch(acceptance_id=acceptance.pk, report_ids=ids)
        acceptance.refresh_from_db()
        return acceptance
    for start in range(0, len(ids), reports.ACCEPT_BATCH):
        batch = ids[start : start + reports.ACCEPT_BATCH]
        transaction.on_commit(lambda batch=batch: accept_reports.delay(acceptance.pk, batch))
    return acceptance
