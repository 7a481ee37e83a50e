"""Starting many processes of one flow at once, each at the step after its start, in a fixed number
of statements per batch.

``Flow.start.run(report=report)`` costs about eleven statements a process (the process and its
table, a flow lock, the start task, the next task, the link between them, the next task's clock,
savepoints). ``start_many(ReportFlow.start, "report", reports)`` writes the same rows for a whole
batch with one statement per table: the processes (viewflow's table, then the flow's own), the
start tasks done and the tasks after them (interleaved, so that every process's ids follow each
other as they do one by one), the links, and the clocks the next step's ``onCreate`` starts
(gathered by ``clocks.collecting``). The start's own function runs for each process as viewflow
runs it (``begin(activation, report=...)``), the next step's permission, assignee and ``onCreate``
as viewflow computes them, and viewflow's signals go out as a one-by-one start sends them.

The step after the start may be a human step (``flow.View`` and its kin) or a ``CeleryJob``, whose
task is scheduled and its message sent after commit, as ``CeleryJobActivation.activate`` does;
anything else, or an activation that creates its task its own way, is refused in words.

Idempotent per (flow, subject): under the subjects' row locks (a queryset of subjects is read under
them, so that ``begin`` sees the rows as they are), a subject that has a process of the
flow already (one still running, where a subject may have several over time) is left alone, so a
batch redone after a crash, or delivered twice, starts only what is missing. Everything is in one
transaction: a crash leaves nothing half-written.
"""

import uuid

from django.db import connections, router, transaction
from django.db.models import QuerySet
from django.utils import timezone
from viewflow import this
from viewflow.workflow.nodes import AbstractJob, AbstractJobActivation
from viewflow.workflow.nodes import View as ViewNode
from viewflow.workflow.nodes.boundary import ErrorBoundary
from viewflow.workflow.nodes.view import ViewActivation
from viewflow.workflow.signals import flow_started, task_finished, task_started
from viewflow.workflow.status import STATUS

from . import clocks
from .nodes import CeleryJob, schedule_job


class BulkStartError(ValueError):
    """The flow's start leads to a step the bulk start does not know how to create."""


def start_many(start, subject_field, subjects, *, extra=None):
    """Start ``start``'s flow for each of ``subjects`` (instances of one model) that has none yet,
    as ``start.run(**{subject_field: subject, **extra(subject)})`` would; returns the processes
    started. ``extra`` gives a subject's further keyword arguments of the start function."""
    flow_class = start.flow_class
    process_class = flow_class.process_class
    following = start._next
    _check_supported(flow_class, start, following)
    with clocks.ladder_cached(), transaction.atomic():
        if isinstance(subjects, QuerySet):  # read under the rows' locks, in the order of their keys
            subjects = list(subjects.select_for_update(of=("self",)).order_by("pk"))
            locked = None
        else:
            subjects = list(subjects)
            locked = _lock(subjects)
        if not subjects:
            return []
        todo = _not_started(process_class, subject_field, subjects, locked)
        if not todo:
            return []
        begin = this.resolve(flow_class.instance, start._func)
        now = timezone.now()
        pairs = []
        for subject in todo:
            activation = start.activation_class.create(start, None, None)
            activation.process.data = {}
            kwargs = {subject_field: subject, **(extra(subject) if extra else {})}
            if begin is not None:
                begin(activation, **kwargs)
            first = activation.task
            first.started = first.started or now
            first.finished = now
            first.status = STATUS.DONE
            first.flow_task_type = start.task_type
            pairs.append((activation, _next_task(following, activation)))
        _insert_processes(process_class, [activation.process for activation, _ in pairs])
        task_class = flow_class.task_class
        tasks, links = [], []
        for activation, (task, _) in pairs:
            # In the order one by one saves them: the start done, the next step, its boundary events armed.
            armed = [_boundary_task(boundary, task) for boundary in following._boundary_events]
            for each in (activation.task, task, *armed):
                each.process = activation.process
                tasks.append(each)
            links += [(task, activation.task)] + [(boundary, task) for boundary in armed]
        task_class.objects.bulk_create(tasks)
        through = task_class.previous.through
        through.objects.bulk_create([through(from_task_id=later.pk, to_task_id=earlier.pk) for later, earlier in links])
        _after_create(following, pairs)
        for activation, _ in pairs:
            task_started.send(sender=flow_class, process=activation.process, task=activation.task)
            task_finished.send(sender=flow_class, process=activation.process, task=activation.task)
            flow_started.send(sender=flow_class, process=activation.process, task=activation.task)
    return [activation.process for activation, _ in pairs]


