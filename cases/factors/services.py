"""Writing the factor ledgers: open a ledger, receive quota, ask for it on a pre-work item,
reserve, release, allocate, return, and raise a shortfall as a blocker.

Every write locks the ledger's row first (then the request's), refuses what would make the
balance negative saying how much is missing in the factor's unit, appends one line with the
running balance, and audits it in the same transaction. A request is allocated at most once: its
state is read under the lock, and a unique constraint holds even if that were bypassed.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cases import permissions as case_permissions
from cases import services as case_services
from cases.models import AuditAction
from cases.services.audit import audit_record

from . import permissions
from .models import (
    BLOCKER_CATEGORY_OF_FACTOR,
    FACTORS_OF_PREWORK_KIND,
    Factor,
    FactorLedger,
    FactorLine,
    FactorRequest,
    LineKind,
    RequestState,
    format_quantity,
    unit_of,
)

# The totals of a ledger each kind of line adds to (+) or takes from (−).
TOTAL_MOVES = {
    LineKind.RECEIVED: {"received": 1},
    LineKind.RESERVED: {"reserved": 1},
    LineKind.RELEASED: {"reserved": -1},
    LineKind.ALLOCATED: {"allocated": 1},
    LineKind.RETURNED: {"returned": 1},
}


def _quantity(value, field="quantity"):
    try:
        value = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({field: _("Give the quantity as a number.")}) from None
    if not value.is_finite() or value <= 0:
        raise ValidationError({field: _("The quantity must be more than zero.")})
    if value != value.quantize(Decimal("0.0001")) or value >= Decimal("1e10"):
        raise ValidationError({field: _("Give the quantity with at most 4 decimal places, below 10 billion.")})
    return value


def _reason(reason):
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why (the reason is written in the ledger).")})
    return reason


def _locked_ledger(ledger_id):
    return FactorLedger.objects.select_for_update(of=("self",)).select_related("bureau").get(pk=ledger_id)


def _locked_request(request_id):
    return (
        FactorRequest.objects.select_for_update(of=("self",))
        .select_related("project", "item")
        .get(pk=request_id)
    )


def _check_writer(actor, ledger):
    if not permissions.can_write_ledger(actor, ledger):
        raise PermissionDenied(_("Only the bureau keeping this ledger, or the secretariat, writes in it."))


def _shortfall_message(balance, ledger, needed):
    missing = needed - balance
    return _(
        "Not enough quota: the %(year)s ledger of %(factor)s has %(balance)s %(unit)s left, "
        "%(missing)s %(unit)s are missing."
    ) % {
        "year": ledger.year,
        "factor": ledger.get_factor_display(),
        "balance": format_quantity(balance),
        "missing": format_quantity(missing),
        "unit": unit_of(ledger.factor),
    }


def _append(
    ledger, kind, quantity, *, actor, reason, document_number="", request=None, project=None, from_reservation=False
):
    """Move the locked ``ledger``'s totals by one line of ``kind``, write the line and audit it.
    An allocation ``from_reservation`` turns reserved quota into allocated: the balance stays."""
    balance_before = ledger.balance
    moves = dict(TOTAL_MOVES[kind])
    if from_reservation:
        moves["reserved"] = -1
    for total, sign in moves.items():
        setattr(ledger, total, getattr(ledger, total) + sign * quantity)
    if ledger.balance < 0:
        raise ValidationError({"quantity": _shortfall_message(balance_before, ledger, quantity)})
    ledger.line_count += 1
    ledger.full_clean()
    person = case_permissions.person_of(actor)
    line = FactorLine(
        ledger=ledger,
        position=ledger.line_count,
        kind=kind,
        quantity=quantity,
        balance_after=ledger.balance,
        request=request,
        project=project or (request.project if request else None),
        reason=reason,
        document_number=(document_number or "").strip(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_name=person.name if person else (actor.get_username() if actor else ""),
    )
    line.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            ledger.save(update_fields=[*moves, "line_count"])
            line.save()
    except IntegrityError as exc:
        raise ValidationError(_("This line was written already (the request is settled).")) from exc
    audit_record(
        actor=actor,
        instance=line,
        action=AuditAction.CREATED,
        project=line.project,
        reason=reason,
        changes={
            "kind": [None, kind],
            "quantity": [None, str(quantity)],
            "balance_after": [str(balance_before), str(line.balance_after)],
            **({"document_number": [None, line.document_number]} if line.document_number else {}),
        },
    )
    return line


def _set_request_state(request, state, *, actor, reason):
    before = request.state
    request.state = state
    request.save(update_fields=["state"])
    audit_record(
        actor=actor,
        instance=request,
        action=AuditAction.TRANSITION,
        project=request.project,
        transition=state,
        from_state=before,
        to_state=state,
        reason=reason,
    )


# Ledgers


@transaction.atomic
def ledger_open(*, factor, year, bureau, actor) -> FactorLedger:
    """The secretariat opens a year's ledger of a factor for the bureau that keeps it."""
    if not permissions.can_open_ledgers(actor):
        raise PermissionDenied(_("Only the secretariat opens ledgers."))
    if FactorLedger.objects.filter(factor=factor, year=year).exists():
        raise ValidationError({"factor": _("This factor's ledger for that year is open already.")})
    ledger = FactorLedger(factor=factor, year=year, bureau=bureau)
    ledger.full_clean()
    if bureau.kind != "department":
        raise ValidationError({"bureau": _("A ledger is kept by a department.")})
    try:
        with transaction.atomic():  # two openings at once: the second is told, as the check above tells it
            ledger.save()
    except IntegrityError:
        raise ValidationError({"factor": _("This factor's ledger for that year is open already.")}) from None
    audit_record(
        actor=actor,
        instance=ledger,
        action=AuditAction.CREATED,
        changes={"factor": [None, factor], "year": [None, year], "bureau": [None, bureau.pk]},
    )
    return ledger


