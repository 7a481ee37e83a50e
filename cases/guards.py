"""What must be true before a record may change state, said in words a user reads.

Each guard takes the record and returns the reasons it is blocked (an empty list when it
is not). The models' transitions use them as django-fsm conditions; the services return
the reasons to the person who asked; the pages show them beside each transition.
Guards read related records through the managers, so a prefetched case costs no query.

Two stage guards depend on what the financing docking knows (a signed intent, the credit
approved): ``cases.financing`` contributes those checks (``contribute``) when it starts, so
that the core needs not know the dockings.
"""

from collections import defaultdict

from django.utils import timezone
from django.utils.translation import gettext as _

from .formatting import enumeration, format_wan
from .models.choices import PREWORK_SETTLED, PreworkKind, PreworkState, ProjectType
from .models.pipeline import EntryThreshold, readiness_needs

# Checks the layers above add to a guard, by the guard's name: each takes the record and
# returns its reasons, like a guard.
_contributed = defaultdict(list)


def contribute(guard, check):
    """Add ``check`` to the guard function ``guard`` (by its name); registering twice adds it once."""
    if check not in _contributed[guard.__name__]:
        _contributed[guard.__name__].append(check)


def _contributions(guard_name, record):
    return [reason for check in _contributed[guard_name] for reason in check(record)]


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
        % {"items": enumeration(item.label for item in pending)}
    ]


def entry_threshold(project_type):
    """The least total investment (yuan) of the reserve pool for ``project_type``, or None."""
    return (
        EntryThreshold.objects.filter(project_type=project_type).values_list("minimum_investment", flat=True).first()
    )


def enter_reserve(case):
    """idea -> reserve: the idea is described, and large enough, for the reserve pool."""
    reasons = []
    if not case.lead_unit_id:
        reasons.append(_("No lead unit is set."))
    if not case.total_investment:
        reasons.append(_("The total investment is not set."))
    else:
        threshold = entry_threshold(case.project_type)
        if threshold is not None and case.total_investment < threshold:
            reasons.append(
                _(
                    "The total investment of %(total)s is below the reserve pool's entry threshold of "
                    "%(threshold)s for %(type)s projects."
                )
                % {
                    "total": format_wan(case.total_investment),
                    "threshold": format_wan(threshold),
                    "type": ProjectType(case.project_type).label,
                }
            )
    if case.land_area_mu is None:
        reasons.append(_("The land area is not estimated (0 when the project needs no new land)."))
    if not case.planned_start:
        reasons.append(_("The planned start date is not set."))
    return reasons


def _readiness_reasons(case):
    """What the project type's readiness checklist asks to be done (or waived) before selection."""
    needed = readiness_needs().get(case.project_type, [])
    if not needed:
        return []
    settled = {item.kind for item in case.prework_items.all() if item.state in PREWORK_SETTLED}
    missing = [PreworkKind(kind).label for kind in needed if kind not in settled]
    if not missing:
        return []
    return [
        _("The readiness checklist asks for these before selection, neither done nor waived: %(items)s.")
        % {"items": enumeration(str(label) for label in missing)}
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
    return reasons + _readiness_reasons(case)


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
    """docking -> financing: an institution has signed an intent (checked by ``cases.financing``)."""
    return _contributions("secure_financing", case)


def start_financed_construction(case):
    """financing -> construction: the credit covers the gap (checked by ``cases.financing``),
    the permit is there, work began."""
    reasons = _contributions("start_financed_construction", case)
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


def prework_done(item):
    """pending/in progress -> done: the approval is dated (and, checked by ``cases.factors``, the
    factor it asks the ledgers for is allocated)."""
    reasons = [] if item.done_on else [_("The date of the approval is not given.")]
    return reasons + _contributions("prework_done", item)


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
