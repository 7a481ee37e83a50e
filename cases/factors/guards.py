"""What the factor ledgers add to the guards: a pre-work item asking the ledgers is not done
while its factor is not allocated (``contribute_to_the_case_guards``, at start-up)."""

from django.db.models import Prefetch, prefetch_related_objects
from django.utils.translation import gettext as _

from cases import guards
from cases.formatting import enumeration

from .models import OPEN_REQUEST_STATES, FactorRequest, format_quantity, unit_of


def factor_allocated(item):
    """pending/in progress -> done: every factor the item asked the ledgers for is allocated."""
    if "factor_requests" not in getattr(item, "_prefetched_objects_cache", {}):
        # Read once for the item: django-fsm's condition and the reasons shown both run this guard.
        prefetch_related_objects([item], *_requests_of_items(""))
    missing = [request for request in item.factor_requests.all() if request.state in OPEN_REQUEST_STATES]
    if not missing:
        return []
    return [
        _("The factor quota is not allocated yet: %(requests)s.")
        % {
            "requests": enumeration(
                f"{request.ledger.get_factor_display()} {format_quantity(request.quantity)} "
                f"{unit_of(request.ledger.factor)} ({request.ledger.year}, {request.get_state_display()})"
                for request in missing
            )
        }
    ]


def _requests_of_items(prefix):
    return [Prefetch(f"{prefix}factor_requests", queryset=FactorRequest.objects.select_related("ledger"))]


def requests_with_the_items():
    """The prefetch that gives a case's pre-work items their factor requests and ledgers."""
    return _requests_of_items("prework_items__")


def contribute_to_the_case_guards():
    guards.contribute(guards.prework_done, factor_allocated)
