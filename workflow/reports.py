"""Monthly progress reports (月报): one per active case and month, written by its lead unit and
reviewed by the secretariat; an accepted report adds its investment to the case.

At the start of the cycle the rows are created set-based (one INSERT per thousand cases),
then one report flow per case is started in batches of ``REPORT_BATCH`` spread over the
celery workers. Both halves are idempotent and resume after a crash: a row is unique per
case and month, and a batch skips, under the row's lock, a report whose flow has started.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cases import permissions as case_permissions
from cases import services as case_services
from cases.models import AuditAction, BlockerCategory, KeyProject, Role
from cases.services.audit import audit_record

from . import cycle, services
from .calendar import WorkingCalendar
from .lights import ACTIVE_STAGES, first_of_month, next_month, previous_month
from .models import CycleStep, MonthlyReport, ReportAttachment, TaskKind

REPORT_BATCH = 200
INSERT_BATCH = 1000
RETURNED_DAYS = 2  # a returned report is due again two working days later at the earliest
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif"}


def due_at_for(month, cal):
    """A report on ``month`` is due at the end of the cycle's "reports due" working day of the next month."""
    return cal.end_of(cycle.step_date(next_month(month), CycleStep.Kind.REPORTS_DUE, cal))


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
        from .tasks import start_report_flows

        for batch in batches:
            transaction.on_commit(lambda ids=batch: start_report_flows.delay(ids))
    return {"created": len(rows), "pending": len(pending), "batches": len(batches)}


def start_report_flows(report_ids):
    """Start the report flow of each report in the batch that has none yet, in one transaction:
    a crash rolls the batch back and its redelivery starts it again; a second delivery waits for
    the rows' locks, then finds the flows started and starts nothing twice."""
    from .flows import ReportFlow

    with services.ladder_cached(), transaction.atomic():
        locked = list(
            MonthlyReport.objects.select_for_update(of=("self",)).filter(pk__in=report_ids).order_by().values_list("pk", flat=True)
        )
        todo = list(MonthlyReport.objects.filter(pk__in=locked, process__isnull=True).select_related("project"))
        for report in todo:
            ReportFlow.start.run(report=report)
    return len(todo)


def title_of(report):
    with translation.override(settings.LANGUAGE_CODE):
        return _("Monthly report %(month)s · %(code)s %(name)s") % {
            "month": f"{report.month:%Y-%m}",
            "code": report.project.code,
            "name": report.project.name,
        }


def start_clock(activation):
    report = activation.process.report
    node = activation.flow_task.name
    common = {"task": activation.task, "project": report.project, "title": title_of(report)}
    if node == "write":
        due_at = report.due_at
        if report.state == MonthlyReport.State.RETURNED:
            due_at = max(due_at, services.working_days_after(timezone.now(), RETURNED_DAYS))
        return services.clock_start(kind=TaskKind.REPORT, unit_id=report.unit_id, due_at=due_at, **common)
    unit = services.secretariat_unit() or report.unit
    return services.clock_start(kind=TaskKind.REPORT_REVIEW, unit=unit, working_days=RETURNED_DAYS, **common)


# Writing


def previous_progress(report):
    """The image progress of the case's last report before this one that gave one."""
    return (
        MonthlyReport.objects.filter(project_id=report.project_id, month__lt=report.month)
        .exclude(progress_percent__isnull=True)
        .exclude(state=MonthlyReport.State.OPEN)
        .order_by("-month")
        .values_list("progress_percent", flat=True)
        .first()
    )


def validate(report, data):
    """Impossible figures, as errors by field: negative amounts, a cumulative total above the
    total investment, progress going backwards without a reason."""
    errors = {}
    amount = data.get("investment_month")
    project = report.project
    if amount is None:
        errors["investment_month"] = _("Say how much was invested this month (0 if nothing).")
    elif amount < 0:
        errors["investment_month"] = _("Investment completed cannot be negative.")
    elif (project.investment_completed_total or Decimal("0")) + amount > project.total_investment:
        errors["investment_month"] = _(
            "With this amount the investment completed (%(after)s yuan) would exceed the total "
            "investment (%(total)s yuan)."
        ) % {"after": (project.investment_completed_total or 0) + amount, "total": project.total_investment}
    progress = data.get("progress_percent")
    if progress is None:
        errors["progress_percent"] = _("Give the image progress in percent.")
    elif not Decimal("0") <= progress <= Decimal("100"):
        errors["progress_percent"] = _("Image progress is between 0 and 100 percent.")
    else:
        before = previous_progress(report)
        if before is not None and progress < before and not (data.get("progress_back_reason") or "").strip():
            errors["progress_back_reason"] = _(
                "Image progress went back from %(before)s%% to %(now)s%%: say why."
            ) % {"before": before, "now": progress}
    if errors:
        raise ValidationError(errors)


def check_attachment(upload):
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            {"attachments": _("%(name)s is larger than 20 MB.") % {"name": upload.name}}
        )
    return ReportAttachment.Kind.PHOTO if upload.content_type in PHOTO_TYPES else ReportAttachment.Kind.FILE


FIELDS = ["investment_month", "progress_percent", "progress_back_reason", "work_done", "next_steps", "problems", "support_needed"]


def report_of(task):
    process = task.process.coerced
    return MonthlyReport.objects.select_for_update(of=("self",)).select_related("project").get(pk=process.report_id)


