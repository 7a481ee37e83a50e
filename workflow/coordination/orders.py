"""Supervision orders (督办单): issued, numbered, delivered to the addressed unit, answered with a
rectification plan, evaluated, reissued more urgently when the plan is refused. The writes of
the order's records; starting its flow is ``launch``'s."""


from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import notifying
from cases.models import AuditAction, Person, Role
from cases.permissions import is_secretariat, role_of
from cases.services.audit import audit_record
from workflow.engine.calendar import WorkingCalendar, deadline_text
from workflow.engine.models import TaskClock
from workflow.engine.services import audit_step, checked, finish_task

from . import selectors
from .models import Source, SupervisionOrder

ANSWER_DAYS = 5  # working days a unit has to answer an order with its plan


def order_number(order):
    return f"{timezone.localtime(order.issued_at).year}-{order.pk:05d}"


def default_answer_day(cal=None, today=None):
    """The day an order's answer is due unless the supervisor chooses: ``ANSWER_DAYS`` working
    days from today."""
    cal = cal or WorkingCalendar.load()
    return cal.add_working_days_to_date(today or timezone.localdate(), ANSWER_DAYS)


def check_answer_day(day, cal=None, today=None):
    """Raise a ValidationError saying why ``day`` cannot be an order's answer day: it must be a
    working day after today (the unit answers by its end)."""
    cal = cal or WorkingCalendar.load()
    today = today or timezone.localdate()
    if day <= today:
        raise ValidationError(_("The answer day must be after today."), code="not_in_future")
    if not cal.is_working_day(day):
        raise ValidationError(
            _("%(day)s is not a working day: choose a working day.") % {"day": day.isoformat()},
            code="not_working_day",
        )


def check_no_open_order(clock, previous=None):
    """Raise a ValidationError when a supervision order is still open about the task of ``clock``
    (other than ``previous``, which the new one reissues)."""
    if clock is None:
        return
    # Two supervisors on the same task at once: the second waits here and finds the first's order.
    list(TaskClock.objects.select_for_update(of=("self",)).filter(pk=clock.pk).values_list("pk", flat=True))
    others = selectors.open_orders().filter(clock=clock)
    if previous is not None:
        others = others.exclude(pk=previous.pk)
    open_order = others.order_by("issued_at", "pk").first()
    if open_order is not None:
        raise ValidationError(
            _("Supervision order %(number)s about this task is still open: follow it up instead of issuing another.")
            % {"number": open_order.number},
            code="order_open",
        )


@transaction.atomic
def order_create(
    *,
    project,
    unit,
    subject,
    actor,
    clock=None,
    urgency=SupervisionOrder.Urgency.NORMAL,
    respond_by=None,
    previous=None,
):
    """A supervision order to a unit, numbered and audited; a supervisor's, the secretariat's, or
    (without an actor) the ladder's. Its flow is started by ``launch.issue_order``.

    The unit answers by the end of ``respond_by`` (a working day after today), by default
    ``ANSWER_DAYS`` working days from now; the answer task's clock is due then. A task with an
    order still open gets no second one."""
    if actor is not None and not (is_secretariat(actor) or role_of(actor) == Role.SUPERVISOR):
        raise PermissionDenied(_("Only a supervisor or the secretariat issues supervision orders."))
    subject = (subject or "").strip()
    if not subject:
        raise ValidationError({"subject": _("Say what the order is about.")})
    check_no_open_order(clock, previous)
    if urgency not in SupervisionOrder.Urgency.values:
        raise ValidationError({"urgency": _("Choose the urgency of the order.")})
    now = timezone.now()
    cal = WorkingCalendar.load()
    if respond_by is None:
        due = cal.add_working_days(now, ANSWER_DAYS)
    else:
        try:
            check_answer_day(respond_by, cal, timezone.localdate(now))
        except ValidationError as error:
            raise ValidationError({"respond_by": error.messages}) from error
        due = cal.end_of(respond_by)
    order = SupervisionOrder.objects.create(
        number=f"new-{now.timestamp()}",
        project=project,
        unit=unit,
        clock=clock,
        subject=subject[:250],
        urgency=urgency,
        source=Source.SUPERVISOR if actor is not None else Source.LADDER,
        issued_by=actor,
        issued_at=now,
        respond_by=due,
        previous=previous,
    )
    order.number = order_number(order)
    order.save(update_fields=["number"])
    audit_record(actor=actor, instance=order, action=AuditAction.CREATED, project=project, to_state=order.state)
    return order


