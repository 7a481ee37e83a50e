"""The escalation ladder: when each rung of a task falls due, and the sweep that fires them.

A task's clock always knows its next rung and when it falls due (``next_fire_at``), so the
sweep finds all due work with one indexed query and hands it to celery in batches of at
most 500. A batch fires every due rung of its clocks with a constant number of queries:
the rungs are inserted with a batch id and a unique (task, rung) constraint, so a rung
that another sweep or a redelivered batch already fired is skipped, and only the rows this
batch inserted act (notify, issue a supervision order, propose an interview).
"""

import datetime
import uuid
from collections import defaultdict

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases import notifying
from cases.models import LeaderResponsibility, Person, Role
from notifications.messages import translatable
from notifications.services import Message, notify_each

from .calendar import WorkingCalendar, deadline_text
from .interventions import LADDER, InterviewRequest, OrderRequest, interventions
from .models import Action, Escalation, EscalationStep, TaskClock, TaskKind, Trigger

BATCH_SIZE = 2500  # clocks a worker escalates in one transaction: about twenty statements at any size
STEP_AND_SUBJECT = gettext_noop("%(step)s: %(subject)s")
LEASE = datetime.timedelta(minutes=5)
NOBODY_ANSWERS_FOR_UNIT = gettext_noop("No leader answers for %(unit)s: nobody was told.")
NOBODY_TO_INTERVIEW = gettext_noop("No leader answers for %(unit)s: no interview was proposed.")
ORDER_ALREADY_OPEN = gettext_noop("Supervision order %(number)s about this task is still open: no second order was issued.")
INTERVIEW_UNDER_WAY = gettext_noop("An interview about this task is under way: no second one was proposed.")
ORDER_THIS_SWEEP = gettext_noop("An earlier rung of this sweep issued a supervision order about this task: no second order was issued.")


def steps_by_kind():
    steps = defaultdict(list)
    for step in EscalationStep.objects.filter(is_active=True).order_by("level", "trigger", "amount"):
        steps[step.kind].append(step)
    return steps


def ladder(kind, steps):
    return steps.get(kind) or steps.get(TaskKind.DEFAULT) or []


def rung_moment(clock, step, cal):
    """When ``step`` falls due for ``clock``; None when it does not apply to it."""
    due = clock.due_at
    due_day = cal.deadline_day(due)
    if step.trigger == Trigger.TIME_USED:
        allowed = cal.working_seconds_between(clock.started_at, due)
        moment = cal.add_working_seconds(clock.started_at, float(step.amount) * allowed)
        # A share that falls on the due day itself is the due-day reminder's.
        return moment if moment < cal.start_of(due_day) else None
    if step.trigger == Trigger.DUE_DAY:
        return cal.start_of(due_day)
    return cal.start_of_working_day_after(due_day, int(step.amount))


def rung_moments(clock, steps, cal):
    """Each rung of the clock's ladder with the moment it falls due (None: not for this clock)."""
    return [(step, rung_moment(clock, step, cal)) for step in ladder(clock.kind, steps)]


def plan_next(clock, steps, fired_steps, cal, moments=None):
    """Set the clock's next rung and its moment (none while paused or closed)."""
    clock.next_step, clock.next_fire_at = None, None
    if clock.paused_at or clock.closed_at:
        return clock
    candidates = []
    for step, moment in moments if moments is not None else rung_moments(clock, steps, cal):
        if step.pk in fired_steps:
            continue
        if moment is not None:
            candidates.append((moment, step.level, step.pk, step))
    if candidates:
        moment, _level, _pk, step = min(candidates)
        clock.next_step, clock.next_fire_at = step, moment
    return clock


def step_name(clock):
    """The task's step and subject, each read in the recipient's language."""
    title = clock.task.flow_task.task_title
    try:
        step = translatable(title)
    except (AttributeError, IndexError, TypeError):
        step = str(title)
    return {"msgid": STEP_AND_SUBJECT, "args": {"step": step, "subject": clock.title}}


def overdue_days(clock, now, cal):
    return cal.overdue_days(clock.due_at, now)


