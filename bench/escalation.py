"""The escalation ladder under a burst: our sweep and batches against viewflow's timer dispatcher.

Both sides hold ``--tasks`` open human tasks of which ``--due`` have a rung due now, and
both do the same thing for each due task: record that it escalated and tell the unit's
head through ``notifications`` (one in-app notification, its deliveries enqueued on a
broker in memory).

- ours: ``workflow.engine.ladder.sweep`` (one indexed query, batches of ``--batch``, by default
  the ladder's 2,500) and each batch's
  ``escalate_batch`` run one after another in this process, as one celery worker would. A share
  of the due tasks (``--interventions``, a tenth by default) have their level-3 or level-4 rung
  due instead, half each: a supervision order, or an interview proposed to the unit's leader
  (who is told, with the secretariat); the flows of those orders and interviews are then started
  as the worker tasks their batches' commits hand them start them (``workflow.engine.bulk``), and
  counted in ours (``supervision_orders``, ``interviews``, ``flow_start_queries``);
- viewflow: a flow whose task has a non-interrupting ``.OnTimeout`` boundary
  (``bench/timer_flow.py``), fired by ``viewflow.workflow.timers.fire_due_timers``.

Reports ``escalations``, ``seconds``, ``queries``, ``queries_per_batch`` (the most a batch
took, the sweep's own query aside) and ``queries_per_500`` for ours;
``viewflow_timers``, ``viewflow_seconds`` and ``viewflow_queries`` for viewflow's; and
``speedup``: viewflow's seconds per timer over ours per escalation.
"""

import datetime
import time
import uuid
from contextlib import contextmanager

from django.db import connection
from django.utils import timezone
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from .city import build_city
from .environment import log, throwaway_database

NAME = "escalation"
HELP = "a burst of due escalations: our sweep and batches against viewflow's fire_due_timers"
CHUNK = 5000


def add_arguments(parser):
    parser.add_argument("--tasks", type=int, default=100_000, help="open tasks on each side (default 100000)")
    parser.add_argument("--due", type=int, default=10_000, help="of which due to escalate now (default 10000)")
    parser.add_argument("--projects", type=int, default=60, help="key projects the tasks belong to (default 60)")
    parser.add_argument("--batch", type=int, default=None, help="clocks a batch (default the ladder's BATCH_SIZE)")
    parser.add_argument(
        "--interventions", type=float, default=0.1,
        help="share of the due tasks whose due rung is level 3 (a supervision order) or 4 (an interview), "
        "half each; their flows are started as the worker does after commit (default 0.1)",
    )