@transaction.atomic
def report_submit(*, task, user, data, files=(), blockers=()):
    """The lead unit's report: validated, its problems raised as blockers on request, its photos
    and files kept; then the secretariat's review task."""
    services.checked(task, user)
    report = report_of(task)
    if report.state not in (MonthlyReport.State.OPEN, MonthlyReport.State.RETURNED):
        raise ValidationError(_("This report has been submitted already."))
    validate(report, data)
    kinds = [check_attachment(upload) for upload in files]
    before = report.state
    for name in FIELDS:
        value = data.get(name)
        setattr(report, name, value if value is not None or name in ("investment_month", "progress_percent") else "")
    report.state = MonthlyReport.State.SUBMITTED
    report.submitted_by = user
    report.submitted_at = timezone.now()
    report.return_reason = ""
    report.full_clean(exclude=["project", "unit", "raised_blockers"])
    report.save()
    now = timezone.now()
    ReportAttachment.objects.bulk_create(
        [
            ReportAttachment(report=report, kind=kind, file=upload, name=upload.name[:200], uploaded_by=user, uploaded_at=now)
            for kind, upload in zip(kinds, files, strict=True)
        ]
    )
    raised = [
        case_services.blocker_report(
            project=report.project,
            actor=user,
            data={
                "title": row["title"],
                "description": row.get("description") or row["title"],
                "category": row.get("category") or BlockerCategory.OTHER,
            },
        )
        for row in blockers
        if (row.get("title") or "").strip()
    ]
    if raised:
        report.raised_blockers.add(*raised)
    audit_record(
        actor=user,
        instance=report,
        action=AuditAction.TRANSITION,
        project=report.project,
        transition="submit",
        from_state=before,
        to_state=report.state,
        changes={name: [None, str(getattr(report, name))] for name in ("investment_month", "progress_percent")},
    )
    services.finish_task(task, user)
    return report


@transaction.atomic
def report_review(*, task, user, accepted, reason=""):
    """The secretariat accepts the report, which adds its investment to the case, or returns it with a reason."""
    services.checked(task, user)
    report = report_of(task)
    if report.state != MonthlyReport.State.SUBMITTED:
        raise ValidationError(_("Only a submitted report can be reviewed."))
    before = report.state
    if accepted:
        with translation.override(settings.LANGUAGE_CODE):
            why = _("Monthly report %(month)s accepted") % {"month": f"{report.month:%Y-%m}"}
        case_services.project_record_investment(
            project_id=report.project_id,
            actor=user,
            year=report.month.year,
            amount=report.investment_month or Decimal("0"),
            reason=why,
        )
        report.state = MonthlyReport.State.ACCEPTED
    else:
        if not (reason or "").strip():
            raise ValidationError({"reason": _("Say why the report goes back.")})
        report.state = MonthlyReport.State.RETURNED
        report.return_reason = reason.strip()[:300]
    report.reviewed_by = user
    report.reviewed_at = timezone.now()
    report.save()
    audit_record(
        actor=user,
        instance=report,
        action=AuditAction.TRANSITION,
        project=report.project,
        transition="accept" if accepted else "return",
        from_state=before,
        to_state=report.state,
        reason=report.return_reason,
    )
    services.finish_task(task, user)
    return report


# Reading


def report_scope(user):
    """The reports ``user`` may see: all for the secretariat and supervisors; leaders those of
    the cases they may see; a unit those it writes and those of cases it may see."""
    role = case_permissions.role_of(user)
    if role in case_permissions.ALL_SEEING:
        return Q()
    person = case_permissions.person_of(user)
    if person is None or role not in case_permissions.INTERNAL:
        return Q(pk__in=[])
    cases = Q(project__in=KeyProject.objects.filter(case_permissions.project_scope(user)))
    if role == Role.LEADER:
        return cases
    return cases | Q(unit_id=person.unit_id)


def reports(user, month, *, state=None, unit=None):
    queryset = (
        MonthlyReport.objects.filter(report_scope(user), month=month)
        .select_related("project", "unit", "submitted_by")
        .order_by("project__code")
    )
    if state:
        queryset = queryset.filter(state=state)
    if unit:
        queryset = queryset.filter(unit_id=unit)
    return queryset


def report_counts(user, month):
    """Reports of the month by state, and how many were submitted late or are overdue now."""
    now = timezone.now()
    return MonthlyReport.objects.filter(report_scope(user), month=month).aggregate(
        total=Count("pk"),
        **{state: Count("pk", filter=Q(state=state)) for state in MonthlyReport.State.values},
        late=Count("pk", filter=Q(submitted_at__gt=F("due_at"))),
        overdue=Count("pk", filter=Q(submitted_at__isnull=True, due_at__lt=now)),
    )


def report_months():
    return list(MonthlyReport.objects.order_by("-month").values_list("month", flat=True).distinct()[:24])


def report_for(user, pk):
    return (
        MonthlyReport.objects.filter(report_scope(user), pk=pk)
        .select_related("project", "unit", "submitted_by", "reviewed_by")
        .prefetch_related("attachments", "raised_blockers")
        .first()
    )


def open_task_of(report, node_name):
    """The open task of the report's flow at ``node_name`` ("write" or "review"), if any."""
    from .flows import ReportFlow

    try:
        process = report.process
    except MonthlyReport.process.RelatedObjectDoesNotExist:
        return None
    return services.open_task(process, getattr(ReportFlow, node_name))


def task_url(task):
    return task.flow_task.reverse("index", args=[task.process_id, task.pk]) if task else ""


def month_or_default(month, today=None):
    """The period a page shows by default: the month before this one."""
    return month or previous_month(first_of_month(today or timezone.localdate()))