@transaction.atomic
def ledger_receive(*, ledger, quantity, reason, actor, document_number="") -> FactorLine:
    """Quota received from above (a plan issued to the city): added to the balance."""
    quantity, reason = _quantity(quantity), _reason(reason)
    ledger = _locked_ledger(ledger.pk)
    _check_writer(actor, ledger)
    return _append(ledger, LineKind.RECEIVED, quantity, actor=actor, reason=reason, document_number=document_number)


@transaction.atomic
def ledger_return(*, ledger, quantity, reason, actor, project=None, request=None, document_number="") -> FactorLine:
    """Quota coming back (land recovered from approved-but-unsupplied plots, say), from a project
    when it is known; a return on a request is no more than the request was allocated."""
    quantity, reason = _quantity(quantity), _reason(reason)
    ledger = _locked_ledger(ledger.pk)
    _check_writer(actor, ledger)
    if request is not None:
        request = _locked_request(request.pk)
        if request.ledger_id != ledger.pk or request.state != RequestState.ALLOCATED:
            raise ValidationError({"request": _("Only an allocated request of this ledger gives quota back.")})
        given_back = sum(
            (line.quantity for line in request.lines.all() if line.kind == LineKind.RETURNED), Decimal(0)
        )
        if quantity > request.quantity - given_back:
            raise ValidationError(
                {
                    "quantity": _("The request was allocated %(allocated)s %(unit)s, %(back)s of it returned already.")
                    % {
                        "allocated": format_quantity(request.quantity),
                        "back": format_quantity(given_back),
                        "unit": unit_of(ledger.factor),
                    }
                }
            )
        project = request.project
    return _append(
        ledger,
        LineKind.RETURNED,
        quantity,
        actor=actor,
        reason=reason,
        document_number=document_number,
        request=request,
        project=project,
    )


# Requests


def ledger_for(factor, year):
    return FactorLedger.objects.filter(factor=factor, year=year).select_related("bureau").first()


