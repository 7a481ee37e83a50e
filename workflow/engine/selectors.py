"""Reads of the engine, shared by pages, the API and exports, scoped by role and unit: due states,
the clocks and processes a person may see, the overdue board, the inbox and the queue, a task's
page."""

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from cases import permissions as case_permissions
from cases.models import AuditEvent, KeyProject, LeaderResponsibility, Role

from . import registry
from .calendar import WorkingCalendar
from .interventions import interventions
from .models import Escalation, TaskClock
from .services import can_act

OPEN = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)
DUE_SOON_WORKING_DAYS = 1


@dataclass
class DueState:
    code: str  # "on_time", "due_soon", "overdue", "paused", "closed"
    overdue_days: int = 0

    @property
    def label(self):
        if self.code == "overdue":
            return _("overdue by %(days)s working days") % {"days": self.overdue_days}
        return {
            "on_time": _("on time"),
            "due_soon": _("due soon"),
            "paused": _("paused"),
            "closed": _("closed"),
        }[self.code]


def due_state(clock, now=None, cal=None):
    now = now or timezone.now()
    if clock.closed_at:
        return DueState("closed")
    if clock.paused_at:
        return DueState("paused")
    cal = cal or WorkingCalendar.load()
    if now > clock.due_at:
        return DueState("overdue", cal.overdue_days(clock.due_at, now))
    if cal.working_days_between(now, clock.due_at) <= DUE_SOON_WORKING_DAYS:
        return DueState("due_soon")
    return DueState("on_time")


def with_due_states(clocks, now=None, cal=None):
    """Attach ``due`` (a DueState) to each clock with one calendar load (or ``cal``)."""
    now = now or timezone.now()
    cal = cal or WorkingCalendar.load()
    clocks = list(clocks)
    for clock in clocks:
        clock.due = due_state(clock, now, cal)
    return clocks


def no_case_scope_of(role, person):
    """Of the matters about no single case (no project), those a person of ``role`` may see
    besides the secretariat and supervisors: their unit's (unit roles), or the units they answer
    for (leaders, as they see the cases those units lead)."""
    if role == Role.LEADER:
        return Q(project__isnull=True, unit_id__in=LeaderResponsibility.objects.filter(leader=person).values("unit_id"))
    return Q(project__isnull=True, unit_id=person.unit_id)


def clock_scope(user):
    """The task clocks ``user`` may see: all for the secretariat and supervisors; for others those
    of the cases they may see, those about no case of their unit (or, for a leader, of the units
    they answer for), their own tasks and the tasks of the meeting decisions they own."""
    role = case_permissions.role_of(user)
    if role in case_permissions.ALL_SEEING:
        return Q()
    person = case_permissions.person_of(user)
    if person is None or role not in case_permissions.INTERNAL:
        return Q(pk__in=[])
    cases = Q(project__in=KeyProject.objects.filter(case_permissions.project_scope(user)))
    # Their own tasks, and what the domains add (the owner of a meeting decision sees its task
    # even while it waits in the unit's queue).
    mine = Q(task__owner=user)
    for scope in registry.clock_scopes():
        mine |= scope(user, person)
    if role == Role.LEADER:
        return cases | no_case_scope_of(role, person) | mine
    return cases | Q(unit_id=person.unit_id) | mine


def process_scope(user):
    """The processes ``user`` may see, as a filter on viewflow's Process: all for the secretariat
    and supervisors; otherwise those of cases they may see, and those with a task of their unit or theirs;
    for a project owner, those of its own cases."""
    role = case_permissions.role_of(user)
    if role in case_permissions.ALL_SEEING:
        return Q()
    if role == Role.OWNER:
        person = case_permissions.person_of(user)
        if person is None or person.unit_id is None:
            return Q(pk__in=[])
        # A project owner's: the processes of its own cases' tasks (its flows' pages are the monthly
        # report's alone, ``permissions.OWNER_PROCESSES``).
        return Q(pk__in=TaskClock.objects.filter(project__owner_id=person.unit_id).values("task__process_id"))
    if role not in case_permissions.INTERNAL:
        return Q(pk__in=[])
    return Q(pk__in=TaskClock.objects.filter(clock_scope(user)).values("task__process_id"))


def highest_level():
    """The highest rung fired for a clock, as a subquery: no GROUP BY, so the board counts,
    filters and sorts it in the database like any column."""
    return Subquery(
        Escalation.objects.filter(clock=OuterRef("pk")).order_by("-level").values("level")[:1],
        output_field=IntegerField(),
    )


def clocks(user):
    return (
        TaskClock.objects.filter(clock_scope(user))
        .select_related("task", "task__owner", "project", "project__responsible_leader", "unit", "next_step")
        .annotate(level=highest_level())
    )


def open_clocks(user):
    return clocks(user).filter(closed_at__isnull=True, task__status__in=OPEN)


def overdue_clocks(user, now=None):
    now = now or timezone.now()
    return open_clocks(user).filter(due_at__lt=now, paused_at__isnull=True)


# Days overdue only grow as the deadline gets earlier (a pause moves the deadline on resume),
# so sorting by them is sorting by the deadline; ties go by pk, the order they were started.
BOARD_ORDERS = {
    "-overdue": ("due_at", "pk"),
    "overdue": ("-due_at", "-pk"),
    "due": ("due_at", "pk"),
    "-due": ("-due_at", "-pk"),
    "unit": ("unit__name", "pk"),
    "-unit": ("-unit__name", "-pk"),
    "level": (F("level").asc(nulls_first=True), "pk"),
    "-level": (F("level").desc(nulls_last=True), "-pk"),
}


