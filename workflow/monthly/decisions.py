"""Decisions of the scheduling meeting as tasks: whose they are, their clock, and carrying one out.
"""


from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import (
    AuditAction,
)
from cases.services.audit import audit_record
from workflow.engine import clocks, services
from workflow.engine.models import TaskKind

from .agenda import OPEN_TASK
from .models import Decision


def decision_owner_user(decision):
    """The owner's login, or None when the owner cannot log in (the unit's queue takes the task)."""
    user = decision.owner.user
    return user if user is not None and user.is_active else None


def decision_clock_start(*, task, decision):
    """The decision's deadline: a clock of its working days on the task, and ``due_at`` on the
    decision. Every decision has one, and escalates like any task; a decision about no case
    (a policy to draft) counts against its unit only (see ``workflow.engine.ladder._act``)."""
    clock = clocks.clock_start(
        task=task,
        kind=TaskKind.DECISION,
        project=decision.project,
        unit_id=decision.unit_id,
        title=decision.text,
        working_days=decision.working_days,
    )
    Decision.objects.filter(pk=decision.pk).update(due_at=clock.due_at)
    decision.due_at = clock.due_at
    return clock


def _decision_of_task(task):
    return Decision.objects.select_for_update().get(pk=task.process.coerced.decision_id)


@transaction.atomic
def decision_done(*, task, user, report):
    """The owner reports what was done: the decision is done and its task finishes."""
    if task.status not in OPEN_TASK:
        raise ValidationError(_("This task is done already."))
    if not services.can_act(user, task):
        raise PermissionDenied(_("This task is not yours to do."))
    report = (report or "").strip()
    if not report:
        raise ValidationError({"report": _("Say what was done.")})
    decision = _decision_of_task(task)
    if decision.state != Decision.State.OPEN:
        raise ValidationError(_("This decision is closed already."))
    before = decision.state
    decision.state, decision.report, decision.done_at = Decision.State.DONE, report, timezone.now()
    decision.save(update_fields=["state", "report", "done_at"])
    audit_record(
        actor=user,
        instance=decision,
        action=AuditAction.TRANSITION,
        project=decision.project,
        transition="done",
        from_state=before,
        to_state=decision.state,
        reason=report,
    )
    services.finish_task(task, user)
    return decision


def carry_out_decision(task, user, data):
    """The DecisionFlow step's perform, for the task page and the task API (registered with the engine's steps)."""
    decision_done(task=task, user=user, report=data["report"])
