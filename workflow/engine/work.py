"""My work (待办): everything a person may act on now, in one list, soonest due first.

For government people it is their open human tasks, whatever the flow: those they took, and those
waiting in their unit's or role's queue that they may take (a leader's interview approvals, the
secretariat's reviews). The domains above add what else is a person's to do through
``registry.add_work_scope`` (a project owner's monthly reports). A financial institution's people
have no tasks: their work is their institution's open dockings, read here through the financing
docking's own selector, the one its portal counts.

One query for a page of rows, one for the counts: the list is a queryset the caller pages.
"""

from dataclasses import dataclass

from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.fields import get_task_ref
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from cases import permissions as case_permissions
from cases.financing import selectors as financing_selectors
from notifications import work as notified

from . import registry
from .calendar import WorkingCalendar
from .permissions import task_permissions

OPEN = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)

KIND_TASKS = "tasks"
KIND_DOCKINGS = "dockings"


@dataclass(frozen=True)
class WorkCounts:
    total: int
    due_soon: int
    overdue: int
    to_take: int


def works_with_dockings(user):
    """An institution's people work on dockings, not tasks."""
    return case_permissions.acts_for_an_institution(user)


def task_filter(user):
    """The open human tasks ``user`` may act on now: theirs, their queue's, and what the domains add."""
    mine = Q(owner=user)
    permitted = task_permissions(user)
    queue = Q(owner__isnull=True, status=STATUS.NEW, owner_permission__in=permitted) if permitted else Q(pk__in=[])
    found = mine | queue
    person = case_permissions.person_of(user)
    for scope in registry.work_scopes():
        extra = scope(user, person)
        if extra is not None:
            found |= extra
    return found


DUE_FILTERS = ("overdue", "due_soon")
STATE_FILTERS = ("mine", "to_take")


def due_filter(due, now=None):
    """Tasks overdue, or due within a working day, at ``now`` (paused and closed clocks are neither)."""
    now = now or timezone.now()
    running = Q(clock__closed_at__isnull=True, clock__paused_at__isnull=True)
    if due == "overdue":
        return running & Q(clock__due_at__lt=now)
    soon = WorkingCalendar.load().add_working_days(now, 1)
    return running & Q(clock__due_at__gte=now, clock__due_at__lte=soon)


def read_filters(params):
    """My work's filters from a query string: (the valid ones, {name: [error]} for the others)."""
    found, errors = {}, {}
    if params.get("kind"):
        if params["kind"] in dict(step_choices()):
            found["kind"] = params["kind"]
        else:
            errors["kind"] = [_("No such step.")]
    if params.get("project"):
        if params["project"].isdigit():
            found["project"] = int(params["project"])
        else:
            errors["project"] = [_("A key project's id, a whole number.")]
    for name, allowed in (("due", DUE_FILTERS), ("state", STATE_FILTERS)):
        if params.get(name):
            if params[name] in allowed:
                found[name] = params[name]
            else:
                errors[name] = [_("One of: %(choices)s.") % {"choices": ", ".join(allowed)}]
    return found, errors


def my_tasks(user, *, kind=None, project=None, due=None, state=None, now=None):
    """The tasks of my work, soonest deadline first (those without one last), then oldest."""
    queryset = (
        Task.objects.filter(
            process__flow_class__in=registry.flow_classes(), flow_task_type="HUMAN", status__in=OPEN
        )
        .filter(task_filter(user))
        .select_related("owner", "owner__person", "clock", "clock__project", "clock__unit", "process")
        .order_by(F("clock__due_at").asc(nulls_last=True), "pk")
    )
    if kind:
        queryset = queryset.filter(flow_task=kind)
    if project:
        queryset = queryset.filter(clock__project_id=project)
    if due in DUE_FILTERS:
        queryset = queryset.filter(due_filter(due, now))
    if state == "mine":
        queryset = queryset.filter(owner=user)
    elif state == "to_take":
        queryset = queryset.filter(owner__isnull=True)
    return queryset


def my_dockings(user, *, project=None):
    queryset = financing_selectors.dockings_waiting(user)
    if project:
        queryset = queryset.filter(project_id=project)
    return queryset


def my_work(user, **filters):
    """(what the rows are, the queryset): a person's tasks, or an institution's dockings."""
    if works_with_dockings(user):
        return KIND_DOCKINGS, my_dockings(user, project=filters.get("project"))
    return KIND_TASKS, my_tasks(user, **filters)


def counts(user, now=None):
    """To do, due within a working day, overdue, and waiting to be taken: one aggregate query."""
    if works_with_dockings(user):
        return WorkCounts(total=my_dockings(user).count(), due_soon=0, overdue=0, to_take=0)
    return WorkCounts(**_task_figures(user, now or timezone.now(), detail=True))


@dataclass(frozen=True)
class BellCounts:
    total: int
    overdue: int


def bell_counts(user, now=None):
    """The toolbar bell's figures, on every page: My work's total and overdue, in one query (the
    due-soon figure, which reads the holiday calendar, is left to the pages that show it)."""
    if works_with_dockings(user):
        return BellCounts(total=my_dockings(user).count(), overdue=0)
    return BellCounts(**_task_figures(user, now or timezone.now(), detail=False))


def _task_figures(user, now, *, detail):
    figures = {"total": Count("pk"), "overdue": Count("pk", filter=due_filter("overdue", now))}
    if detail:
        figures["due_soon"] = Count("pk", filter=due_filter("due_soon", now))
        figures["to_take"] = Count("pk", filter=Q(owner__isnull=True))
    return my_tasks(user).order_by().aggregate(**figures)


def step_choices():
    """Every human step of the registered flows: (reference as stored on the task, title)."""
    choices = []
    for flow_class in registry.flow_classes():
        for node in flow_class.instance.nodes():
            if getattr(node, "task_type", None) == "HUMAN":
                choices.append((get_task_ref(node), str(node.task_title or node.name)))
    return sorted(set(choices), key=lambda choice: choice[1])




def notification_counts(user):
    """My work's figures for the daily digest (``notifications.work``): the home page's."""
    figures = counts(user)
    return notified.WorkCounts(
        total=figures.total, due_soon=figures.due_soon, overdue=figures.overdue, link=reverse("my_work")
    )
