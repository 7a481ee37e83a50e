"""What financing docking adds to the guards: a docking's own steps, and the two stage guards of
the case core that read the dockings (``contribute_to_the_case_guards``, at start-up)."""

from django.utils.translation import gettext as _

from cases import guards
from cases.formatting import format_wan

from .choices import DOCKING_CREDIT_REACHED, DOCKING_INTENT_REACHED


def intent_signed(case):
    """docking -> financing: an institution has signed an intent."""
    if any(d.state in DOCKING_INTENT_REACHED for d in case.dockings.all()):
        return []
    return [_("No docking with a financial institution has a signed intent yet.")]


def credit_covers_gap(case):
    """financing -> construction: the approved credit covers the gap, or the secretariat waived it."""
    approved = sum((d.credit_approved_amount or 0) for d in case.dockings.all() if d.state in DOCKING_CREDIT_REACHED)
    if approved < case.capital_gap and not case.financing_waiver_reason:
        return [
            _(
                "Approved credit of %(approved)s does not cover the capital gap of %(gap)s, "
                "and the secretariat has not waived it."
            )
            % {"approved": format_wan(approved), "gap": format_wan(case.capital_gap)}
        ]
    return []


def contribute_to_the_case_guards():
    guards.contribute(guards.secure_financing, intent_signed)
    guards.contribute(guards.start_financed_construction, credit_covers_gap)


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