def _check_supported(flow_class, start, following):
    """Refuse, in words, a start whose next step this module cannot create as viewflow would: a
    human step or our ``CeleryJob`` whose activations create their tasks viewflow's own way, and
    error boundaries only."""
    if isinstance(following, ViewNode):
        create, expected = following.activation_class.create.__func__, ViewActivation.create.__func__
    elif isinstance(following, CeleryJob):
        create, expected = following.activation_class.create.__func__, AbstractJobActivation.create.__func__
    else:
        raise BulkStartError(f"{flow_class.__name__}.{start.name} leads to {following.name}, neither a human step nor a job")
    if create is not expected:
        raise BulkStartError(f"{following.name}'s activation creates its task its own way")
    for boundary in following._boundary_events:
        if not isinstance(boundary, ErrorBoundary):
            raise BulkStartError(f"{following.name} carries {boundary.name}, a boundary event other than an error's")


def _lock(subjects):
    """Lock the subjects' rows, in the order of their keys; the keys of those that exist."""
    if not subjects:
        return set()
    model = type(subjects[0])
    pks = sorted({subject.pk for subject in subjects})
    return set(model._default_manager.select_for_update(of=("self",)).filter(pk__in=pks).order_by("pk").values_list("pk", flat=True))


def _not_started(process_class, subject_field, subjects, locked=None):
    """The subjects (locked) that have no process of the flow (no running one, for a subject that
    may have several); ``locked``, when given, the keys of those whose rows exist."""
    pks = sorted({subject.pk for subject in subjects})
    locked = set(pks) if locked is None else locked
    field = process_class._meta.get_field(subject_field)
    started = process_class._default_manager.filter(**{f"{field.attname}__in": pks})
    if not field.unique:
        started = started.filter(finished__isnull=True)
    started = set(started.values_list(field.attname, flat=True))
    seen, todo = set(), []
    for subject in sorted(subjects, key=lambda subject: subject.pk):
        if subject.pk in locked and subject.pk not in started and subject.pk not in seen:
            seen.add(subject.pk)
            todo.append(subject)
    return todo


def _next_task(node, previous):
    """The unsaved task of the step after the start, as its activation's ``create`` makes it."""
    flow_class = node.flow_class
    start = previous.flow_task
    data = start._task_data(previous) if start._task_data else {}
    seed = start._task_seed(previous) if start._task_seed else None
    task = flow_class.task_class(process=previous.process, flow_task=node, token=previous.task.token)
    task.data, task.seed = data, seed
    task.flow_task_type = node.task_type
    activation = node.activation_class(task)
    if isinstance(node, AbstractJob):
        task.external_task_id = str(uuid.uuid4())
        task.status = STATUS.SCHEDULED  # activate(): scheduled, its message sent after commit
        return task, activation
    permission = node.calc_owner_permission(activation)
    if permission:
        task.owner_permission = permission
        task.owner_permission_obj = node.calc_owner_permission_obj(activation)
    owner = node.calc_owner(activation)
    if owner:
        task.owner = owner
        task.status = STATUS.ASSIGNED
    return task, activation


def _boundary_task(boundary, host):
    """An error boundary event's task, armed beside its host as ``Activation.create`` makes it."""
    task = boundary.flow_class.task_class(process=host.process, flow_task=boundary, token=host.token)
    task.data, task.seed = {}, None
    task.flow_task_type = boundary.task_type
    return task


def _after_create(node, pairs):
    """What the next step does once its task is saved: a human step's ``onCreate`` (its clocks,
    inserted at once), a job's celery message after commit."""
    if isinstance(node, AbstractJob):
        for _, (task, _activation) in pairs:
            schedule_job(task)
        return
    if node._on_create is None:
        return
    with clocks.collecting() as gathered:
        for _, (_task, activation) in pairs:
            node._on_create(activation)
    if gathered:
        type(gathered[0]).objects.bulk_create(gathered)


def _insert_processes(process_class, processes):
    """Insert the processes: viewflow's table, then the flow's own (multi-table inheritance, which
    ``bulk_create`` refuses: its rows go through the manager's ``_insert``, as ``Model.save``
    writes a child table)."""
    parents = process_class._meta.get_parent_list()
    if not parents:
        process_class.objects.bulk_create(processes)
        return
    (parent,) = parents  # viewflow's Process, the only parent
    rows = [parent(**{field.attname: getattr(process, field.attname) for field in parent._meta.concrete_fields}) for process in processes]
    parent._default_manager.bulk_create(rows)
    link = process_class._meta.get_ancestor_link(parent)
    for process, row in zip(processes, rows, strict=True):
        for field in parent._meta.concrete_fields:  # the id the database gave, among them
            setattr(process, field.attname, getattr(row, field.attname))
        setattr(process, link.attname, row.pk)
        process._state.adding = False
        process._state.db = row._state.db
        process._prepare_related_fields_for_save(operation_name="bulk_create")
    fields = [field for field in process_class._meta.local_concrete_fields]
    using = router.db_for_write(process_class)
    size = connections[using].ops.bulk_batch_size(fields, processes) or len(processes)
    manager = process_class._base_manager
    for begin in range(0, len(processes), size):
        manager._insert(processes[begin : begin + size], fields=fields, using=using)
