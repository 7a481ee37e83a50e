"""Who may take which task: permission strings per unit and per role, for viewflow's queues.

viewflow puts a task in the queue of whoever holds its ``owner_permission``; our tasks name
a unit (``workflow.unit_task_<id>``), the secretariat, the supervisors or the interview
approvers. ``TaskPermissionBackend`` answers for them from the person's role and unit, so
the queues, ``can_assign`` and the task pages all follow the organisation.
"""

from functools import wraps

from django.contrib.auth.backends import BaseBackend
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import URLResolver
from viewflow.workflow.flow import Flow
from viewflow.workflow.models import Process, Task

from cases.models import Rank, Role
from cases.permissions import person_of, role_of

from .selectors import process_scope

UNIT_TASK = "workflow.unit_task_{}"
SECRETARIAT_TASK = "workflow.secretariat_task"
SUPERVISOR_TASK = "workflow.supervisor_task"
INTERVIEW_APPROVER = "workflow.approve_interview"
# viewflow lists a flow's tasks only to those who may view its process model.
VIEW_PROCESSES = {
    "workflow.view_blockerprocess",
    "workflow.view_preworkprocess",
    "workflow.view_supervisionprocess",
    "workflow.view_interviewprocess",
    "workflow.view_reportprocess",
    "workflow.view_decisionprocess",
    "workflow.view_dockingprocess",
}
WORKING_ROLES = {Role.SECRETARIAT, Role.SUPERVISOR, Role.UNIT_HEAD, Role.UNIT_STAFF, Role.LEADER}
# A project owner takes one kind of step, its cases' monthly reports (``nodes.CaseOwnerMayTake``):
# it sees that flow's pages, scoped to its own cases' processes.
OWNER_PROCESSES = {"workflow.view_reportprocess"}


def unit_task(unit_id):
    return UNIT_TASK.format(unit_id)


def task_permissions(user):
    role = role_of(user)
    if role == Role.OWNER:
        return set(OWNER_PROCESSES)
    if role not in WORKING_ROLES:
        return set()
    person = person_of(user)
    granted = set(VIEW_PROCESSES)
    if role == Role.SECRETARIAT:
        granted |= {SECRETARIAT_TASK, INTERVIEW_APPROVER}
    elif role == Role.SUPERVISOR:
        granted.add(SUPERVISOR_TASK)
    elif role in (Role.UNIT_HEAD, Role.UNIT_STAFF) and person is not None:
        granted.add(unit_task(person.unit_id))
    elif role == Role.LEADER and person is not None and person.rank == Rank.CITY_LEADER:
        granted.add(INTERVIEW_APPROVER)
    return granted


class TaskPermissionBackend(BaseBackend):
    """Answers the task permissions; Django's ModelBackend answers everything else."""

    def get_all_permissions(self, user_obj, obj=None):
        if not getattr(user_obj, "is_active", False) or user_obj.is_anonymous:
            return set()
        if not hasattr(user_obj, "_kp_task_perms"):
            user_obj._kp_task_perms = task_permissions(user_obj)
        return user_obj._kp_task_perms

    def has_perm(self, user_obj, perm, obj=None):
        return perm in self.get_all_permissions(user_obj, obj)


def may_view_process(user, process):
    """viewflow's process and task pages follow the case's scope (``selectors.process_scope``)."""
    return Process.objects.filter(process_scope(user), pk=process.pk).exists()


class ScopedFlow(Flow):
    """Our flows' base: viewflow's process and task pages follow the case's scope. Without an
    object (lists, menus) the role decides; with one, ``may_view_process`` does as well."""

    def has_view_permission(self, user, obj=None):
        allowed = super().has_view_permission(user)
        if obj is None or not allowed:
            return allowed
        return may_view_process(user, obj)

    def _get_urls(self):
        """Every page of a node's task (detail, assign, undo, cancel, ...) answers only for a task
        of that node in the process of its URL, to who may see the process. viewflow checks only
        that the task is of the flow, then asks the URL's node: a task of another node (a start
        task, open to everyone) showed its case to anyone of the flow."""
        patterns = super()._get_urls()
        nodes = {node.name: node for node in self.nodes()}
        for resolver in patterns:
            node = (
                nodes.get(getattr(resolver, "namespace", None))
                if isinstance(resolver, URLResolver)
                else None
            )
            if node is None:
                continue
            _check_node_task(node, resolver.url_patterns)
        return patterns


def _check_node_task(node, patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            _check_node_task(node, pattern.url_patterns, route)
        elif "task_pk" in route and not getattr(pattern.callback, "_kp_node_checked", False):
            pattern.callback = _node_task_only(node, pattern.callback)


def _node_task_only(node, view):
    @wraps(view)
    def checked(request, *args, **kwargs):
        task = (
            Task.objects.filter(
                pk=kwargs.get("task_pk"), process_id=kwargs.get("process_pk"), flow_task=node
            )
            .select_related("process")
            .first()
        )
        if task is None:
            raise Http404("No task matches the given query.")
        if not node.flow_class.instance.has_view_permission(request.user, task.process):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    checked._kp_node_checked = True
    return checked


# Who a flow's human step is for, as viewflow's ``.Permission()`` takes it (plain callables:
# viewflow resolves no ``this`` there).


def secretariat(activation):
    return SECRETARIAT_TASK


def supervisors(activation):
    return SUPERVISOR_TASK


def interview_approvers(activation):
    return INTERVIEW_APPROVER