def sweep(*, now=None, limit=None, enqueue=None, batch_size=BATCH_SIZE):
    """Find the clocks with a rung due (one indexed query), lease them, and batch them.

    By default each batch becomes a celery task, published after commit; ``enqueue``, when
    given, receives each batch of clock ids at once instead (the ``escalate`` command and
    the benchmark run the batches in their own process). Returns how many clocks were handed out.
    """
    now = now or timezone.now()
    due = (
        TaskClock.objects.filter(next_fire_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_fire_at")
        .values_list("pk", flat=True)
    )
    ids = list(due[:limit] if limit else due)
    if not ids:
        return 0
    TaskClock.objects.filter(pk__in=ids).update(claimed_until=now + LEASE)
    batches = [ids[start : start + batch_size] for start in range(0, len(ids), batch_size)]
    for batch in batches:
        enqueue(batch)
    return len(ids)


def _note(text, clock, **values):
    """Why a rung did less than it says, in the site's language (as the orders and interviews are written)."""
    with translation.override(settings.LANGUAGE_CODE):
        return (_(text) % {"unit": clock.unit.name, **values})[:300]


def _person_label(person):
    return {"user": person.user_id, "name": person.name}


@transaction.atomic
def escalate_batch(clock_ids, *, now=None):
    """Fire every due rung of these clocks once. Returns the escalations this batch fired."""
    now = now or timezone.now()
    batch = uuid.uuid4()
    cal = WorkingCalendar.load()
    steps = steps_by_kind()
    clocks = list(
        TaskClock.objects.filter(pk__in=clock_ids, closed_at__isnull=True, paused_at__isnull=True)
        .select_related("task", "unit__head", "project__responsible_leader")
        .order_by("pk")
    )
    fired = defaultdict(set)
    for clock_id, step_id in Escalation.objects.filter(clock__in=clocks).values_list("clock_id", "step_id"):
        fired[clock_id].add(step_id)
    new_rows, moments = [], {}
    for clock in clocks:
        moments[clock.pk] = rung_moments(clock, steps, cal)
        days = overdue_days(clock, now, cal)
        for step, moment in moments[clock.pk]:
            if step.pk not in fired[clock.pk] and moment is not None and moment <= now:
                new_rows.append(
                    Escalation(
                        clock=clock,
                        step=step,
                        level=step.level,
                        action=step.action,
                        fired_at=now,
                        due_at=clock.due_at,
                        overdue_days=days,
                        batch=batch,
                    )
                )
    Escalation.objects.bulk_create(new_rows, ignore_conflicts=True)
    mine = list(Escalation.objects.filter(batch=batch).order_by("pk"))
    if mine:
        _act(mine, {clock.pk: clock for clock in clocks}, now, cal)
    for row in new_rows:
        fired[row.clock_id].add(row.step_id)
    for clock in clocks:
        plan_next(clock, steps, fired[clock.pk], cal, moments[clock.pk])
        clock.claimed_until = None
    update_many(TaskClock, clocks, ["next_step", "next_fire_at", "claimed_until"])
    return mine


def update_many(model, rows, fields):
    """Save ``fields`` of many rows, each with its own values, in one UPDATE ... FROM (VALUES ...).

    Django's ``bulk_update`` builds a CASE expression per field and row, which costs a burst
    of five hundred clocks more time in Python than the database spends on it. PostgreSQL and
    SQLite (3.33+) both name the columns of a VALUES list column1, column2, ...
    """
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = [model._meta.get_field(name) for name in fields]
    typed = connection.vendor == "postgresql"  # its VALUES need types; SQLite's take any

    def value(position, field):
        reference = f"v.column{position}"
        return f"CAST({reference} AS {field.cast_db_type(connection)})" if typed else reference

    assignments = ", ".join(f"{quote(field.column)} = {value(n + 2, field)}" for n, field in enumerate(columns))
    row_placeholder = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
    params = []
    for row in rows:
        params.append(row.pk)
        params.extend(field.get_db_prep_save(getattr(row, field.attname), connection) for field in columns)
    sql = (
        f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row_placeholder] * len(rows))}) AS v "
        f"WHERE {table}.{quote(model._meta.pk.column)} = v.column1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _act(escalations, clocks, now, cal):
    """Tell the people each rung names, and issue what rungs 3 and 4 issue; set-based.

    A task about no single case (a meeting decision on a policy) climbs the same ladder, its
    unit standing in for the case: at level 2 the leaders who answer for the unit
    (``LeaderResponsibility``) are told, as the case's responsible leader would be, and no
    case turns yellow; level 3 issues the supervision order to the unit without a case; level 4
    proposes the interview of the unit's responsible leader, as for any task. A rung that finds
    nobody to tell or interview records why in its note, and the task page shows it.
    """
    unit_ids = {clocks[e.clock_id].unit_id for e in escalations}
    unit_people = defaultdict(list)
    for person in Person.objects.filter(unit_id__in=unit_ids, role__in=[Role.UNIT_HEAD, Role.UNIT_STAFF]):
        unit_people[person.unit_id].append(person)
    needs_leaders = {
        clocks[e.clock_id].unit_id
        for e in escalations
        if e.action == Action.PROPOSE_INTERVIEW
        or (e.action == Action.TELL_CASE_LEADER and clocks[e.clock_id].project_id is None)
    }
    unit_leaders = defaultdict(list)
    if needs_leaders:
        for responsibility in (
            LeaderResponsibility.objects.filter(unit_id__in=needs_leaders).select_related("leader").order_by("pk")
        ):
            unit_leaders[responsibility.unit_id].append(responsibility.leader)
    secretariat = (
        list(Person.objects.filter(role=Role.SECRETARIAT)) if any(
            e.action == Action.PROPOSE_INTERVIEW for e in escalations
        ) else []
    )

    # A task already under an order (a supervisor's, or an earlier one) or an interview gets no second one.
    ordered = [e.clock_id for e in escalations if e.action == Action.SUPERVISION_ORDER]
    open_orders = interventions().open_orders_of_clocks(ordered) if ordered else {}
    interviewed = [e.clock_id for e in escalations if e.action == Action.PROPOSE_INTERVIEW]
    under_way = interventions().clocks_with_unsettled_interviews(interviewed) if interviewed else set()

    orders, interviews, outbox = [], [], []
    for escalation in escalations:
        clock = clocks[escalation.clock_id]
        project = clock.project
        context = {
            "task": step_name(clock),
            "case": notifying.case_name(project),
            "due": deadline_text(clock.due_at),
            "days": escalation.overdue_days,
            "owner": clock.unit.name,
            "unit": clock.unit.name,
        }
        link = f"/tasks/{clock.task_id}/"
        people = []
        if escalation.action == Action.REMIND_OWNER:
            owner = next((p for p in unit_people[clock.unit_id] if p.user_id == clock.task.owner_id), None)
            people = [owner] if owner else unit_people[clock.unit_id]
            outbox.append((people, "reminder", context, link))
        elif escalation.action == Action.TELL_UNIT_HEAD:
            people = [clock.unit.head] if clock.unit.head_id else []
            outbox.append((people, "escalated_to_you", context, link))
        elif escalation.action == Action.TELL_CASE_LEADER:
            if project is not None:
                people = [project.responsible_leader] if project.responsible_leader_id else []
            else:
                people = unit_leaders[clock.unit_id]
                if not people:
                    escalation.note = _note(NOBODY_ANSWERS_FOR_UNIT, clock)
            outbox.append((people, "escalated_to_you", context, link))
        elif escalation.action == Action.SUPERVISION_ORDER and escalation.clock_id in open_orders:
            number = open_orders[escalation.clock_id]
            escalation.note = _note(ORDER_ALREADY_OPEN, clock, number=number) if number else _note(ORDER_THIS_SWEEP, clock)
        elif escalation.action == Action.SUPERVISION_ORDER:
            people = unit_people[clock.unit_id]
            with translation.override(settings.LANGUAGE_CODE):
                subject = clock.display_title
            orders.append(
                OrderRequest(
                    project=project,
                    unit=clock.unit,
                    clock=clock,
                    subject=subject[:250],
                    issued_at=now,
                    respond_by=cal.add_working_days(now, interventions().answer_days),
                )
            )
            open_orders[escalation.clock_id] = None  # a later order rung of this batch issues none
            # The order's flow delivers it to these people (a job of SupervisionFlow).
        elif escalation.action == Action.PROPOSE_INTERVIEW and escalation.clock_id in under_way:
            escalation.note = _note(INTERVIEW_UNDER_WAY, clock)
        elif escalation.action == Action.PROPOSE_INTERVIEW:
            leaders = unit_leaders[clock.unit_id]
            leader = leaders[0] if leaders else (project.responsible_leader if project is not None else None)
            if leader is None:
                escalation.note = _note(NOBODY_TO_INTERVIEW, clock)
            else:
                people = [leader, *secretariat]
                with translation.override(settings.LANGUAGE_CODE):
                    reason = _("%(task)s is %(days)s working days overdue.") % {
                        "task": clock.display_title,
                        "days": escalation.overdue_days,
                    }
                interviews.append(
                    InterviewRequest(
                        project=project,
                        unit=clock.unit,
                        leader=leader,
                        clock=clock,
                        reason=reason,
                        source=LADDER,
                        proposed_at=now,
                    )
                )
                under_way.add(escalation.clock_id)  # nor a later interview rung of this batch
                outbox.append((people, "interview_proposed", {**context, "leader": leader.name}, link))
        escalation.told = [_person_label(p) for p in people if p is not None]
    update_many(Escalation, escalations, ["told", "note"])
    if orders:
        interventions().issue_orders(orders)
    if interviews:
        interventions().propose_interviews(interviews)
    webhooks = notifying.webhooks_for([p for people, *_ in outbox for p in people if p is not None])
    notify_each(
        [
            Message(
                recipients=[p.user_id for p in people if p is not None],
                key=key,
                context=context,
                link=link,
                webhooks=webhooks,
            )
            for people, key, context, link in outbox
        ]
    )
