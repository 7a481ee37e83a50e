"""Flow nodes viewflow's open-source core lacks: a celery job, and a split over a list; and the
flows' lock.

``CeleryJob`` runs a function in a celery worker: the activation schedules the message on
commit (the task's ``external_task_id`` is the celery id), the worker claims the task under
the flow's lock, runs the function outside it, and completes or fails the task under the
lock again; a failure reaches the node's ``.OnError`` boundary. ``DataSplit`` makes one
parallel task per item of a list (viewflow 2.4 documents ``data_source`` but does not
implement it). ``CaseOwnerMayTake`` is a unit's step the case's owner may take too.
"""

import logging

from celery import shared_task
from django.db import transaction
from django.utils.timezone import now
from viewflow import this
from viewflow.workflow import lock
from viewflow.workflow.activation import Activation, has_manage_permission
from viewflow.workflow.context import Context
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.fields import get_task_ref, import_task_by_ref
from viewflow.workflow.flow import mixins as flow_mixins
from viewflow.workflow.flow import nodes as flow_nodes
from viewflow.workflow.flow import views as flow_views
from viewflow.workflow.flow.nodes import Split
from viewflow.workflow.nodes import AbstractJob, AbstractJobActivation, SplitActivation
from viewflow.workflow.status import STATUS

from cases import permissions as case_permissions
from cases.models import Role

log = logging.getLogger("workflow")

# The lock of every flow: the process row, SELECT ... FOR UPDATE, waiting for it. viewflow's
# ``select_for_update_lock`` asks with NOWAIT and retries in a savepoint; but a service locks its
# own records first and finishes its task after, inside its transaction, and there PostgreSQL
# aborts the whole transaction at the first refusal, so every retry fails and a second person
# gets a server error. Waiting serialises the two: the second one finds the task done and is
# told. A deadlock, which PostgreSQL detects, still ends in viewflow's FlowLockFailed.
waiting_lock = lock.SelectForUpdateLock(nowait=False, attempts=1)


class CeleryJobActivation(AbstractJobActivation):
    @Activation.status.transition(source=STATUS.NEW, target=STATUS.SCHEDULED)
    def activate(self):
        """Schedule the job's celery message once the transaction that created it commits."""
        self.task.save()
        schedule_job(self.task)

    @Activation.status.transition(
        source=[STATUS.NEW, STATUS.SCHEDULED, STATUS.ERROR],
        target=STATUS.CANCELED,
        permission=has_manage_permission,
    )
    def cancel(self):
        """Needed by an interrupting .OnError, which cancels its failed host, and by Flow.cancel."""
        self.task.finished = now()
        self.task.save()


class CeleryJob(
    flow_mixins.NodeDetailMixin,
    flow_mixins.NodeCancelMixin,
    flow_mixins.NodeReviveMixin,
    AbstractJob,
):
    """A flow step run by a celery worker: ``CeleryJob(this.work).OnError(this.recover).Next(...)``."""

    activation_class = CeleryJobActivation
    index_view_class = flow_views.IndexTaskView
    detail_view_class = flow_views.DetailTaskView
    cancel_view_class = flow_views.CancelTaskView
    revive_view_class = flow_views.ReviveTaskView

    def __init__(self, func, **kwargs):
        super().__init__(**kwargs)
        self._func = func

    def _resolve(self, instance):
        super()._resolve(instance)
        self._func = this.resolve(instance, self._func)


def schedule_job(task):
    """Send the job task's celery message once the transaction that scheduled it commits."""
    args = [get_task_ref(task.flow_task), task.process_id, task.pk]
    task_id = task.external_task_id
    transaction.on_commit(lambda: run_flow_job.apply_async(args=args, task_id=task_id))


@shared_task(name="workflow.nodes.run_flow_job", bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_flow_job(self, task_ref, process_pk, task_pk):
    """Claim the job under the flow's lock, do the work outside it, then finish or fail it."""
    flow_task = import_task_by_ref(task_ref)
    task = flow_task.flow_class.task_class._default_manager.get(pk=task_pk, process_id=process_pk)
    with task.activation() as activation:
        if not activation.start.can_proceed():
            return None  # cancelled or done meanwhile (a redelivered message)
        activation.start()
    try:
        result = flow_task._func(activation)
    except Exception as exc:
        log.warning("flow job %s failed: %s", task_ref, exc.__class__.__name__)
        with task.activation() as failed:
            with Context(propagate_exception=False):
                failed.error(exc)  # inside the except: error() reads the traceback
        return None
    with task.activation() as done:
        done.task.data["result"] = result
        done.execute()
    return result


class DataSplitActivation(SplitActivation):
    @Activation.status.super()
    def activate(self):
        for node, cond, data_source in self.flow_task._branches:
            if cond and not cond(self):
                continue
            if data_source is None:
                self.next_tasks.append((node, None))
            else:
                self.next_tasks.extend((node, item) for item in data_source(self))
        if not self.next_tasks:
            raise FlowRuntimeError(f"No next task available for {self.flow_task.name}")


class DataSplit(Split):
    """A parallel split that creates one task per item of ``data_source(activation)`` (dicts)."""

    activation_class = DataSplitActivation

    def Next(self, node, case=None, data_source=None):  # noqa: N802 - viewflow's fluent API
        self._activate_next.append((node, case, data_source))
        return self


class CaseOwnerMayTake(flow_nodes.View):
    """A human step of a case's unit that the case's owner (the enterprise, role owner) may take
    as well: the monthly report, which the enterprise that builds the project knows first-hand.
    The task stays in the unit's queue; the owner sees it in their work (a work scope the flow's
    domain registers) and may take it from there."""

    def can_assign(self, user, task):
        if super().can_assign(user, task):
            return True
        if task.owner_id or user is None or user.is_anonymous:
            return False
        return owns_the_case(user, task.process_id, self.flow_class.process_class)


def owns_the_case(user, process_id, process_class):
    """Is ``user`` the owner (an enterprise's person) of the case of the process ``process_id``?"""
    if case_permissions.role_of(user) != Role.OWNER:
        return False
    person = case_permissions.person_of(user)
    return process_class._default_manager.filter(
        pk=process_id, project__owner_id=person.unit_id, project__owner__isnull=False
    ).exists()
