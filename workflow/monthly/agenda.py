"""The agenda of the monthly scheduling meeting, drafted from the data.

The agenda of a period (the month the meeting reviews) is drafted in DESIGN section 6's order
(``AgendaSection``):

(a) ``decisions``: the decisions of the last meeting, whatever their state, and every decision of an
    earlier meeting that is still open (it carries over until done or dropped) or that was closed
    since the last meeting was held;
(b) ``red``: the cases red in the period's lights, with the reasons that made them red;
(c) ``escalated``: open blockers with an open task at level 2 or more of the escalation ladder, and
    supervision orders overdue (read through the engine's port, ``workflow.engine.interventions``):
    issued and not answered by their answer date, or answered and not closed although the date the
    unit promised to fix them by has passed;
(d) ``promotions``: cases waiting for a decision to move forward a stage, meaning every case for
    which a forward stage transition's guard (cases/guards.py) passes today;
(e) ``docking``: financing dockings that reached intent signed, credit approved or disbursed during
    the period (read from the audit trail), with their amounts;
(f) ``interviews``: interviews proposed and not yet decided.

Drafting is set-based: each section is one query (the promotions three more, for the records the
guards read), so the number of queries does not grow with the number of cases. Each drafted item
remembers its record (``source``, "kind:id")."""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import (
    CharField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
)
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow.workflow.status import STATUS

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
    PreworkItem,
    PreworkKind,
    PreworkState,
    Role,
    Stage,
    UnitKind,
)
from workflow.engine.calendar import WorkingCalendar, deadline_text
from workflow.engine.interventions import interventions
from workflow.engine.models import Escalation

from .lights import deciding_reasons, reason_text
from .models import AgendaItem, AgendaSection, CycleStep, Decision, Light, LightSnapshot, Meeting
from .periods import first_of_month, previous_month

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


@dataclass
class Drafted:
    """An item the data asks for, before it is matched with the agenda's items."""

    section: str
    source: str
    title: str
    detail: str = ""
    project: object = None
    unit_id: int | None = None  # a unit to invite besides the case's lead unit


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
        lines = [reason_text(reason) for reason in deciding_reasons(snapshot.light, snapshot.reasons)]
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
    orders = interventions().overdue_orders(now=now, today=today)
    for order in orders:
        if not order.answered:
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
    return [
        Drafted(
            AgendaSection.INTERVIEWS,
            f"interview:{interview.pk}",
            _("Interview of %(leader)s: %(case)s") % {"leader": interview.leader_name, "case": _case(interview.project, interview.unit)},
            interview.reason,
            interview.project,
        )
        for interview in interventions().proposed_interviews()
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
