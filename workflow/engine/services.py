"""Doing a human task, whatever its flow: claim it, give it back, finish it under its flow's lock,
refuse it to who may not do it; and the audit line of a step that moved a record."""

import contextlib

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from viewflow.workflow.status import STATUS

from cases.models import AuditAction
from cases.services.audit import audit_record

OPEN_STATUSES = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


@contextlib.contextmanager
def task_locked(task):
    """The task's flow lock, then a transaction: the order viewflow's own pages take them, so a
    step taken through the API and one posted on a page wait for each other instead of
    deadlocking (each service locks its records, then finishes the task under the flow's lock).
    A deadlock PostgreSQL still breaks comes out as viewflow's ``FlowLockFailed``."""
    with task.flow_task.flow_class.lock(task.process_id), transaction.atomic():
        yield


def can_act(user, task):
    """May ``user`` do this task now: its owner, or someone who may claim it."""
    flow_task = task.flow_task
    return flow_task.can_execute(user, task) or flow_task.can_assign(user, task)


def finish_task(task, user):
    """Finish a human task for ``user`` (claiming it when it waits in a queue), and move on."""
    with task.activation() as activation:
        if activation.task.status == STATUS.NEW:
            activation.assign(user)
        if activation.task.status == STATUS.ASSIGNED:
            activation.start(None)
        if activation.task.status == STATUS.STARTED:
            activation.execute()


def checked(task, user):
    """Refuse a task that is done, or not ``user``'s to do."""
    if task.status not in OPEN_STATUSES:
        raise ValidationError(_("This task is done already."))
    if not can_act(user, task):
        raise PermissionDenied(_("This task is not yours to do."))


@transaction.atomic
def claim_task(*, task, user):
    if not task.flow_task.can_assign(user, task):
        raise PermissionDenied(_("You may not take this task."))
    with task.activation() as activation:
        activation.assign(user)
    return task


@transaction.atomic
def release_task(*, task, user):
    if not task.flow_task.can_unassign(user, task):
        raise PermissionDenied(_("You may not give this task back."))
    with task.activation() as activation:
        activation.unassign()
    return task


def open_task(process, node):
    """The open task of ``node`` in ``process``, if any."""
    return process.task_set.filter(flow_task=node, status__in=OPEN_STATUSES).order_by("pk").first()


def audit_step(user, record, project, transition, before, after, reason=""):
    audit_record(
        actor=user,
        instance=record,
        action=AuditAction.TRANSITION,
        project=project,
        transition=transition,
        from_state=before,
        to_state=after,
        reason=reason,
    )
