"""Reads of the coordination engine, shared by pages, the API and exports, scoped by role and unit."""

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, Count, F, IntegerField, Max, Prefetch, Q, Value, When
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from cases import permissions as case_permissions
from cases.models import AuditEvent, KeyProject, Role

from .calendar import WorkingCalendar
from .models import Escalation, Interview, SupervisionOrder, TaskClock

OPEN = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)
DUE_SOON_WORKING_DAYS = 1


@dataclass
class DueState:
    code: str  # "on_time", "due_soon", "overdue", "paused", "closed"
    overdue_days: int = 0

    @property
    def label(self):
        from django.utils.translation import gettext as _

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
        return DueState("overdue", max(cal.working_days_between(clock.due_at, now), 0))
    if cal.working_days_between(now, clock.due_at) <= DUE_SOON_WORKING_DAYS:
        return DueState("due_soon")
    return DueState("on_time")


def with_due_states(clocks, now=None):
    """Attach ``due`` (a DueState) to each clock with one calendar load."""
    now = now or timezone.now()
    cal = WorkingCalendar.load()
    clocks = list(clocks)
    for clock in clocks:
        clock.due = due_state(clock, now, cal)
    return clocks


def clock_scope(user):
    """The task clocks ``user`` may see: all for the secretariat and supervisors; for others those
    of the cases they may see, and those of their unit or their own."""
    role = case_permissions.role_of(user)
    if role in case_permissions.ALL_SEEING:
        return Q()
    person = case_permissions.person_of(user)
    if person is None or role not in case_permissions.INTERNAL:
        return Q(pk__in=[])
    cases = Q(project__in=KeyProject.objects.filter(case_permissions.project_scope(user)))
    if role == Role.LEADER:
        return cases
    return cases | Q(unit_id=person.unit_id) | Q(task__owner=user)


def process_scope(user):
    """The processes ``user`` may see, as a filter on viewflow's Process: all for the secretariat
    and supervisors; otherwise those of cases they may see, and those with a task of their unit or theirs."""
    role = case_permissions.role_of(user)
    if role in case_permissions.ALL_SEEING:
        return Q()
    if role not in case_permissions.INTERNAL:
        return Q(pk__in=[])
    return Q(pk__in=TaskClock.objects.filter(clock_scope(user)).values("task__process_id"))


def clocks(user):
    return (
        TaskClock.objects.filter(clock_scope(user))
        .select_related("task", "task__owner", "project", "project__responsible_leader", "unit", "next_step")
        .annotate(level=Max("escalations__level"))
    )


def open_clocks(user):
    return clocks(user).filter(closed_at__isnull=True, task__status__in=OPEN)


def overdue_clocks(user, now=None):
    now = now or timezone.now()
    return open_clocks(user).filter(due_at__lt=now, paused_at__isnull=True)


BOARD_ORDERS = {
    "overdue": lambda c: (c.due.overdue_days, -c.pk),
    "due": lambda c: (c.due_at, c.pk),
    "unit": lambda c: (c.unit.name, c.pk),
    "level": lambda c: (c.level if c.level is not None else -1, c.pk),
}


def overdue_board(user, *, unit=None, leader=None, level=None, min_days=None, order="-overdue", now=None):
    """Every overdue task ``user`` may see, filtered, each with its working days overdue
    (``due``) and the highest rung fired (``level``), sorted by ``order``."""
    queryset = overdue_clocks(user, now)
    if unit is not None:
        queryset = queryset.filter(unit=unit)
    if leader is not None:
        queryset = queryset.filter(project__responsible_leader=leader)
    if level == "none":
        queryset = queryset.filter(level__isnull=True)
    elif level is not None:
        queryset = queryset.filter(level=int(level))
    rows = with_due_states(queryset, now)
    if min_days:
        rows = [clock for clock in rows if clock.due.overdue_days >= min_days]
    key = order.lstrip("-")
    return sorted(rows, key=BOARD_ORDERS.get(key, BOARD_ORDERS["overdue"]), reverse=order.startswith("-"))


def flow_classes():
    from .flows import (
        BlockerFlow,
        DecisionFlow,
        DockingFollowUpFlow,
        InterviewFlow,
        PreworkFlow,
        ReportFlow,
        SupervisionFlow,
    )

    return [BlockerFlow, PreworkFlow, SupervisionFlow, InterviewFlow, DecisionFlow, ReportFlow, DockingFollowUpFlow]


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
    """One task ``user`` may see (theirs, their queue's, or in their scope), or None."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    task = (
        Task.objects.filter(pk=pk, process__flow_class__in=flow_classes())
        .select_related("owner", "clock", "clock__project", "clock__unit", "process")
        .first()
    )
    if task is None:
        return None
    from .services import can_act

    visible = TaskClock.objects.filter(clock_scope(user), task_id=pk).exists()
    return task if (visible or task.owner_id == getattr(user, "pk", None) or can_act(user, task)) else None


def escalations_of(clock):
    return Escalation.objects.filter(clock=clock).select_related("step").order_by("fired_at", "level")


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
        context["escalations"] = list(escalations_of(clock))
        context["pauses"] = list(pauses_of(clock))
    return context


def supervision_orders(user):
    scope = case_permissions.project_scope(user)
    return (
        SupervisionOrder.objects.filter(project__in=KeyProject.objects.filter(scope))
        .select_related("project", "unit", "issued_by")
        .order_by("-issued_at")
    )


def interviews(user):
    scope = case_permissions.project_scope(user)
    return (
        Interview.objects.filter(project__in=KeyProject.objects.filter(scope))
        .select_related("project", "leader", "unit")
        .prefetch_related(Prefetch("commitments"))
        .order_by("-proposed_at")
    )


LIGHT_ORDER = Case(
    When(light="red", then=Value(0)), When(light="yellow", then=Value(1)), default=Value(2), output_field=IntegerField()
)


def light_months():
    """The months that have lights, newest first."""
    from .models import LightSnapshot

    return list(LightSnapshot.objects.order_by("-month").values_list("month", flat=True).distinct())


def lights(user, month, light=None):
    """``month``'s lights of the cases ``user`` may see, red first, the largest lag first."""
    from .models import LightSnapshot

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
