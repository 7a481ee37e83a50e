"""Monthly progress reports (月报): one per active case and month, written by its lead unit and
reviewed by the secretariat; an accepted report adds its investment to the case.

At the start of the cycle the rows are created set-based (one INSERT per thousand cases),
then one report flow per case is started in batches of ``REPORT_BATCH`` spread over the
celery workers. Both halves are idempotent and resume after a crash: a row is unique per
case and month, and a batch skips, under the row's lock, a report whose flow has started.

The secretariat may accept many submitted reports at once (``reports_accept_many``): each is
accepted by ``report_review`` as if reviewed alone, whole or not at all, and a report no longer
waiting for review is skipped with the reason. More than ``ACCEPT_INLINE`` go to the workers in
batches that record their progress on a ``ReportAcceptance`` the page and the API follow.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow.workflow.models import Task

from cases import permissions as case_permissions
from cases import services as case_services
from cases.models import AuditAction, BlockerCategory, KeyProject, Role
from cases.services.audit import audit_record
from notifications.services import notify

from . import cycle, services
from .calendar import WorkingCalendar
from .lights import ACTIVE_STAGES, first_of_month, next_month, previous_month
from .models import (
    CycleStep,
    MonthlyReport,
    ReportAcceptance,
    ReportAttachment,
    ReportProcess,
    TaskKind,
)

REPORT_BATCH = 200
INSERT_BATCH = 1000
RETURNED_DAYS = 2  # a returned report is due again two working days later at the earliest
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif"}
ACCEPT_BATCH = 50  # reports a worker accepts in one task, each in a transaction of its own
ACCEPT_INLINE = 25  # a selection this small is accepted in the request; a larger one on the workers
ACCEPT_MAX = 5000  # reports in one acceptance: a province's month is at most 2,000
ACCEPT_STALLED = datetime.timedelta(minutes=10)  # no batch recorded for this long: the workers lost it
MAX_ID = 2**63 - 1


def id_param(raw):
    """An id given as text (a query parameter, a ticked box) as a number the database can hold,
    or None: ``str.isdigit`` also takes digits such as "²" that ``int`` refuses."""
    raw = (raw or "").strip()
    if not (raw.isascii() and raw.isdigit()):
        return None
    number = int(raw)
    return number if 0 < number <= MAX_ID else None


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


# Accepting many at once


# Said when the flow's lock could not be had (PostgreSQL broke a deadlock with another request).
BUSY = gettext_lazy("One of these reports is being reviewed right now: nothing was accepted. Try again in a moment.")
BUSY_ONE = gettext_lazy("Someone is working on this report right now: nothing was changed. Try again in a moment.")


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
    if len(ids) <= ACCEPT_INLINE:
        reports_accept_batch(acceptance_id=acceptance.pk, report_ids=ids)
        acceptance.refresh_from_db()
        return acceptance
    from .tasks import accept_reports

    for start in range(0, len(ids), ACCEPT_BATCH):
        batch = ids[start : start + ACCEPT_BATCH]
        transaction.on_commit(lambda batch=batch: accept_reports.delay(acceptance.pk, batch))
    return acceptance


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
    from .flows import ReportFlow

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
    from .flows import ReportFlow

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
        if acceptance.total > ACCEPT_INLINE:
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


def acceptance_for(user, pk):
    """An acceptance, for the secretariat only."""
    if not case_permissions.is_secretariat(user):
        return None
    return ReportAcceptance.objects.filter(pk=pk).first()


def acceptance_shown(user, month, pk=None):
    """The acceptance the status page of ``month`` follows: the one asked for, else the month's
    latest still running; for the secretariat only, one query."""
    if pk is not None:
        return acceptance_for(user, pk)
    if not case_permissions.is_secretariat(user):
        return None
    return ReportAcceptance.objects.filter(
        month=month, finished_at__isnull=True, updated_at__gte=timezone.now() - ACCEPT_STALLED
    ).first()


def is_stalled(acceptance, now=None):
    """Unfinished and no batch recorded for ``ACCEPT_STALLED``: its tasks were lost (a broker
    that was down when they were sent); selecting the reports again accepts the rest."""
    now = now or timezone.now()
    return acceptance.finished_at is None and acceptance.updated_at < now - ACCEPT_STALLED


def submitted_report_ids(user, month, *, unit=None):
    """The submitted reports of ``month`` that ``user`` may see, in the status table's order."""
    return list(reports(user, month, state=MonthlyReport.State.SUBMITTED, unit=unit).values_list("pk", flat=True))

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
