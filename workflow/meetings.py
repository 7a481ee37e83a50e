"""The monthly scheduling meeting (调度会): the agenda drafted from the data, edited and published
with calendar invitations by the secretariat, the minutes, and the decisions that become tasks.

The agenda of a period (the month the meeting reviews) is drafted in DESIGN section 6's order
(``AgendaSection``):

(a) ``decisions``: the decisions of the last meeting, whatever their state, and every decision
    of an earlier meeting that is still open (it carries over until done or dropped) or that was
    closed since the last meeting was held;
(b) ``red``: the cases red in the period's lights, with the reasons that made them red;
(c) ``escalated``: open blockers with an open task at level 2 or more of the escalation ladder,
    and supervision orders overdue: issued and not answered by their answer date, or answered
    and not closed although the date the unit promised to fix them by has passed;
(d) ``promotions``: cases waiting for a decision to move forward a stage, meaning every case
    for which a forward stage transition's guard (cases/guards.py) passes today: nothing is
    missing, only somebody's decision to take the step;
(e) ``docking``: financing dockings that reached intent signed, credit approved or disbursed
    during the period (read from the audit trail), with their amounts;
(f) ``interviews``: interviews proposed and not yet decided.

Drafting is set-based: each section is one query (the promotions three more, for the records
the guards read), the items are written with one bulk insert, so the number of queries does not
grow with the number of cases. Each drafted item remembers its record (``source``, "kind:id"),
so drafting again creates nothing twice: it refreshes the drafted items' titles and details,
adds what is new at the end of its section, removes drafted items whose record no longer
qualifies unless the secretariat wrote a note on them, and keeps hand-added items, notes,
dropped items and the order the secretariat gave.

Everything that changes a meeting is a service here: keyword-only, one transaction, the
secretariat only, audited, with optimistic concurrency on ``Meeting.version`` (a stale version
raises ``cases.services.Conflict``, which the API answers with 409). Selectors at the end
scope the meetings by role: the secretariat and supervisors see every meeting; leaders and unit
people see the published ones they, or their unit, attend or owe a decision of.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    Case,
    CharField,
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
)
from django.db.models.functions import Cast
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow.workflow.status import STATUS

from cases import notifying
from cases import permissions as case_permissions
from cases.financing.models import DOCKING_INTENT_REACHED, Docking, DockingState
from cases.formatting import format_wan
from cases.models import (
    BLOCKER_OPEN,
    PREWORK_SETTLED,
    STAGE_PATH,
    AnnualPlan,
    AuditAction,
    AuditEvent,
    Blocker,
    KeyProject,
    Person,
    PreworkItem,
    PreworkKind,
    PreworkState,
    Rank,
    Role,
    Stage,
    Unit,
    UnitKind,
)
from cases.services import Conflict
from cases.services.audit import audit_record

from . import services
from .calendar import WorkingCalendar, deadline_text
from .lights import first_of_month, previous_month, reason_text
from .models import (
    AgendaItem,
    AgendaSection,
    CycleStep,
    Decision,
    Escalation,
    Interview,
    Light,
    LightSnapshot,
    Meeting,
    SupervisionOrder,
    TaskClock,
    TaskKind,
)

DEFAULT_MEETING_DAY = 10  # working day of the month, when the timeline has no active "meeting" step
MEETING_TIME = datetime.time(9, 30)
NUMBER_FORMAT = "调度〔{year}〕{month}号"
SECTION_ORDER = [section.value for section in AgendaSection]
ESCALATED_LEVEL = 2
DOCKING_NEWS = [DockingState.INTENT_SIGNED, DockingState.CREDIT_APPROVED, DockingState.DISBURSED]
OPEN_TASK = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)
NOT_INTERNAL = [Role.INSTITUTION, Role.OWNER]
EXTERNAL_UNITS = [UnitKind.INSTITUTION, UnitKind.ENTERPRISE]
PROMOTIONS_DEFINITION = gettext_lazy(
    "Cases for which a forward stage transition's guard passes today: nothing is missing, "
    "only somebody's decision to take the step."
)


class MeetingLocked(Conflict):
    default_message = ""

    def __init__(self, meeting):
        super().__init__(
            _("The minutes of this meeting are recorded: its agenda and details no longer change.")
            if meeting.state == Meeting.State.MINUTED
            else _("The agenda is published: it is no longer drafted from the data.")
        )


class StaleVersion(Conflict):
    """Someone changed the meeting after the reader loaded it."""

    def __init__(self):
        super().__init__(
            _("Someone else changed this meeting after you opened it. Reload it and try again.")
        )


# The meeting's day


def meeting_day(month, cal=None):
    """The meeting of period ``month``: working day N (the timeline's "meeting" step, 10 by
    default) of the calendar month after the period, at 09:30 local time."""
    cal = cal or WorkingCalendar.load()
    number = (
        CycleStep.objects.filter(kind=CycleStep.Kind.MEETING, is_active=True)
        .values_list("working_day", flat=True)
        .first()
    ) or DEFAULT_MEETING_DAY
    cycle_month = first_of_month(month + datetime.timedelta(days=32))
    first = cycle_month if cal.is_working_day(cycle_month) else cal.next_working_day(cycle_month)
    day = cal.add_working_days_to_date(first, number - 1)
    return timezone.make_aware(datetime.datetime.combine(day, MEETING_TIME))


def meeting_number(month):
    return NUMBER_FORMAT.format(year=month.year, month=month.month)


def period_of_today(today=None):
    """The period the current cycle reviews: last month."""
    today = today or timezone.localdate()
    return previous_month(first_of_month(today))


# Drafting


@dataclass
class Drafted:
    """An item the data asks for, before it is matched with the agenda's items."""

    section: str
    source: str
    title: str
    detail: str = ""
    project: object = None
    unit_id: int | None = None  # a unit to invite besides the case's lead unit


