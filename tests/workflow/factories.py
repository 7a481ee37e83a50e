"""Builders for the coordination engine's tests: many human tasks with their clocks at once."""

import uuid

from django.db import connection
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from workflow.engine.models import Escalation, EscalationStep, TaskClock


def task_copies(template, due_moments, *, started_at, owner=None, project="same", unit_id=None, title=None):
    """A copy of ``template`` (a human task with its clock) for each moment of ``due_moments``,
    bulk-inserted with its viewflow process, task and clock: same flow, step and permission.

    With ``owner`` every other copy is claimed by them and the rest wait in the queue; the
    copies take the template's case and unit unless ``project`` (None: no case) or ``unit_id``
    say otherwise. Returns the clocks, in the order of ``due_moments``.

    On PostgreSQL the tables are analysed afterwards, as autovacuum keeps them in production:
    the test database's statistics date from earlier tests (near-empty tables), and with them
    the planner nests loops over thousands of rows (half a minute instead of 2 s for 5,000 tasks).
    """
    clock = template.clock
    due_moments = list(due_moments)
    processes = Process.objects.bulk_create(
        [Process(flow_class=template.process.flow_class, status=template.process.status) for _due in due_moments]
    )
    tasks = Task.objects.bulk_create(
        [
            Task(
                process=process,
                flow_task=template.flow_task,
                flow_task_type=template.flow_task_type,
                owner_permission=template.owner_permission,
                status=STATUS.ASSIGNED if owner is not None and n % 2 else STATUS.NEW,
                owner=owner if n % 2 else None,
                created=started_at,
            )
            for n, process in enumerate(processes)
        ]
    )
    clocks = TaskClock.objects.bulk_create(
        [
            TaskClock(
                task=task,
                kind=clock.kind,
                project_id=clock.project_id if project == "same" else getattr(project, "pk", None),
                unit_id=unit_id or clock.unit_id,
                title=f"{title or clock.title} {n}",
                started_at=started_at,
                working_days=clock.working_days,
                due_at=due_at,
            )
            for n, (task, due_at) in enumerate(zip(tasks, due_moments, strict=True))
        ]
    )
    analyze(Process, Task, TaskClock)
    return clocks


def analyze(*models):
    """Refresh PostgreSQL's statistics of these tables (inside the test's transaction, whose rows it counts)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models))


def fired(clocks, level, at):
    """Record that the ladder's rung of ``level`` fired for each of ``clocks``, as a sweep would."""
    step = EscalationStep.objects.filter(kind="default", level=level).order_by("pk").first()
    batch = uuid.uuid4()
    escalations = Escalation.objects.bulk_create(
        [
            Escalation(clock=c, step=step, level=level, action=step.action, fired_at=at, due_at=c.due_at, batch=batch)
            for c in clocks
        ]
    )
    analyze(Escalation)
    return escalations
