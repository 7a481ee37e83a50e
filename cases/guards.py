"""What must be true before a record may change state, said in words a user reads.

Each guard takes the record and returns the reasons it is blocked (an empty list when it
is not). The models' transitions use them as django-fsm conditions; the services return
the reasons to the person who asked; the pages show them beside each transition.
Guards read related records through the managers, so a prefetched case costs no query.
"""

from django.utils import timezone
from django.utils.translation import gettext as _

from .formatting import format_wan
from .models.choices import (
    DOCKING_CREDIT_REACHED,
    DOCKING_INTENT_REACHED,
    PREWORK_SETTLED,
    PreworkKind,
    PreworkState,
)


def _unsettled_required_prework(case):
    return [
        item for item in case.prework_items.all() if item.required and item.state not in PREWORK_SETTLED
    ]


def _prework_reasons(case):
    pending = _unsettled_required_prework(case)
    if not pending:
        return []
    return [
        _("Required pre-work items are neither done nor waived: %(items)s.")
        % {"items": "、".join(item.label for item in pending)}
    ]


def select(case):
    """reserve -> prework: the case is complete enough to be put on the key list."""
    reasons = []
    if not case.lead_unit_id:
        reasons.append(_("No lead unit is set."))
    if not case.responsible_leader_id:
        reasons.append(_("No responsible leader is set."))
    if not case.total_investment:
        reasons.append(_("The total investment is not set."))
    year = timezone.localdate().year
    if not case.planned_investment_for(year):
        reasons.append(_("No planned investment is set for %(year)s.") % {"year": year})
    if not case.planned_start:
        reasons.append(_("The planned start date is not set."))
    if not case.planned_finish:
        reasons.append(_("The planned finish date is not set."))
    return reasons


def open_docking(case):
    """prework -> docking: approvals done, and money is missing."""
    reasons = _prework_reasons(case)
    if case.capital_gap <= 0:
        reasons.append(
            _("The capital gap is zero: a fully funded project starts construction instead.")
        )
    return reasons


def _permit_reasons(case):
    permit_done = any(
        item.kind == PreworkKind.CONSTRUCTION_PERMIT and item.state == PreworkState.DONE
        for item in case.prework_items.all()
    )
    return [] if permit_done else [_("The construction permit is not done.")]


def start_funded_construction(case):
    """prework -> construction: approvals done, nothing left to finance, permit in hand, work began."""
    reasons = _prework_reasons(case)
    if case.capital_gap > 0:
        reasons.append(
            _("The capital gap is %(gap)s: financing must be secured first.")
            % {"gap": format_wan(case.capital_gap)}
        )
    reasons += _permit_reasons(case)
    if not case.actual_start:
        reasons.append(_("The actual start date is not recorded."))
    return reasons


def secure_financing(case):
    """docking -> financing: an institution has signed an intent."""
    if any(d.state in DOCKING_INTENT_REACHED for d in case.dockings.all()):
        return []
    return [_("No docking with a financial institution has a signed intent yet.")]


def start_financed_construction(case):
    """financing -> construction: the credit covers the gap, the permit is there, work began."""
    reasons = []
    approved = sum(
        (d.credit_approved_amount or 0)
        for d in case.dockings.all()
        if d.state in DOCKING_CREDIT_REACHED
    )
    if approved < case.capital_gap and not case.financing_waiver_reason:
        reasons.append(
            _(
                "Approved credit of %(approved)s does not cover the capital gap of %(gap)s, "
                "and the secretariat has not waived it."
            )
            % {"approved": format_wan(approved), "gap": format_wan(case.capital_gap)}
        )
    reasons += _permit_reasons(case)
    if not case.actual_start:
        reasons.append(_("The actual start date is not recorded."))
    return reasons


def complete(case):
    """construction -> completed: the completion acceptance is on record."""
    reasons = []
    if not case.completion_accepted_on:
        reasons.append(_("The completion acceptance is not recorded."))
    if not case.actual_finish:
        reasons.append(_("The actual finish date is not recorded."))
    return reasons


def docking_credit(docking):
    """intent signed -> credit approved: the approved amount is known."""
    if not docking.credit_approved_amount:
        return [_("The approved credit amount is not given.")]
    return []


def docking_disbursement(docking):
    """credit approved -> disbursed: the amount and the date are known."""
    reasons = []
    if not docking.disbursed_amount:
        reasons.append(_("The disbursed amount is not given."))
    elif docking.credit_approved_amount and docking.disbursed_amount > docking.credit_approved_amount:
        reasons.append(_("The disbursed amount exceeds the approved credit."))
    if not docking.disbursed_on:
        reasons.append(_("The disbursement date is not given."))
    return reasons


def prework_done(item):
    """pending/in progress -> done: the approval is dated."""
    if not item.done_on:
        return [_("The date of the approval is not given.")]
    return []


def blocker_assign(blocker):
    """reported -> assigned: someone leads the work on it."""
    if not blocker.lead_unit_id:
        return [_("No lead unit is chosen.")]
    return []


def blocker_resolve(blocker):
    """assigned -> resolved: the lead unit says how."""
    if not blocker.resolution.strip():
        return [_("The resolution is not described.")]
    return []


def blocker_merge(blocker):
    """reported -> rejected by merging: another open blocker takes it over."""
    other = blocker.merged_into
    if other is None:
        return [_("Choose the blocker to merge it into.")]
    if other.pk == blocker.pk:
        return [_("A blocker cannot be merged into itself.")]
    if other.state in ("rejected", "closed_out"):
        return [_("The blocker to merge into is no longer open.")]
    return []


def no_guard(record):
    return []


def passes(guard):
    """A django-fsm condition from a guard."""

    def condition(record):
        return not guard(record)

    condition.__name__ = f"passes_{guard.__name__}"
    return condition