@transaction.atomic
def factor_request(*, item, factor, year, quantity, actor, note="") -> FactorRequest:
    """A pre-work item (land, energy review, EIA) asks that year's ledger of the factor."""
    if not permissions.can_request(actor, item):
        raise PermissionDenied(_("You may not ask the ledgers on this pre-work item."))
    quantity = _quantity(quantity)
    if factor not in FACTORS_OF_PREWORK_KIND.get(item.kind, ()):
        raise ValidationError({"factor": _("A pre-work item of this kind does not ask for this factor.")})
    ledger = ledger_for(factor, year)
    if ledger is None:
        raise ValidationError(
            {
                "year": _("No %(year)s ledger of %(factor)s is open: ask the secretariat to open it.")
                % {"year": year, "factor": Factor(factor).label}
            }
        )
    request = FactorRequest(
        item=item, project=item.project, ledger=ledger, quantity=quantity, note=(note or "").strip(),
        requested_by=actor,
    )
    request.full_clean()
    request.save()
    audit_record(
        actor=actor,
        instance=request,
        action=AuditAction.CREATED,
        project=item.project,
        to_state=request.state,
        changes={"ledger": [None, ledger.pk], "quantity": [None, str(quantity)]},
    )
    return request


def _settle(request, kind, new_state, allowed_from, *, actor, reason, document_number):
    """Lock the request's ledger then the request, check where it stands, write the line."""
    reason = _reason(reason)
    ledger = _locked_ledger(request.ledger_id)
    _check_writer(actor, ledger)
    request = _locked_request(request.pk)
    if request.state == RequestState.ALLOCATED and kind == LineKind.ALLOCATED:
        raise ValidationError(_("This request is allocated already; nothing is allocated twice."))
    if request.state not in allowed_from:
        raise ValidationError(
            _("This request is %(state)s: “%(step)s” is not possible now.")
            % {"state": request.get_state_display(), "step": LineKind(kind).label}
        )
    line = _append(
        ledger,
        kind,
        request.quantity,
        actor=actor,
        reason=reason,
        document_number=document_number,
        request=request,
        from_reservation=kind == LineKind.ALLOCATED and request.state == RequestState.RESERVED,
    )
    _set_request_state(request, new_state, actor=actor, reason=reason)
    return line


@transaction.atomic
def request_reserve(*, request, actor, reason, document_number="") -> FactorLine:
    """The bureau sets quota aside for the request (once per request)."""
    return _settle(
        request, LineKind.RESERVED, RequestState.RESERVED, (RequestState.REQUESTED,),
        actor=actor, reason=reason, document_number=document_number,
    )


@transaction.atomic
def request_release(*, request, actor, reason, document_number="") -> FactorLine:
    """The reservation is given up: its quota goes back to the balance."""
    return _settle(
        request, LineKind.RELEASED, RequestState.RELEASED, (RequestState.RESERVED,),
        actor=actor, reason=reason, document_number=document_number,
    )


@transaction.atomic
def request_allocate(*, request, actor, reason, document_number="") -> FactorLine:
    """The quota is allocated to the request: from its reservation, or directly."""
    return _settle(
        request,
        LineKind.ALLOCATED,
        RequestState.ALLOCATED,
        (RequestState.REQUESTED, RequestState.RESERVED, RequestState.RELEASED),
        actor=actor,
        reason=reason,
        document_number=document_number,
    )


def shortfall_raise(*, request, actor):
    """Raise the request's shortfall as a blocker on its case, in the factor's category."""
    if not case_permissions.can_report_blocker(actor, request.project):
        raise PermissionDenied(_("You may not report blockers on this key project."))
    ledger = request.ledger
    missing = request.quantity - ledger.balance
    if request.state not in (RequestState.REQUESTED, RequestState.RELEASED) or missing <= 0:
        raise ValidationError(_("The ledger's balance covers this request: there is no shortfall to raise."))
    title = _("%(factor)s quota short by %(missing)s %(unit)s (%(year)s)") % {
        "factor": ledger.get_factor_display(),
        "missing": format_quantity(missing),
        "unit": unit_of(ledger.factor),
        "year": ledger.year,
    }
    description = _(
        "The %(item)s asks %(quantity)s %(unit)s; the %(year)s ledger kept by %(bureau)s has %(balance)s %(unit)s left."
    ) % {
        "item": request.item.label,
        "quantity": format_quantity(request.quantity),
        "unit": unit_of(ledger.factor),
        "year": ledger.year,
        "bureau": ledger.bureau.name,
        "balance": format_quantity(ledger.balance),
    }
    return case_services.blocker_report(
        project=request.project,
        actor=actor,
        data={
            "title": title[:200],
            "description": description,
            "category": BLOCKER_CATEGORY_OF_FACTOR[Factor(ledger.factor)],
        },
    )