BOARD_DEFAULT_ORDER = "-overdue"


def overdue_board(user, *, unit=None, leader=None, level=None, min_days=None, order=BOARD_DEFAULT_ORDER, now=None):
    """The overdue tasks ``user`` may see, filtered and sorted by ``order`` in the database, each
    with the highest rung fired (``level``); a queryset for the caller to page.

    "At least ``min_days`` working days overdue" is a deadline before the calendar's cutoff;
    the days themselves are computed for the rows shown only (``with_due_states``).
    """
    now = now or timezone.now()
    queryset = overdue_clocks(user, now)
    if unit is not None:
        queryset = queryset.filter(unit=unit)
    if leader is not None:
        queryset = queryset.filter(project__responsible_leader=leader)
    if level == "none":
        queryset = queryset.filter(level__isnull=True)
    elif level is not None:
        queryset = queryset.filter(level=int(level))
    if min_days:
        queryset = queryset.filter(due_at__lte=WorkingCalendar.load().overdue_cutoff(now, min_days))
    return queryset.order_by(*BOARD_ORDERS.get(order, BOARD_ORDERS[BOARD_DEFAULT_ORDER]))


def with_open_orders(board):
    """The board's rows each with ``open_order``: the pk of the supervision order still open about
    the task, None when there is none; read in the rows' own query (a subquery the coordination
    flows give through the port), not a query per row."""
    return board.annotate(open_order=interventions().open_order_of_clock(clock_ref=OuterRef("pk")))


def overdue_level_counts(board):
    """How many rows of a filtered board (``overdue_board``) are at each level, None for not yet
    escalated: one aggregate query over the whole set, whatever page is shown."""
    return dict(board.order_by().values_list("level").annotate(n=Count("pk")).values_list("level", "n"))


def overdue_export_rows(board):
    """The rows of a filtered board as tuples for a spreadsheet, streamed from the database:
    (step, subject, case code, case name, unit, leader, due at, level)."""
    return board.values_list(
        "task__flow_task",
        "title",
        "project__code",
        "project__name",
        "unit__name",
        "project__responsible_leader__name",
        "due_at",
        "level",
    ).iterator(chunk_size=2000)


def flow_classes():
    """Every flow the domains registered: the inbox, the queue and the task pages read them."""
    return registry.flow_classes()


def _tasks_with_clocks(queryset):
    return queryset.select_related("owner", "clock", "clock__project", "clock__unit", "process").order_by(
        "clock__due_at", "pk"
    )


def inbox(user):
    """The tasks ``user`` has claimed, soonest due first."""
    return _tasks_with_clocks(Task.objects.inbox(flow_classes(), user))


def queue(user):
    """The tasks waiting in the queues of ``user``'s unit or role."""
    return _tasks_with_clocks(Task.objects.queue(flow_classes(), user))


def task_for(user, pk):
    """One human task ``user`` may see (theirs, their queue's, or in their scope), or None."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    task = (
        Task.objects.filter(pk=pk, process__flow_class__in=flow_classes(), flow_task_type="HUMAN")
        .select_related("owner", "clock", "clock__project", "clock__unit", "process")
        .first()
    )
    if task is None:
        return None
    visible = TaskClock.objects.filter(clock_scope(user), task_id=pk).exists()
    return task if (visible or task.owner_id == getattr(user, "pk", None) or can_act(user, task)) else None


def escalations_of(clock):
    return Escalation.objects.filter(clock=clock).select_related("step").order_by("fired_at", "level")


def escalation_rungs(clock):
    """The breach history as a task page lists it: each rung once, with who was told.

    A level can have more than one rung of the same action (level 0 reminds the owner when 75%
    of the time is used and on the due day); a sweep that finds both due at once (a task started
    late in its time, a sweep that did not run for a while) fires them in one batch, at the same
    minute, to the same people. They are one event to the reader: listed once, those told by
    either named once, their notes kept.
    """
    rungs, by_key = [], {}
    for escalation in escalations_of(clock):
        key = (escalation.batch, escalation.level, escalation.action)
        first = by_key.get(key)
        if first is None:
            by_key[key] = escalation
            escalation.told = list(escalation.told or [])
            rungs.append(escalation)
            continue
        known = {(person.get("user"), person.get("name")) for person in first.told}
        for person in escalation.told or []:
            if (person.get("user"), person.get("name")) not in known:
                known.add((person.get("user"), person.get("name")))
                first.told.append(person)
        if escalation.note and escalation.note not in first.note:
            first.note = " ".join(filter(None, [first.note, escalation.note]))
        first.overdue_days = max(first.overdue_days, escalation.overdue_days)
    return rungs


def pauses_of(clock):
    return AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(TaskClock), object_id=str(clock.pk)
    ).order_by("at")


def task_context(task, process):
    """What a task page shows beside its form: the case, the deadline and the breach history."""
    clock = TaskClock.objects.filter(task=task).select_related("project", "unit").first()
    context = {"clock": clock, "project": getattr(process, "project", None)}
    if clock is not None:
        context["due"] = due_state(clock)
        context["escalations"] = escalation_rungs(clock)
        context["pauses"] = list(pauses_of(clock))
    return context
