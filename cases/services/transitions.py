"""One engine for every state machine: what a person may do next, and doing it.

Each record's transitions are django-fsm transitions whose ``custom`` carries a label, a
guard from ``guards.py`` and whether a reason is required. The engine tells apart a
transition that does not start here, one the person may not take (permission), and one
that is blocked (the guard's reasons), and it saves and audits a transition in one go.
"""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, FSMFieldMixin

from ..models import AuditAction
from .audit import audit_record
from .errors import Conflict, TransitionBlocked, TransitionNotAvailable


@dataclass
class TransitionOption:
    name: str
    label: str
    target: str
    target_label: str
    permitted: bool
    reasons: list = field(default_factory=list)
    reason_required: bool = False

    @property
    def possible(self):
        return self.permitted and not self.reasons


def state_field(record):
    for f in record._meta.concrete_fields:
        if isinstance(f, FSMFieldMixin):
            return f
    raise TypeError(f"{type(record).__name__} has no state field")


def _outgoing(record):
    """The transitions that start from the record's current state, one per name."""
    fsm_field = state_field(record)
    state = getattr(record, fsm_field.name)
    found = {}
    for t in fsm_field.get_all_transitions(type(record)):
        if t.source in (state, "*") or (t.source == "+" and t.target != state):
            found.setdefault(t.name, t)
    return fsm_field, state, list(found.values())


def _target_of(record, fsm_field, t):
    target = t.target
    if hasattr(target, "get_state"):
        target = target.func(record)
    return target, dict(fsm_field.flatchoices).get(target, target)


def transition_options(record, user):
    """Every transition from the current state, with whether ``user`` may take it and why not."""
    fsm_field, _state, outgoing = _outgoing(record)
    options = []
    for t in outgoing:
        target, target_label = _target_of(record, fsm_field, t)
        options.append(
            TransitionOption(
                name=t.name,
                label=str(t.custom.get("label", t.name)),
                target=target,
                target_label=str(target_label),
                permitted=t.has_perm(record, user),
                reasons=[str(r) for r in t.custom["guard"](record)],
                reason_required=bool(t.custom.get("reason_required")),
            )
        )
    return options


def apply_transition(record, name, *, actor, reason="", project=None, before_save=None, changes=None):
    """Take transition ``name`` on ``record`` for ``actor``, save it and audit it.

    Call inside a transaction. Raises TransitionNotAvailable, PermissionDenied,
    ValidationError (a reason is required), TransitionBlocked or Conflict; in each case
    nothing is saved.
    """
    fsm_field, state, outgoing = _outgoing(record)
    chosen = next((t for t in outgoing if t.name == name), None)
    if chosen is None:
        raise TransitionNotAvailable(name, str(dict(fsm_field.flatchoices).get(state, state)))
    if not chosen.has_perm(record, actor):
        raise PermissionDenied(_("You may not take this step."))
    reason = (reason or "").strip()
    if chosen.custom.get("reason_required") and not reason:
        raise ValidationError({"reason": _("Give a reason for this step.")})
    reasons = chosen.custom["guard"](record)
    if reasons:
        raise TransitionBlocked(reasons)
    getattr(record, name)()
    if before_save is not None:
        before_save(record)
    try:
        record.save()
    except ConcurrentTransition as exc:
        raise Conflict() from exc
    return audit_record(
        actor=actor,
        instance=record,
        action=AuditAction.TRANSITION,
        project=project,
        transition=name,
        from_state=state,
        to_state=getattr(record, fsm_field.name),
        reason=reason,
        changes=changes,
    )