@dataclass
class DraftResult:
    """What ``meeting_draft`` did, for the command, the cycle's run record and the pages."""

    created: bool = False
    redrafted: bool = True
    added: int = 0
    refreshed: int = 0
    removed: int = 0
    by_section: dict = field(default_factory=dict)

    def as_dict(self):
        return {
            "created": self.created,
            "redrafted": self.redrafted,
            "added": self.added,
            "refreshed": self.refreshed,
            "removed": self.removed,
            "by_section": self.by_section,
        }


def _day(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d") if moment else "—"


def _case(project, unit=None):
    """A case as the agenda names it; a matter about no single case is named by its unit."""
    if project is None:
        return unit.name if unit is not None else _("no key project")
    return f"{project.code} {project.name}"


def _decision_state_label(decision):
    return str(Decision.State(decision.state).label)


def _previous_meeting(month):
    return Meeting.objects.filter(month__lt=month).order_by("-month").first()


def _decisions(month, previous):
    """(a) The last meeting's decisions; earlier ones still open, or closed since it was held."""
    if previous is None:
        return []
    wanted = Q(state=Decision.State.OPEN) | Q(meeting=previous) | Q(done_at__gte=previous.scheduled_at)
    decisions = (
        Decision.objects.filter(wanted, meeting__month__lt=month)
        .select_related("meeting", "owner", "unit", "project")
        .order_by("meeting__month", "pk")
    )
    rows = []
    for decision in decisions:
        lines = [
            _("Decided at %(meeting)s; owner: %(owner)s (%(unit)s); due %(due)s.")
            % {
                "meeting": decision.meeting.number,
                "owner": decision.owner.name,
                "unit": decision.unit.name,
                "due": deadline_text(decision.due_at),
            },
            _("Status: %(state)s.") % {"state": _decision_state_label(decision)},
        ]
        if decision.state != Decision.State.OPEN:
            lines.append(_("Closed on %(day)s.") % {"day": _day(decision.done_at)})
        if decision.report:
            lines.append(_("What was done: %(report)s") % {"report": decision.report})
        rows.append(
            Drafted(
                AgendaSection.DECISIONS,
                f"decision:{decision.pk}",
                decision.text,
                "\n".join(lines),
                decision.project,
                decision.unit_id if decision.state == Decision.State.OPEN else None,
            )
        )
    return rows


def _red(month):
    """(b) The period's red cases, the longest red and the furthest behind first."""
    snapshots = (
        LightSnapshot.objects.filter(month=month, light=Light.RED)
        .select_related("project")
        .order_by("-consecutive_red", F("lag").desc(nulls_last=True), "project__code")
    )
    rows = []
    for snapshot in snapshots:
        lines = [reason_text(reason) for reason in snapshot.reasons]
        if snapshot.consecutive_red > 1:
            lines.append(_("Red for %(months)s months in a row.") % {"months": snapshot.consecutive_red})
        rows.append(
            Drafted(AgendaSection.RED, f"red:{snapshot.project_id}", _case(snapshot.project), "\n".join(lines), snapshot.project)
        )
    return rows


def _escalated(now):
    """(c) Open blockers escalated to level 2 or more, and overdue supervision orders."""
    levels = (
        Escalation.objects.filter(
            level__gte=ESCALATED_LEVEL,
            clock__closed_at__isnull=True,
            clock__task__status__in=OPEN_TASK,
            clock__task__process_id=OuterRef("process"),
        )
        .order_by("-level")
        .values("level")[:1]
    )
    blockers = (
        Blocker.objects.filter(state__in=BLOCKER_OPEN)
        .annotate(level=Subquery(levels, output_field=IntegerField()))
        .filter(level__isnull=False)
        .select_related("project", "lead_unit")
        .order_by("-level", "project__code", "pk")
    )
    rows = [
        Drafted(
            AgendaSection.ESCALATED,
            f"blocker:{blocker.pk}",
            f"{_case(blocker.project)}: {blocker.title}",
            _("Blocker escalated to level %(level)s; lead unit: %(unit)s; state: %(state)s.")
            % {
                "level": blocker.level,
                "unit": blocker.lead_unit.name if blocker.lead_unit else "—",
                "state": blocker.get_state_display(),
            },
            blocker.project,
        )
        for blocker in blockers
    ]
    today = timezone.localtime(now).date()
    orders = (
        SupervisionOrder.objects.filter(
            Q(state=SupervisionOrder.State.ISSUED, respond_by__lt=now)
            | Q(state=SupervisionOrder.State.ANSWERED, fixed_by__lt=today)
        )
        .select_related("project", "unit")
        .order_by("respond_by", "pk")
    )
    for order in orders:
        if order.state == SupervisionOrder.State.ISSUED:
            detail = _("Supervision order to %(unit)s, not answered by %(due)s.") % {
                "unit": order.unit.name,
                "due": deadline_text(order.respond_by),
            }
        else:
            detail = _("Supervision order to %(unit)s, to be fixed by %(day)s and not closed.") % {
                "unit": order.unit.name,
                "day": order.fixed_by.isoformat(),
            }
        rows.append(
            Drafted(
                AgendaSection.ESCALATED,
                f"order:{order.pk}",
                f"{order.number} {_case(order.project, order.unit)}: {order.subject}",
                detail,
                order.project,
            )
        )
    return rows


def forward_transitions():
    """{stage: [django-fsm transition]}: the case transitions that move it forward on its path."""
    stage_field = KeyProject._meta.get_field("stage")
    found = defaultdict(list)
    for transition in stage_field.get_all_transitions(KeyProject):
        if transition.source in STAGE_PATH and transition.target in STAGE_PATH:
            if STAGE_PATH.index(transition.target) > STAGE_PATH.index(transition.source):
                found[transition.source].append(transition)
    return found


def promotion_candidates(today):
    """The cases that may pass a forward guard: what SQL can tell of each guard (a necessary
    condition, never more), so that the guards themselves run on few cases."""
    permit_done = PreworkItem.objects.filter(
        project=OuterRef("pk"), kind=PreworkKind.CONSTRUCTION_PERMIT, state=PreworkState.DONE
    )
    unsettled = PreworkItem.objects.filter(project=OuterRef("pk"), required=True).exclude(state__in=PREWORK_SETTLED)
    intent = Docking.objects.filter(project=OuterRef("pk"), state__in=DOCKING_INTENT_REACHED)
    planned = AnnualPlan.objects.filter(project=OuterRef("pk"), year=today.year, planned_investment__gt=0)
    return KeyProject.objects.filter(
        Q(
            stage=Stage.RESERVE,
            lead_unit__isnull=False,
            responsible_leader__isnull=False,
            total_investment__gt=0,
            planned_start__isnull=False,
            planned_finish__isnull=False,
        )
        & Q(Exists(planned))
        | Q(stage=Stage.PREWORK) & ~Q(Exists(unsettled))
        | Q(stage=Stage.DOCKING) & Q(Exists(intent))
        | Q(stage=Stage.FINANCING, actual_start__isnull=False) & Q(Exists(permit_done))
        | Q(stage=Stage.CONSTRUCTION, completion_accepted_on__isnull=False, actual_finish__isnull=False)
    )


def _prefetched(cases, name, rows):
    """Give each case its ``name`` rows as prefetch_related would, from one query that selects
    them by a subquery rather than by a list of ids."""
    by_case = defaultdict(list)
    for row in rows:
        by_case[row.project_id].append(row)
    for case in cases:
        queryset = getattr(case, name).all()
        queryset._result_cache = by_case[case.pk]
        queryset._prefetch_done = True
        case.__dict__.setdefault("_prefetched_objects_cache", {})[name] = queryset


def _promotions(now):
    """(d) Cases waiting for a decision to move forward: a forward guard passes (see the module)."""
    today = timezone.localtime(now).date()
    candidates = promotion_candidates(today)
    cases = list(candidates.select_related("lead_unit").order_by("code"))
    ids = candidates.values("pk")
    _prefetched(cases, "prework_items", PreworkItem.objects.filter(project__in=ids))
    _prefetched(cases, "dockings", Docking.objects.filter(project__in=ids))
    _prefetched(cases, "annual_plans", AnnualPlan.objects.filter(project__in=ids))
    transitions = forward_transitions()
    stage_labels = dict(Stage.choices)
    rows = []
    for case in sorted(cases, key=lambda c: (STAGE_PATH.index(c.stage), c.code)):
        for transition in transitions.get(case.stage, []):
            if transition.custom["guard"](case):
                continue
            rows.append(
                Drafted(
                    AgendaSection.PROMOTIONS,
                    f"promotion:{case.pk}",
                    _case(case),
                    _("%(step)s: from %(source)s to %(target)s; nothing is missing, the step waits for a decision.")
                    % {
                        "step": transition.custom["label"],
                        "source": stage_labels[transition.source],
                        "target": stage_labels[transition.target],
                    },
                    case,
                )
            )
            break
    return rows


def _month_bounds(month):
    cal = WorkingCalendar()
    return cal.start_of(month), cal.start_of(first_of_month(month + datetime.timedelta(days=32)))


def _docking(month):
    """(e) Dockings that reached intent, credit or disbursement during the period."""
    start, end = _month_bounds(month)
    news = AuditEvent.objects.filter(
        content_type__app_label="cases",
        content_type__model="docking",
        object_id=Cast(OuterRef("pk"), CharField()),
        action=AuditAction.TRANSITION,
        to_state__in=DOCKING_NEWS,
        at__gte=start,
        at__lt=end,
    ).order_by("-at", "-pk")
    dockings = (
        Docking.objects.annotate(
            news_state=Subquery(news.values("to_state")[:1]), news_at=Subquery(news.values("at")[:1])
        )
        .filter(news_state__isnull=False)
        .select_related("project", "institution")
        .order_by("news_at", "pk")
    )
    labels = dict(DockingState.choices)
    rows = []
    for docking in dockings:
        amounts = []
        if docking.intent_amount:
            amounts.append(_("intended %(amount)s") % {"amount": format_wan(docking.intent_amount)})
        if docking.credit_approved_amount:
            amounts.append(_("credit approved %(amount)s") % {"amount": format_wan(docking.credit_approved_amount)})
        if docking.disbursed_amount:
            amounts.append(_("disbursed %(amount)s") % {"amount": format_wan(docking.disbursed_amount)})
        detail = _("%(institution)s: %(state)s on %(day)s.") % {
            "institution": docking.institution.name,
            "state": labels.get(docking.news_state, docking.news_state),
            "day": _day(docking.news_at),
        }
        if amounts:
            detail += " " + "；".join(amounts)
        rows.append(
            Drafted(
                AgendaSection.DOCKING,
                f"docking:{docking.pk}",
                f"{_case(docking.project)} · {docking.institution.name}",
                detail,
                docking.project,
            )
        )
    return rows


def _interviews():
    """(f) Interviews proposed and not yet decided."""
    interviews = (
        Interview.objects.filter(state=Interview.State.PROPOSED)
        .select_related("project", "leader", "unit")
        .order_by("proposed_at", "pk")
    )
    return [
        Drafted(
            AgendaSection.INTERVIEWS,
            f"interview:{interview.pk}",
            _("Interview of %(leader)s: %(case)s") % {"leader": interview.leader.name, "case": _case(interview.project, interview.unit)},
            interview.reason,
            interview.project,
        )
        for interview in interviews
    ]


def drafted_items(month, now):
    """Every item the data asks for in period ``month``, in section order; a constant number of queries."""
    previous = _previous_meeting(month)
    return previous, [
        *_decisions(month, previous),
        *_red(month),
        *_escalated(now),
        *_promotions(now),
        *_docking(month),
        *_interviews(),
    ]


def _in_section_order(items):
    """Items grouped by section in the agenda's order, keeping their order within a section."""
    rank = {section: n for n, section in enumerate(SECTION_ORDER)}
    return sorted(items, key=lambda item: rank.get(item.section, len(rank)))


def _renumber(items, *, extra_fields=(), also=()):
    """Positions 1..n in the given order; writes the changed ones (and ``also``) in one update.
    Returns how many saved items moved."""
    changed = {item.pk: item for item in also if item.pk}
    moved = 0
    for position, item in enumerate(items, start=1):
        if item.position != position:
            item.position = position
            if item.pk:
                changed[item.pk] = item
                moved += 1
    if changed:
        AgendaItem.objects.bulk_update(list(changed.values()), ["position", *extra_fields])
    return moved


def _chair():
    rank_order = Case(
        *[When(rank=rank, then=Value(n)) for n, rank in enumerate(Rank.values)],
        default=Value(len(Rank.values)),
        output_field=IntegerField(),
    )
    return Person.objects.filter(role=Role.LEADER).order_by(rank_order, "pk").first()


def _require_secretariat(actor):
    if actor is not None and not case_permissions.is_secretariat(actor):
        raise PermissionDenied(_("Only the secretariat prepares the scheduling meeting."))


@transaction.atomic
def meeting_draft(*, month, actor=None, now=None):
    """Draft (or draft again, while a draft) the agenda of period ``month``; returns the meeting
    with ``draft_result`` (a DraftResult). Idempotent; a constant number of queries.

    A new meeting gets its number (调度〔year〕month号), a title, the meeting day of the cycle at
    09:30, the last meeting's place, the highest-ranking leader as chair; the responsible leaders
    of the cases on the agenda attend, and the cases' lead units (with the units owing open
    decisions) are invited. Drafting again adds attendees and units, never removes any, and leaves
    the details the secretariat edited alone. A published or minuted meeting is returned as it is.
    """
    _require_secretariat(actor)
    now = now or timezone.now()
    month = first_of_month(month)
    if month > first_of_month(timezone.localtime(now).date()):
        raise ValidationError({"month": _("Choose a month that has begun, as YYYY-MM.")})
    meeting = Meeting.objects.select_for_update().filter(month=month).first()
    if meeting is not None and meeting.state != Meeting.State.DRAFT:
        meeting.draft_result = DraftResult(redrafted=False)
        return meeting
    with translation.override(settings.LANGUAGE_CODE):
        previous, drafted = drafted_items(month, now)
        result = DraftResult(created=meeting is None)
        if meeting is None:
            meeting = Meeting(
                month=month,
                number=meeting_number(month),
                title=_("Scheduling meeting on the key projects, %(month)s") % {"month": f"{month:%Y-%m}"},
                scheduled_at=meeting_day(month),
                place=(previous.place if previous and previous.place else _("Meeting room of the commission")),
                chair=_chair(),
                drafted_at=now,
            )
            meeting.full_clean()
            meeting.save()
            existing = []
        else:
            existing = list(meeting.items.all())
    by_source = {item.source: item for item in existing if item.source}
    fresh, refreshed = set(), []
    new_items = []
    for row in drafted:
        fresh.add(row.source)
        item = by_source.get(row.source)
        if item is None:
            new_items.append(
                AgendaItem(
                    meeting=meeting,
                    position=0,
                    section=row.section,
                    title=row.title[:250],
                    detail=row.detail,
                    project=row.project,
                    source=row.source,
                )
            )
        elif (item.title, item.detail, item.project_id) != (row.title[:250], row.detail, getattr(row.project, "pk", None)):
            item.title, item.detail, item.project = row.title[:250], row.detail, row.project
            refreshed.append(item)
    stale = [item for item in existing if item.source and item.source not in fresh and not item.note.strip()]
    stale_ids = {item.pk for item in stale}
    kept = [item for item in existing if item.pk not in stale_ids]
    ordered = _in_section_order([*kept, *new_items])
    moved = _renumber(ordered, extra_fields=["title", "detail", "project"], also=refreshed)
    AgendaItem.objects.bulk_create(new_items)
    if stale_ids:
        AgendaItem.objects.filter(pk__in=stale_ids).delete()
    projects = [row.project for row in drafted if row.project is not None]
    leaders = {p.responsible_leader_id for p in projects if p.responsible_leader_id}
    units = {p.lead_unit_id for p in projects if p.lead_unit_id}
    units |= {row.unit_id for row in drafted if row.unit_id}
    if leaders:
        meeting.attendees.add(*leaders)
    if units:
        meeting.attending_units.add(*units)
    result.added, result.refreshed, result.removed = len(new_items), len(refreshed), len(stale_ids)
    counts = defaultdict(int)
    for row in drafted:
        counts[row.section] += 1
    result.by_section = {section: counts.get(section, 0) for section in SECTION_ORDER if section != AgendaSection.OTHER}
    if not result.created and (new_items or refreshed or stale_ids or moved):
        # The agenda changed under anyone editing it: their version is stale now.
        meeting.version += 1
        meeting.drafted_at = now
        meeting.save(update_fields=["version", "drafted_at"])
    audit_record(
        actor=actor,
        instance=meeting,
        action=AuditAction.CREATED if result.created else AuditAction.UPDATED,
        changes={"drafted": result.as_dict()},
    )
    meeting.draft_result = result
    return meeting


# Editing


def _for_change(meeting, actor, version):
    """The meeting locked for a change by the secretariat, at the version the editor saw."""
    if actor is None or not case_permissions.is_secretariat(actor):
        raise PermissionDenied(_("Only the secretariat prepares the scheduling meeting."))
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if locked.state == Meeting.State.MINUTED:
        raise MeetingLocked(locked)
    if version is None or str(version) != str(locked.version):
        raise StaleVersion()
    return locked


def _changed(meeting, actor, instance, changes, project=None):
    meeting.version += 1
    meeting.save(update_fields=["version"])
    audit_record(actor=actor, instance=instance, action=AuditAction.UPDATED, project=project, changes=changes)
    return meeting


def _item_of(meeting, item, items=None):
    """The item, read again in the locked meeting (from ``items`` when loaded)."""
    item_id = getattr(item, "pk", item)
    if items is not None:
        found = next((row for row in items if row.pk == item_id), None)
    else:
        found = AgendaItem.objects.filter(meeting=meeting, pk=item_id).first()
    if found is None:
        raise ValidationError({"item": _("This item is not on the meeting's agenda.")})
    return found


def _load_items(meeting):
    return list(AgendaItem.objects.filter(meeting=meeting).order_by("position", "pk"))


@transaction.atomic
def agenda_item_move(*, item, actor, version, direction=None, position=None):
    """Move an item up or down within its section, or to ``position`` (1 = first of its section)."""
    meeting = _for_change(item.meeting, actor, version)
    items = _load_items(meeting)
    item = _item_of(meeting, item, items)
    section = [row for row in items if row.section == item.section]
    index = section.index(item)
    if direction == "up":
        target = index - 1
    elif direction == "down":
        target = index + 1
    elif position is not None:
        target = int(position) - 1
    else:
        raise ValidationError({"direction": _("Say up, down, or the position to move it to.")})
    target = max(0, min(target, len(section) - 1))
    if target == index:
        return item
    section.insert(target, section.pop(index))
    others = [row for row in items if row.section != item.section]
    before = item.position
    _renumber(_in_section_order([*others, *section]))
    _changed(meeting, actor, item, {"position": [before, item.position]}, item.project)
    return item


@transaction.atomic
def agenda_item_add(*, meeting, actor, version, section, title, detail="", project=None):
    """Add an item by hand, at the end of its section."""
    meeting = _for_change(meeting, actor, version)
    title = (title or "").strip()
    errors = {}
    if not title:
        errors["title"] = _("Give the item a title.")
    if section not in SECTION_ORDER:
        errors["section"] = _("Choose a section of the agenda.")
    if errors:
        raise ValidationError(errors)
    items = _load_items(meeting)
    item = AgendaItem(
        meeting=meeting, position=0, section=section, title=title[:250], detail=(detail or "").strip(), project=project
    )
    item.full_clean(exclude=["position"])
    _renumber(_in_section_order([*items, item]))
    item.save()
    _changed(meeting, actor, item, {"added": [None, item.title]}, project)
    return item


def _set_dropped(item, actor, version, dropped):
    meeting = _for_change(item.meeting, actor, version)
    item = _item_of(meeting, item)
    if item.dropped == dropped:
        return item
    item.dropped = dropped
    item.save(update_fields=["dropped"])
    _changed(meeting, actor, item, {"dropped": [not dropped, dropped]}, item.project)
    return item


@transaction.atomic
def agenda_item_drop(*, item, actor, version):
    """Take an item off the agenda (it stays listed for the secretariat, struck out)."""
    return _set_dropped(item, actor, version, True)


@transaction.atomic
def agenda_item_restore(*, item, actor, version):
    return _set_dropped(item, actor, version, False)


@transaction.atomic
def agenda_item_annotate(*, item, actor, version, note):
    """The secretariat's note on an item; an empty note removes it."""
    meeting = _for_change(item.meeting, actor, version)
    item = _item_of(meeting, item)
    before, item.note = item.note, (note or "").strip()
    item.full_clean(exclude=["position"])
    item.save(update_fields=["note"])
    _changed(meeting, actor, item, {"note": [before, item.note]}, item.project)
    return item


DETAIL_FIELDS = ["title", "scheduled_at", "duration_minutes", "place", "chair"]


@transaction.atomic
def meeting_update(*, meeting, actor, version, attendees=None, attending_units=None, **fields):
    """Edit the meeting's details: title, date and time, duration, place, chair, attendees, units."""
    meeting = _for_change(meeting, actor, version)
    unknown = set(fields) - set(DETAIL_FIELDS)
    if unknown:
        raise ValidationError({name: _("This detail cannot be changed here.") for name in unknown})
    errors = {}
    chair = fields.get("chair", meeting.chair)
    if chair is not None and chair.role in NOT_INTERNAL:
        errors["chair"] = _("The chair is one of the government's people.")
    if attendees is not None and any(person.role in NOT_INTERNAL for person in attendees):
        errors["attendees"] = _("Attendees are government people; institutions are invited through their docking.")
    if attending_units is not None and any(unit.kind in EXTERNAL_UNITS for unit in attending_units):
        errors["attending_units"] = _("Attending units are government units.")
    if "place" in fields:
        fields["place"] = (fields["place"] or "").strip()
    if errors:
        raise ValidationError(errors)
    before = {name: meeting.serializable_value(name) for name in DETAIL_FIELDS}
    before_people = set(meeting.attendees.values_list("pk", flat=True))
    before_units = set(meeting.attending_units.values_list("pk", flat=True))
    for name, value in fields.items():
        setattr(meeting, name, value)
    meeting.full_clean()
    meeting.save()
    changes = {
        name: [str(before[name]), str(meeting.serializable_value(name))]
        for name in DETAIL_FIELDS
        if before[name] != meeting.serializable_value(name)
    }
    if attendees is not None:
        meeting.attendees.set(attendees)
        after = {person.pk for person in attendees}
        if after != before_people:
            changes["attendees"] = [sorted(before_people), sorted(after)]
    if attending_units is not None:
        meeting.attending_units.set(attending_units)
        after = {unit.pk for unit in attending_units}
        if after != before_units:
            changes["attending_units"] = [sorted(before_units), sorted(after)]
    if not changes:
        return meeting
    return _changed(meeting, actor, meeting, changes)


# Publishing


def invitees(meeting):
    """Who is invited: the chair, the attending people and the heads of the attending units."""
    return list(
        Person.objects.filter(
            Q(pk=meeting.chair_id)
            | Q(pk__in=meeting.attendees.through.objects.filter(meeting_id=meeting.pk).values("person_id"))
            | Q(headed_units__in=meeting.attending_units.through.objects.filter(meeting_id=meeting.pk).values("unit_id"))
        )
        .select_related("user")
        .distinct()
        .order_by("pk")
    )


def agenda_text(meeting):
    """The agenda as plain numbered lines by section, for the calendar entry."""
    lines, number = [], 0
    for group in agenda(meeting, include_dropped=False):
        lines.append(str(group.label))
        for item in group.items:
            number += 1
            lines.append(f"{number}. {item.title}")
    return "\n".join(lines)


def meeting_event(meeting):
    """The iCalendar event of the meeting: one uid for the meeting, so an update replaces it."""
    start = meeting.scheduled_at
    return {
        "uid": f"meeting-{meeting.pk}@keyprojects",
        "sequence": meeting.version,
        "summary": meeting.title,
        "start": start.isoformat(),
        "end": (start + datetime.timedelta(minutes=meeting.duration_minutes)).isoformat(),
        "location": meeting.place,
        "description": agenda_text(meeting),
    }


@transaction.atomic
def meeting_publish(*, meeting, actor, version):
    """Publish the agenda: every invitee gets the invitation with its calendar entry. Publishing
    again after a change sends the updated entry, with the same uid."""
    if actor is None:
        raise PermissionDenied(_("Only the secretariat prepares the scheduling meeting."))
    meeting = _for_change(meeting, actor, version)
    errors = {}
    if not meeting.place.strip():
        errors["place"] = _("Say where the meeting is held.")
    if not agenda(meeting, include_dropped=False):
        errors["items"] = _("The agenda is empty: draft it or add an item first.")
    if errors:
        raise ValidationError(errors)
    before = meeting.state
    meeting.state = Meeting.State.PUBLISHED
    meeting.published_at = timezone.now()
    meeting.version += 1
    meeting.save(update_fields=["state", "published_at", "version"])
    audit_record(
        actor=actor,
        instance=meeting,
        action=AuditAction.TRANSITION,
        transition="publish" if before == Meeting.State.DRAFT else "republish",
        from_state=before,
        to_state=meeting.state,
    )
    people = invitees(meeting)
    notifying.notify_people(
        people,
        "meeting_invitation",
        context={
            "meeting": meeting.title,
            "when": timezone.localtime(meeting.scheduled_at).strftime("%Y-%m-%d %H:%M"),
            "place": meeting.place,
        },
        link=f"/workflow/meetings/{meeting.pk}/",
        event=meeting_event(meeting),
    )
    meeting.invited = people
    return meeting


# Minutes and decisions


@dataclass
class DecisionInput:
    """One decision as the minutes record it."""

    text: str
    owner: Person
    working_days: int
    unit: Unit | None = None
    project: KeyProject | None = None
    item: AgendaItem | int | None = None


def _as_input(row):
    return row if isinstance(row, DecisionInput) else DecisionInput(**row)


@transaction.atomic
def meeting_record_minutes(*, meeting, actor, minutes_by_item, decisions, version):
    """Record the minutes of each item and the decisions; each decision becomes a task of its
    owner (the owner's unit's queue when the owner cannot log in) with a clock of its working
    days, through its DecisionFlow. The meeting is then minuted: its agenda no longer changes."""
    from .flows import DecisionFlow

    meeting = _for_change(meeting, actor, version)
    items = {item.pk: item for item in _load_items(meeting)}
    errors = defaultdict(list)
    minutes = {}
    for key, text in (minutes_by_item or {}).items():
        item_id = getattr(key, "pk", key)
        try:
            item = items[int(item_id)]
        except (KeyError, TypeError, ValueError):
            errors["minutes"].append(_("Item %(item)s is not on this meeting's agenda.") % {"item": item_id})
            continue
        minutes[item.pk] = (text or "").strip()
    now = timezone.now()
    rows = []
    for number, raw in enumerate(decisions or [], start=1):
        row = _as_input(raw)
        item = None
        if row.item is not None:
            item = items.get(getattr(row.item, "pk", row.item))
            if item is None:
                errors["decisions"].append(
                    _("Decision %(n)s: its item is not on this meeting's agenda.") % {"n": number}
                )
                continue
        if row.owner is not None and row.owner.role in NOT_INTERNAL:
            errors["decisions"].append(
                _("Decision %(n)s: the owner is one of the government's people.") % {"n": number}
            )
            continue
        decision = Decision(
            meeting=meeting,
            item=item,
            project=row.project or (item.project if item else None),
            text=(row.text or "").strip(),
            owner=row.owner,
            unit=row.unit or (row.owner.unit if row.owner else None),
            working_days=row.working_days,
            created_at=now,
        )
        try:
            decision.full_clean(exclude=["meeting", "item", "due_at"])
        except ValidationError as error:
            label = _("Decision %(n)s") % {"n": number}
            for field_name, messages in error.message_dict.items():
                verbose = Decision._meta.get_field(field_name).verbose_name if field_name != "__all__" else ""
                errors["decisions"].extend(f"{label}: {verbose} {message}".replace("  ", " ") for message in messages)
            continue
        rows.append(decision)
    if errors:
        raise ValidationError(dict(errors))
    changed = []
    for item_id, text in minutes.items():
        item = items[item_id]
        if item.minutes != text:
            item.minutes = text
            changed.append(item)
    if changed:
        AgendaItem.objects.bulk_update(changed, ["minutes"])
    before = meeting.state
    meeting.state = Meeting.State.MINUTED
    meeting.minuted_at = now
    meeting.version += 1
    meeting.save(update_fields=["state", "minuted_at", "version"])
    audit_record(
        actor=actor,
        instance=meeting,
        action=AuditAction.TRANSITION,
        transition="record_minutes",
        from_state=before,
        to_state=meeting.state,
        changes={"items_minuted": len(changed), "decisions": len(rows)},
    )
    for decision in rows:
        decision.save()
        audit_record(
            actor=actor, instance=decision, action=AuditAction.CREATED, project=decision.project, to_state=decision.state
        )
        DecisionFlow.start.run(decision=decision)
    return meeting


def decision_owner_user(decision):
    """The owner's login, or None when the owner cannot log in (the unit's queue takes the task)."""
    user = decision.owner.user
    return user if user is not None and user.is_active else None


def decision_clock_start(*, task, decision):
    """The decision's deadline: a clock of its working days on the task, and ``due_at`` on the
    decision. Every decision has one, and escalates like any task; a decision about no case
    (a policy to draft) counts against its unit only (see ``escalation._act``)."""
    clock = services.clock_start(
        task=task,
        kind=TaskKind.DECISION,
        project=decision.project,
        unit_id=decision.unit_id,
        title=decision.text,
        working_days=decision.working_days,
    )
    Decision.objects.filter(pk=decision.pk).update(due_at=clock.due_at)
    decision.due_at = clock.due_at
    return clock


def _decision_of_task(task):
    return Decision.objects.select_for_update().get(pk=task.process.coerced.decision_id)


@transaction.atomic
def decision_done(*, task, user, report):
    """The owner reports what was done: the decision is done and its task finishes."""
    if task.status not in OPEN_TASK:
        raise ValidationError(_("This task is done already."))
    if not services.can_act(user, task):
        raise PermissionDenied(_("This task is not yours to do."))
    report = (report or "").strip()
    if not report:
        raise ValidationError({"report": _("Say what was done.")})
    decision = _decision_of_task(task)
    if decision.state != Decision.State.OPEN:
        raise ValidationError(_("This decision is closed already."))
    before = decision.state
    decision.state, decision.report, decision.done_at = Decision.State.DONE, report, timezone.now()
    decision.save(update_fields=["state", "report", "done_at"])
    audit_record(
        actor=user,
        instance=decision,
        action=AuditAction.TRANSITION,
        project=decision.project,
        transition="done",
        from_state=before,
        to_state=decision.state,
        reason=report,
    )
    services.finish_task(task, user)
    return decision


def carry_out_decision(task, user, data):
    """The DecisionFlow step's perform, for the task page and the task API (workflow/steps.py)."""
    decision_done(task=task, user=user, report=data["report"])


@transaction.atomic
def decision_drop(*, decision, actor, reason):
    """The secretariat drops an open decision (overtaken by events): its task is cancelled and it
    no longer carries over."""
    from .flows import DecisionFlow

    if not case_permissions.is_secretariat(actor):
        raise PermissionDenied(_("Only the secretariat drops a decision."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the decision is dropped.")})
    decision = Decision.objects.select_for_update().get(pk=decision.pk)
    if decision.state != Decision.State.OPEN:
        raise Conflict(_("This decision is closed already."))
    now = timezone.now()
    before = decision.state
    decision.state, decision.done_at = Decision.State.DROPPED, now
    decision.save(update_fields=["state", "done_at"])
    audit_record(
        actor=actor,
        instance=decision,
        action=AuditAction.TRANSITION,
        project=decision.project,
        transition="drop",
        from_state=before,
        to_state=decision.state,
        reason=reason,
    )
    process = getattr(decision, "process", None)
    if process is not None and process.finished is None:
        DecisionFlow.instance.cancel(process)
        TaskClock.objects.filter(task__process=process, closed_at__isnull=True).update(
            closed_at=now, next_step=None, next_fire_at=None
        )
    return decision


# Reading


def may_edit(user, meeting=None):
    """The secretariat edits a meeting until its minutes are recorded."""
    return case_permissions.is_secretariat(user) and (meeting is None or meeting.state != Meeting.State.MINUTED)


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

