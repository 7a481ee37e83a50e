"""Reads of the monthly cycle, scoped by role and unit: reports and their acceptances, lights,
meetings with their agenda."""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
    prefetch_related_objects,
)
from django.utils import timezone

from cases import permissions as case_permissions
from cases.models import (
    KeyProject,
    Person,
    Role,
    Unit,
)
from workflow.engine import services

from .agenda import SECTION_ORDER
from .models import (
    AgendaItem,
    AgendaSection,
    Decision,
    LightSnapshot,
    Meeting,
    MonthlyReport,
    ReportAcceptance,
    ReportAttachment,
)
from .periods import first_of_month, previous_month
from .reports import ACCEPT_STALLED, MAX_ID

LIGHT_ORDER = Case(
    When(light="red", then=Value(0)), When(light="yellow", then=Value(1)), default=Value(2), output_field=IntegerField()
)


def light_months():
    """The months that have lights, newest first."""
    return list(LightSnapshot.objects.order_by("-month").values_list("month", flat=True).distinct())


def lights(user, month, light=None):
    """``month``'s lights of the cases ``user`` may see, red first, the largest lag first."""
    queryset = LightSnapshot.objects.filter(
        month=month, project__in=KeyProject.objects.filter(case_permissions.project_scope(user))
    )
    if light:
        queryset = queryset.filter(light=light)
    return queryset.select_related("project", "project__lead_unit", "project__responsible_leader").order_by(
        LIGHT_ORDER, F("lag").desc(nulls_last=True), "project__code"
    )


def light_counts(user, month):
    """How many of the cases ``user`` may see are green, yellow and red in ``month``."""
    counts = dict(lights(user, month).order_by().values_list("light").annotate(n=Count("pk")))
    return {code: counts.get(code, 0) for code in ("red", "yellow", "green")}


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
    """The report ``pk`` if ``user`` may see it. Read by its key, then its scope checked on that
    one row: filtering by the scope's subquery made PostgreSQL compute the whole scope (40 ms on a
    city of 3,000 cases, on every submission)."""
    report = (
        MonthlyReport.objects.filter(pk=pk).select_related("project", "unit", "submitted_by", "reviewed_by").first()
    )
    if report is None or not may_see_report(user, report):
        return None
    prefetch_related_objects([report], "attachments", "raised_blockers")
    return report


def may_see_report(user, report):
    """``report_scope`` for one report."""
    role = case_permissions.role_of(user)
    if role in case_permissions.ALL_SEEING:
        return True
    person = case_permissions.person_of(user)
    if person is None or role not in case_permissions.INTERNAL:
        return False
    if role != Role.LEADER and report.unit_id == person.unit_id:
        return True
    return KeyProject.objects.filter(case_permissions.project_scope(user), pk=report.project_id).exists()


def attachment_for(user, report_pk, attachment_pk):
    """The photo or file ``attachment_pk`` of report ``report_pk`` if ``user`` may see the report
    (``may_see_report``), else None: one query for the row and its report, then the scope."""
    if not (0 < report_pk <= MAX_ID and 0 < attachment_pk <= MAX_ID):
        return None
    attachment = (
        ReportAttachment.objects.filter(pk=attachment_pk, report_id=report_pk)
        .select_related("report")
        .only("file", "file_type", "name", "report", "report__unit", "report__project")
        .first()
    )
    if attachment is None or not may_see_report(user, attachment.report):
        return None
    return attachment


def open_task_of(report, node_name):
    """The open task of the report's flow at ``node_name`` ("write" or "review"), if any."""
    try:
        process = report.process
    except MonthlyReport.process.RelatedObjectDoesNotExist:
        return None
    return services.open_task(process, getattr(process.flow_class, node_name))


def task_url(task):
    return task.flow_task.reverse("index", args=[task.process_id, task.pk]) if task else ""


def month_or_default(month, today=None):
    """The period a page shows by default: the month before this one."""
    return month or previous_month(first_of_month(today or timezone.localdate()))