def deliver_order(order):
    """Tell the addressed unit's people about the order (a flow job; raises when nobody can be told)."""
    people = list(Person.objects.filter(unit_id=order.unit_id, role__in=[Role.UNIT_HEAD, Role.UNIT_STAFF]))
    if not people:
        raise LookupError(f"unit {order.unit_id} has nobody to receive supervision order {order.pk}")
    with transaction.atomic():
        notifying.notify_people(
            people,
            "supervision_order_issued",
            context={
                "number": order.number,
                "case": notifying.case_name(order.project),
                "unit": order.unit.name,
                "subject": order.subject,
                "due": deadline_text(order.respond_by),
            },
            link=f"/workflow/orders/{order.pk}/",
        )
    return len(people)


def order_delivery_failed(order):
    """The order reached nobody in the unit: the secretariat is told to deliver it by hand."""
    secretariat = list(Person.objects.filter(role=Role.SECRETARIAT))
    notifying.notify_people(
        secretariat,
        "supervision_order_issued",
        context={
            "number": order.number,
            "case": notifying.case_name(order.project),
            "unit": order.unit.name,
            "subject": order.subject,
            "due": deadline_text(order.respond_by),
        },
        link=f"/workflow/orders/{order.pk}/",
    )


@transaction.atomic
def order_answer(*, task, user, plan, fixed_by):
    """The unit answers a supervision order with its rectification plan and a date."""
    checked(task, user)
    order = SupervisionOrder.objects.select_for_update().get(pk=task.process.coerced.order_id)
    errors = {}
    if not (plan or "").strip():
        errors["plan"] = _("Describe the rectification plan.")
    if not fixed_by:
        errors["fixed_by"] = _("Give the date by which it is fixed.")
    elif fixed_by < timezone.localdate():
        errors["fixed_by"] = _("The date cannot be in the past.")
    if errors:
        raise ValidationError(errors)
    before = order.state
    order.plan, order.fixed_by, order.answered_at = plan.strip(), fixed_by, timezone.now()
    order.state = SupervisionOrder.State.ANSWERED
    order.save()
    audit_step(user, order, order.project, "answer", before, order.state)
    finish_task(task, user)
    return order


@transaction.atomic
def order_evaluate(*, task, user, accepted, evaluation):
    """The supervisor accepts the plan (the order closes) or not (it is reissued, more urgent)."""
    checked(task, user)
    order = SupervisionOrder.objects.select_for_update().get(pk=task.process.coerced.order_id)
    evaluation = (evaluation or "").strip()
    if not accepted and not evaluation:
        raise ValidationError({"evaluation": _("Say why the plan is not accepted.")})
    before = order.state
    order.evaluation = evaluation
    order.state = SupervisionOrder.State.CLOSED if accepted else SupervisionOrder.State.REISSUED
    order.closed_at = timezone.now()
    order.save()
    audit_step(user, order, order.project, "evaluate", before, order.state, evaluation)
    finish_task(task, user)
    return order


def reissue(order):
    """A rejected answer: a new order on the same matter, one step more urgent (its flow is
    started by the node that reissues it)."""
    return order_create(
        project=order.project,
        unit=order.unit,
        subject=order.subject,
        actor=order.issued_by,
        clock=order.clock,
        urgency=min(order.urgency + 1, SupervisionOrder.Urgency.VERY_URGENT),
        previous=order,
    )
