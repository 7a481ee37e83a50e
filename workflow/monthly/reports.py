"""Monthly progress reports (月报): one per active case and month, written by its lead unit and
reviewed by the secretariat; an accepted report adds its investment to the case."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases import services as case_services
from cases import uploads
from cases.formatting import format_wan
from cases.models import AuditAction, BlockerCategory
from cases.services.audit import audit_record
from workflow.engine import clocks, services
from workflow.engine.models import TaskKind

from . import timeline
from .models import CycleStep, MonthlyReport, ReportAttachment
from .periods import next_month

REPORT_BATCH = 1000  # report flows a worker starts at once (workflow.engine.bulk), a dozen statements a batch
INSERT_BATCH = 1000
RETURNED_DAYS = 2  # a returned report is due again two working days later at the earliest
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MAX_ATTACHMENTS = 10  # photos and files on one report; Django's own limit of files a request is 100
ATTACHABLE = frozenset(uploads.TYPES)
ATTACHABLE_IN_WORDS = gettext_lazy(
    "JPEG, PNG, GIF or WebP photos; PDF, Word, Excel or PowerPoint files; UTF-8 plain text (.txt, .csv)"
)
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
    return cal.end_of(timeline.step_date(next_month(month), CycleStep.Kind.REPORTS_DUE, cal))


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
            due_at = max(due_at, clocks.working_days_after(timezone.now(), RETURNED_DAYS))
        return clocks.clock_start(kind=TaskKind.REPORT, unit_id=report.unit_id, due_at=due_at, **common)
    unit = clocks.secretariat_unit() or report.unit
    return clocks.clock_start(kind=TaskKind.REPORT_REVIEW, unit=unit, working_days=RETURNED_DAYS, **common)


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
            "With this amount the investment completed (%(after)s) would exceed the total investment (%(total)s)."
        ) % {
            "after": format_wan((project.investment_completed_total or 0) + amount),
            "total": format_wan(project.total_investment),
        }
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


def check_attachments(files, *, attached=0):
    """The checked type of each of ``files``, in their order; or one error on "attachments" with
    a message for each file refused: too many files (with the ``attached`` ones the report keeps
    from an earlier submission), too large, a content not on the allow list (HTML, SVG, a
    program…), or a name that disagrees with the content. Reads, writes nothing."""
    if attached and files and attached + len(files) > MAX_ATTACHMENTS:
        raise ValidationError(
            {
                "attachments": _(
                    "A report keeps at most %(count)s photos and files; it has %(attached)s already, and you chose %(chosen)s."
                )
                % {"count": MAX_ATTACHMENTS, "attached": attached, "chosen": len(files)}
            }
        )
    if len(files) > MAX_ATTACHMENTS:
        raise ValidationError(
            {
                "attachments": _("Attach at most %(count)s photos and files to a report; you chose %(chosen)s.")
                % {"count": MAX_ATTACHMENTS, "chosen": len(files)}
            }
        )
    kinds, errors = [], []
    for upload in files:
        if upload.size > MAX_ATTACHMENT_BYTES:
            errors.append(_("%(name)s is larger than 20 MB.") % {"name": upload.name})
            continue
        try:
            kinds.append(uploads.check(upload, allowed=ATTACHABLE, accepted=ATTACHABLE_IN_WORDS))
        except ValidationError as refused:
            errors.extend(refused.messages)
    if errors:
        raise ValidationError({"attachments": errors})
    return kinds


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
    # Figures and files are checked before anything is written, and refused together.
    errors = {}
    try:
        validate(report, data)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        kinds = check_attachments(files, attached=report.attachments.count() if files else 0)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
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
            ReportAttachment(
                report=report,
                kind=ReportAttachment.Kind.PHOTO if kind.photo else ReportAttachment.Kind.FILE,
                file_type=kind.key,
                file=upload,
                name=upload.name[:200],
                uploaded_by=user,
                uploaded_at=now,
            )
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