def meeting_scope(user):
    """The meetings ``user`` may read: all for the secretariat and supervisors; for leaders and
    unit people, the published (or minuted) meetings that they chair or attend, that their unit
    attends, or where they or their unit owe a decision."""
    role = case_permissions.role_of(user)
    if role in case_permissions.ALL_SEEING:
        return Q()
    person = case_permissions.person_of(user)
    if role not in case_permissions.INTERNAL or person is None:
        return Q(pk__in=[])
    attends = Meeting.attendees.through.objects.filter(meeting_id=OuterRef("pk"), person_id=person.pk)
    unit_attends = Meeting.attending_units.through.objects.filter(meeting_id=OuterRef("pk"), unit_id=person.unit_id)
    owes = Decision.objects.filter(Q(owner_id=person.pk) | Q(unit_id=person.unit_id), meeting_id=OuterRef("pk"))
    return ~Q(state=Meeting.State.DRAFT) & (
        Q(chair_id=person.pk) | Q(Exists(attends)) | Q(Exists(unit_attends)) | Q(Exists(owes))
    )


def meetings(user):
    """The meetings ``user`` may read, newest first, with their counts of items and decisions."""
    items = (
        AgendaItem.objects.filter(meeting=OuterRef("pk"), dropped=False)
        .order_by()
        .values("meeting")
        .annotate(n=Count("pk"))
        .values("n")
    )
    decisions = (
        Decision.objects.filter(meeting=OuterRef("pk")).order_by().values("meeting").annotate(n=Count("pk")).values("n")
    )
    open_decisions = decisions.filter(state=Decision.State.OPEN)
    return (
        Meeting.objects.filter(meeting_scope(user))
        .select_related("chair")
        .annotate(
            item_count=Subquery(items, output_field=IntegerField()),
            decision_count=Subquery(decisions, output_field=IntegerField()),
            open_decision_count=Subquery(open_decisions, output_field=IntegerField()),
        )
        .order_by("-month")
    )


def meeting_for(user, pk):
    """One meeting ``user`` may read, with its items, decisions, attendees and units loaded; or None."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    if not 0 < pk < 2**31:
        return None
    return (
        Meeting.objects.filter(meeting_scope(user), pk=pk)
        .select_related("chair", "chair__unit")
        .prefetch_related(
            Prefetch("items", queryset=AgendaItem.objects.select_related("project").order_by("position", "pk")),
            Prefetch(
                "decisions",
                queryset=Decision.objects.select_related("owner", "unit", "project", "item").order_by("pk"),
            ),
            Prefetch("attendees", queryset=Person.objects.select_related("unit").order_by("name")),
            Prefetch("attending_units", queryset=Unit.objects.order_by("kind", "name")),
        )
        .first()
    )


@dataclass
class AgendaGroup:
    section: str
    label: str
    items: list


def agenda(meeting, *, include_dropped=True):
    """The agenda by section in DESIGN order: [AgendaGroup(section, label, items)], empty sections
    left out. Uses the prefetched items when there are."""
    items = list(meeting.items.all())
    if not include_dropped:
        items = [item for item in items if not item.dropped]
    by_section = defaultdict(list)
    for item in sorted(items, key=lambda item: (item.position, item.pk)):
        by_section[item.section].append(item)
    labels = dict(AgendaSection.choices)
    return [AgendaGroup(section, labels[section], by_section[section]) for section in SECTION_ORDER if by_section[section]]


def decisions_on_agenda(meeting):
    """{item id: Decision} for the agenda's items drafted from a decision, with its current state."""
    ids = {}
    for item in meeting.items.all():
        kind, _sep, pk = item.source.partition(":")
        if kind == "decision" and pk.isascii() and pk.isdigit():
            ids[int(pk)] = item.pk
    if not ids:
        return {}
    return {
        ids[decision.pk]: decision
        for decision in Decision.objects.filter(pk__in=list(ids)).select_related("owner", "unit", "meeting")
    }
