"""The financing docking funnel: opening a docking and moving it one audited step at a time.

A docking follows one need (or, for older records, one case) with one institution:
recommended → contacted → due diligence → intent signed → credit approved → disbursed, or
declined with a reason from any open step. It is opened by the secretariat (by hand, or
recommending a match: source "match"), by an institution's people interested in a published
need (source "interest"), or by an intent signed at a matchmaking event (source "event",
see ``events.py``). Every step sets ``last_step_at``, which is what makes a docking stalled
(workflow/financing.py), is checked against the version the person read, writes one audit
event and tells the case's lead unit head and the institution's people.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import notifying
from cases.formatting import format_wan
from cases.models import AuditAction, Role, UnitKind
from cases.services.audit import audit_record, jsonable
from cases.services.errors import Conflict
from cases.services.records import _check_version, _transition_with_fields
from cases.signals import record_changed

from .. import permissions
from ..models import Docking, DockingState, NeedState

OPEN_STATES = [
    DockingState.RECOMMENDED,
    DockingState.CONTACTED,
    DockingState.DUE_DILIGENCE,
    DockingState.INTENT_SIGNED,
    DockingState.CREDIT_APPROVED,
]
CLOSED_STATES = [DockingState.DISBURSED, DockingState.DECLINED]

# What a person may give with each step, besides a reason.
DOCKING_TRANSITION_FIELDS = {
    "contact": set(),
    "start_due_diligence": set(),
    "sign_intent": {"intent_amount"},
    "approve_credit": {"credit_approved_amount"},
    "disburse": {"disbursed_amount", "disbursed_on"},
    "decline": set(),
}
# The step a lead unit records when it followed up a stalled docking: no state changes.
FOLLOWED_UP = "follow_up"

SOURCE_SECRETARIAT = ""
SOURCE_MATCH = "match"
SOURCE_INTEREST = "interest"
SOURCE_EVENT = "event"


def docking_url(docking):
    return reverse("financing:docking", args=[docking.pk])


def _lead_unit_heads(project):
    if not project.lead_unit_id:
        return []
    heads = notifying.unit_people([project.lead_unit_id], roles=(Role.UNIT_HEAD,))
    head = project.lead_unit.head
    return heads + ([head] if head is not None else [])


def _tell(docking, actor):
    """The case's lead unit head and the institution's people learn where the docking stands."""
    people = _lead_unit_heads(docking.project) + notifying.unit_people(
        [docking.institution_id], roles=(Role.INSTITUTION,)
    )
    notifying.notify_people(
        people,
        "docking_update",
        context={
            "case": notifying.case_name(docking.project),
            "institution": docking.institution.name,
            "state": notifying.label(docking.state, DockingState.choices),
        },
        link=docking_url(docking),
        exclude_user=actor,
    )


# Opening


def _open(
    *, project, institution, actor, need=None, product=None, source="", event=None, duplicate, tell=True, note=""
):
    """Write a new docking in ``recommended``; ``duplicate`` is raised when one exists already.
    ``note`` goes on the audit row that opens its trail."""
    errors = {}
    if institution is None or institution.kind != UnitKind.INSTITUTION:
        errors["institution"] = _("Choose a financial institution.")
    if need is not None and need.state != NeedState.PUBLISHED:
        errors["need"] = _("Only a need published on the white list can be docked.")
    if product is not None and institution is not None and product.institution_id != institution.pk:
        errors["product"] = _("The product is not this institution's.")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    docking = Docking(
        project=project,
        institution=institution,
        need=need,
        product=product,
        source=source,
        event=event,
        last_step_at=now,
    )
    docking.validate()
    same = (
        Docking.objects.filter(need=need, institution=institution)
        if need is not None
        else Docking.objects.filter(project=project, institution=institution, need__isnull=True)
    )
    if same.exists():
        raise duplicate
    try:
        with transaction.atomic():
            docking.save()
    except IntegrityError as exc:  # someone opened the same docking a moment ago
        raise duplicate from exc
    changes = {"institution": [None, institution.pk]}
    for name, value in (("need", need), ("product", product), ("source", source), ("event", event)):
        if value not in (None, ""):
            changes[name] = [None, jsonable(value)]
    audit_record(
        actor=actor,
        instance=docking,
        action=AuditAction.CREATED,
        project=project,
        to_state=docking.state,
        reason=(note or "").strip(),
        changes=changes,
    )
    if tell:
        _tell(docking, actor)
    record_changed.send(sender=Docking, instance=docking, action="created", transition="", actor=actor)
    return docking


@transaction.atomic
def docking_create(*, project=None, institution, actor, need=None, product=None, source="") -> Docking:
    """The secretariat recommends a case (or one of its needs) to a financial institution."""
    if need is not None:
        if project is not None and project.pk != need.project_id:
            raise ValidationError({"need": _("The need is not this key project's.")})
        project = need.project
    if project is None:
        raise ValidationError({"project": _("Choose the key project or the need.")})
    if not permissions.can_manage_dockings(actor, project):
        raise PermissionDenied(_("You may not start dockings for this key project."))
    duplicate = ValidationError(
        {"institution": _("This institution already has a docking for this need.")}
        if need is not None
        else {"institution": _("This institution already has a docking for this project.")}
    )
    return _open(
        project=project, institution=institution, actor=actor, need=need, product=product, source=source,
        duplicate=duplicate,
    )


@transaction.atomic
def docking_recommend(*, need, actor, product=None, institution=None, note: str = "") -> Docking:
    """The secretariat recommends a matched product's institution (or an institution) for a published
    need, with a note for the docking's trail. Once per need and institution; the second time is a
    Conflict."""
    if product is not None:
        if institution is not None and institution.pk != product.institution_id:
            raise ValidationError({"product": _("The product is not this institution's.")})
        institution = product.institution
    if institution is None:
        raise ValidationError({"institution": _("Choose the product or the institution to recommend.")})
    if not permissions.can_manage_dockings(actor, need.project):
        raise PermissionDenied(_("You may not start dockings for this key project."))
    return _open(
        project=need.project,
        institution=institution,
        actor=actor,
        need=need,
        product=product,
        source=SOURCE_MATCH,
        duplicate=Conflict(_("This institution already has a docking for this need.")),
        note=note,
    )


@transaction.atomic
def docking_express_interest(*, need, actor) -> Docking:
    """An institution's people say they are interested in a published need: a docking opens.

    Once per need and institution; the second time is a Conflict.
    """
    if not permissions.can_express_interest(actor):
        raise PermissionDenied(_("Only a financial institution's people express interest in a need."))
    institution = permissions.person_of(actor).unit
    return _open(
        project=need.project,
        institution=institution,
        actor=actor,
        need=need,
        source=SOURCE_INTEREST,
        duplicate=Conflict(_("Your institution has already expressed interest in this need.")),
    )


# Moving


def _amount_errors(docking, transition):
    """The amounts a step gives, said field by field (a missing credit or disbursement is its guard's)."""
    errors = {}
    if transition == "sign_intent":
        amount = docking.intent_amount
        if amount is None:
            errors["intent_amount"] = _("Give the intended amount.")
        elif amount <= 0:
            errors["intent_amount"] = _("The intended amount must be more than zero.")
        elif docking.need_id and amount > docking.need.amount:
            errors["intent_amount"] = _("The intended amount exceeds the need's amount of %(amount)s.") % {
                "amount": format_wan(docking.need.amount)
            }
    elif transition == "approve_credit":
        amount = docking.credit_approved_amount
        if amount is not None and amount <= 0:
            errors["credit_approved_amount"] = _("The approved credit must be more than zero.")
    elif transition == "disburse":
        amount = docking.disbursed_amount
        if amount is not None and amount <= 0:
            errors["disbursed_amount"] = _("The disbursed amount must be more than zero.")
        if docking.disbursed_on and docking.disbursed_on > timezone.localdate():
            errors["disbursed_on"] = _("The disbursement date cannot be in the future.")
    return errors


def _take(docking, transition, *, actor, reason="", fields=None, allowed=None, tell=True):
    """Take one step: the availability, the permission, the reason, the guard, then the amounts."""

    def record_step(d):
        errors = _amount_errors(d, transition)
        if errors:
            raise ValidationError(errors)
        if transition == "decline":
            d.decline_reason = (reason or "").strip()
        d.last_step_at = timezone.now()

    docking = _transition_with_fields(
        docking,
        transition,
        actor=actor,
        reason=reason,
        fields=fields,
        allowed_by_name=allowed or DOCKING_TRANSITION_FIELDS,
        extra=record_step,
    )
    if tell:
        _tell(docking, actor)
    return docking


@transaction.atomic
def docking_transition(*, docking, transition, actor, reason="", fields=None, expected_version=None) -> Docking:
    """Move a docking one step along its funnel for ``actor``.

    Raises Conflict (someone changed it since ``expected_version``), TransitionNotAvailable
    (not a step from its state), PermissionDenied, TransitionBlocked (its guard) or
    ValidationError (a reason or an amount, by field); in each case nothing is saved.
    """
    _check_version(docking, expected_version)
    return _take(docking, transition, actor=actor, reason=reason, fields=fields)


@transaction.atomic
def docking_follow_up(*, docking, actor, note) -> Docking:
    """The lead unit followed a docking up: what was done is audited and the stall clock restarts."""
    if not permissions.can_follow_up_docking(actor, docking):
        raise PermissionDenied(_("Only the case's lead unit or the secretariat follows up a docking."))
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say what was done.")})
    now = timezone.now()
    # Not a change of what the docking says: whoever holds an older version may still move it.
    Docking.objects.filter(pk=docking.pk).update(last_step_at=now)
    docking.last_step_at = now
    audit_record(
        actor=actor,
        instance=docking,
        action=AuditAction.TRANSITION,
        project=docking.project,
        transition=FOLLOWED_UP,
        from_state=docking.state,
        to_state=docking.state,
        reason=note,
    )
    return docking