class Counter:
    """Counts the SQL statements the default connection runs, without keeping them."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@contextmanager
def counting():
    counter = Counter()
    with connection.execute_wrapper(counter):
        yield counter


def _bulk(model, rows):
    return model.objects.bulk_create(rows, batch_size=CHUNK)


def _chunks(count):
    for start in range(0, count, CHUNK):
        yield range(start, min(start + CHUNK, count))


# Ours


def _our_moments(cal, steps):
    """A start, a due moment, and the moment ``at`` when exactly the first overdue rung is due.

    Returns (started, due_at, at, the level-1 rung, the rungs that fired before it, the first rung)."""
    from workflow.engine import ladder as escalation
    from workflow.engine.models import TaskKind

    ladder = escalation.ladder(TaskKind.PREWORK, steps)
    started = timezone.now() - datetime.timedelta(days=60)
    probe = type("Probe", (), {"started_at": started, "due_at": cal.add_working_days(started, 5)})
    moments = {step: escalation.rung_moment(probe, step, cal) for step in ladder}
    level_one = next(step for step in ladder if step.level == 1)
    at = moments[level_one] + datetime.timedelta(hours=1)
    earlier = [step for step, moment in moments.items() if step.level < 1 and moment is not None]
    if any(moment is not None and moment <= at for step, moment in moments.items() if step.level > 1):
        raise RuntimeError("the ladder has a rung above level 1 due with it; the burst would not be one rung a task")
    first = min((moment, step.pk, step) for step, moment in moments.items() if moment is not None)[2]
    return started, probe.due_at, at, level_one, earlier, first


def _rung_due_at(cal, steps, at, level):
    """A start and a due moment, earlier than the level-1 tasks', for which the rung of ``level``
    is due at ``at`` and no rung above it: (started, due_at, that rung, the rungs fired before it)."""
    from workflow.engine import ladder as escalation
    from workflow.engine.models import TaskKind

    ladder = escalation.ladder(TaskKind.PREWORK, steps)
    target = next(step for step in ladder if step.level == level)
    for back in range(120, 0, -1):  # from far back to near: the first start that fits
        started = at - datetime.timedelta(days=back)
        probe = type("Probe", (), {"started_at": started, "due_at": cal.add_working_days(started, 5)})
        due = [step for step in ladder if (moment := escalation.rung_moment(probe, step, cal)) is not None and moment <= at]
        if target in due and all(step.level < level for step in due if step != target):
            return started, probe.due_at, target, [step for step in due if step != target]
    raise RuntimeError(f"no deadline puts the level-{level} rung alone at the top of the due rungs")


def _intervention_level(n, due, every):
    """3 or 4 for the due tasks that escalate to an order or an interview, else None."""
    if not every or n >= due or n % every:
        return None
    return 3 if (n // every) % 2 == 0 else 4


def build_ours(tasks, due, projects, cal, every=0):
    """``tasks`` pre-work approval tasks with clocks; ``due`` of them one working day overdue,
    and of these every ``every``-th with its level-3 or level-4 rung due instead."""
    from workflow.coordination.flows import PreworkFlow
    from workflow.engine import ladder as escalation
    from workflow.engine.models import Escalation, TaskClock, TaskKind
    from workflow.engine.permissions import unit_task

    steps = escalation.steps_by_kind()
    started, due_at, at, level_one, earlier, first_rung = _our_moments(cal, steps)
    fresh_due = cal.add_working_days(at, 10)
    fresh_fire = escalation.rung_moment(
        type("Probe", (), {"started_at": at, "due_at": fresh_due}), first_rung, cal
    )
    flow_task = PreworkFlow.approve
    higher = {level: _rung_due_at(cal, steps, at, level) for level in (3, 4)} if every else {}
    for chunk in _chunks(tasks):
        processes = _bulk(Process, [Process(flow_class=PreworkFlow, status="NEW") for _n in chunk])
        rows = []
        for n, process in zip(chunk, processes, strict=True):
            project = projects[n % len(projects)]
            rows.append(
                Task(
                    process=process,
                    flow_task=flow_task,
                    flow_task_type="HUMAN",
                    status=STATUS.NEW,
                    owner_permission=unit_task(project.lead_unit_id),
                )
            )
        created = _bulk(Task, rows)
        clocks = []
        fired_before = []
        for n, task in zip(chunk, created, strict=True):
            project = projects[n % len(projects)]
            is_due = n < due
            level = _intervention_level(n, due, every)
            clock_started, clock_due, rung, before = higher[level] if level else (started, due_at, level_one, earlier)
            clocks.append(
                TaskClock(
                    task=task,
                    kind=TaskKind.PREWORK,
                    project_id=project.pk,
                    unit_id=project.lead_unit_id,
                    title=f"用地预审 {n}",
                    started_at=clock_started if is_due else at,
                    working_days=5 if is_due else 10,
                    due_at=clock_due if is_due else fresh_due,
                    next_step=rung if is_due else first_rung,
                    next_fire_at=(at - datetime.timedelta(minutes=30)) if is_due else fresh_fire,
                )
            )
            fired_before.append(before if is_due else [])
        clocks = _bulk(TaskClock, clocks)
        batch = uuid.uuid4()
        _bulk(
            Escalation,
            [
                Escalation(clock=clock, step=step, level=step.level, action=step.action,
                           fired_at=clock.started_at, due_at=clock.due_at, batch=batch)
                for clock, before in zip(clocks, fired_before, strict=True)
                for step in before
            ],
        )
    return at


def run_ours(at, batch_size):
    """The sweep, its batches one after another as one worker takes them, then what their commits
    hand to the workers: the orders' and the interviews' flows, started as those tasks start them."""
    from workflow.coordination import launch, tasks
    from workflow.engine import ladder as escalation

    batches, per_batch, handed_on = [], [], {"orders": [], "interviews": []}
    originals = tasks.start_order_flows.apply_async, tasks.start_interview_flows.apply_async
    tasks.start_order_flows.apply_async = lambda args, **kw: handed_on["orders"].extend(args[0])
    tasks.start_interview_flows.apply_async = lambda args, **kw: handed_on["interviews"].extend(args[0])
    try:
        with counting() as total:
            started = time.perf_counter()
            handed = escalation.sweep(now=at, enqueue=batches.append, batch_size=batch_size)
            fired = 0
            for batch in batches:
                with counting() as this_batch:
                    fired += len(escalation.escalate_batch(batch, now=at))
                per_batch.append(this_batch.count)
            with counting() as flows:
                orders = launch.start_order_flows(handed_on["orders"]) if handed_on["orders"] else 0
                interviews = launch.start_interview_flows(handed_on["interviews"]) if handed_on["interviews"] else 0
            seconds = time.perf_counter() - started
    finally:
        tasks.start_order_flows.apply_async, tasks.start_interview_flows.apply_async = originals
    return {"handed": handed, "fired": fired, "batches": len(batches), "seconds": seconds,
            "queries": total.count, "queries_per_batch": max(per_batch, default=0),
            "orders": len(handed_on["orders"]), "order_flows": orders,
            "interviews": len(handed_on["interviews"]), "interview_flows": interviews, "flow_queries": flows.count}


# viewflow's


def build_viewflow(tasks, due, head_user_id):
    """``tasks`` open tasks of the timeout flow, each with its armed timer; ``due`` of them due."""
    from .timer_flow import TimeoutLadderFlow

    template_process = TimeoutLadderFlow.start.run(_process_data={"head": head_user_id})
    host = Task.objects.get(process=template_process, flow_task=TimeoutLadderFlow.work)
    timer = Task.objects.get(process=template_process, flow_task_type="TIMER")
    now = timezone.now()
    # The template process counts as one of the not-due tasks.
    for chunk in _chunks(tasks - 1):
        processes = _bulk(
            Process,
            [Process(flow_class=TimeoutLadderFlow, status=template_process.status, data={"head": head_user_id})
             for _n in chunk],
        )
        hosts = _bulk(
            Task,
            [Task(process=p, flow_task=host.flow_task, flow_task_type=host.flow_task_type, status=host.status,
                  token=host.token, owner_permission=host.owner_permission) for p in processes],
        )
        timers = _bulk(
            Task,
            [
                Task(process=p, flow_task=timer.flow_task, flow_task_type="TIMER", status=STATUS.SCHEDULED,
                     token=timer.token,
                     scheduled=now - datetime.timedelta(minutes=1) if n < due else timer.scheduled)
                for n, p in zip(chunk, processes, strict=True)
            ],
        )
        Task.previous.through.objects.bulk_create(
            [Task.previous.through(from_task_id=t.pk, to_task_id=h.pk) for t, h in zip(timers, hosts, strict=True)],
            batch_size=CHUNK,
        )


def run_viewflow():
    from viewflow.workflow.timers import fire_due_timers

    with counting() as total:
        started = time.perf_counter()
        fired = fire_due_timers()
        seconds = time.perf_counter() - started
    return {"fired": fired, "seconds": seconds, "queries": total.count}


def run(options):
    if options.tasks < 1 or not 0 < options.due <= options.tasks - 1 or options.projects < 1:
        raise SystemExit("--tasks must be at least 2, --due between 1 and --tasks - 1, --projects at least 1")
    from cases.models import KeyProject, Person, Role
    from notifications.models import Notification
    from workflow.engine.calendar import WorkingCalendar
    from workflow.engine.models import Escalation

    with throwaway_database():
        log(f"building a city of {options.projects} key projects")
        build_city(options.projects)
        projects = list(KeyProject.objects.select_related("lead_unit").order_by("pk"))
        heads = [p.lead_unit.head for p in projects if p.lead_unit.head_id]
        if not heads:
            raise RuntimeError("the city has no unit head to tell")
        cal = WorkingCalendar.load()

        started = time.perf_counter()
        log(f"ours: {options.tasks} tasks with clocks, {options.due} due")
        every = round(1 / options.interventions) if options.interventions else 0
        at = build_ours(options.tasks, options.due, projects, cal, every)
        log(f"viewflow: {options.tasks} tasks with armed timers, {options.due} due")
        build_viewflow(options.tasks, options.due, heads[0].user_id)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        log(f"built in {time.perf_counter() - started:.1f}s")

        secretariat = Person.objects.filter(role=Role.SECRETARIAT).count()
        before = Escalation.objects.count()
        told_before = Notification.objects.count()
        log("ours: sweep and batches")
        from workflow.engine import ladder

        ours = run_ours(at, options.batch or ladder.BATCH_SIZE)
        our_notifications = Notification.objects.count() - told_before
        fired_rows = Escalation.objects.count() - before
        log(f"ours: {ours['fired']} escalations in {ours['seconds']:.2f}s, {ours['queries']} queries")

        told_before = Notification.objects.count()
        log("viewflow: fire_due_timers")
        theirs = run_viewflow()
        their_notifications = Notification.objects.count() - told_before
        log(f"viewflow: {theirs['fired']} timers in {theirs['seconds']:.2f}s, {theirs['queries']} queries")

    levels = [_intervention_level(n, options.due, every) for n in range(options.due)]
    level_3, level_4 = levels.count(3), levels.count(4)
    # A level-1 rung tells the unit's head; a level-4 one the leader and the secretariat; an order
    # is told by its flow's delivery job, later.
    expected_told = (options.due - level_3 - level_4) + level_4 * (1 + secretariat)
    if not ours["fired"] == fired_rows == options.due or our_notifications != expected_told:
        raise RuntimeError(
            f"ours fired {ours['fired']} rungs ({fired_rows} rows, {our_notifications} notifications, "
            f"{expected_told} expected) for {options.due} due tasks"
        )
    if not ours["orders"] == ours["order_flows"] == level_3 or not ours["interviews"] == ours["interview_flows"] == level_4:
        raise RuntimeError(
            f"{ours['orders']} orders ({ours['order_flows']} flows) for {level_3} level-3 rungs, "
            f"{ours['interviews']} interviews ({ours['interview_flows']} flows) for {level_4} level-4 rungs"
        )
    if not theirs["fired"] == their_notifications == options.due:
        raise RuntimeError(f"viewflow fired {theirs['fired']} timers ({their_notifications} notifications)")
    return {
        "benchmark": NAME,
        "database": connection.vendor,
        "tasks": options.tasks,
        "due": options.due,
        "escalations": ours["fired"],
        "supervision_orders": ours["order_flows"],
        "interviews": ours["interview_flows"],
        "flow_start_queries": ours["flow_queries"],
        "batches": ours["batches"],
        "seconds": round(ours["seconds"], 3),
        "queries": ours["queries"],
        "queries_per_batch": ours["queries_per_batch"],
        "viewflow_timers": theirs["fired"],
        "viewflow_seconds": round(theirs["seconds"], 3),
        "viewflow_queries": theirs["queries"],
        "queries_per_500": round(ours["queries"] * 500 / ours["fired"], 1),
        # viewflow's seconds per timer over ours per escalation
        "speedup": round((theirs["seconds"] / theirs["fired"]) / (ours["seconds"] / ours["fired"]), 1),
    }


def format_table(result):
    return "\n".join(
        [
            f"{result['benchmark']}: {result['tasks']} open tasks, {result['due']} due, on {result['database']}",
            f"{'':<10} {'fired':>8} {'seconds':>9} {'queries':>9}",
            f"{'ours':<10} {result['escalations']:>8} {result['seconds']:>9} {result['queries']:>9}"
            f"   ({result['batches']} batches, at most {result['queries_per_batch']} queries each;"
            f" {result['queries_per_500']} per 500 escalations)",
            f"{'':<10} {result['supervision_orders']} supervision orders and {result['interviews']} interviews"
            f" started in {result['flow_start_queries']} queries",
            f"{'viewflow':<10} {result['viewflow_timers']:>8} {result['viewflow_seconds']:>9} "
            f"{result['viewflow_queries']:>9}",
            f"speedup: {result['speedup']}x",
        ]
    )
