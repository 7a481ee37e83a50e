"""Reads of the factor ledgers shared by pages, the API and exports, scoped by the reader."""

from django.http import Http404

from cases import permissions as case_permissions
from cases.models import KeyProject, PreworkItem

from . import permissions
from .models import (
    FACTORS_OF_PREWORK_KIND,
    OPEN_REQUEST_STATES,
    FactorLedger,
    FactorLine,
    FactorRequest,
    RequestState,
)


def ledger_list(user, *, year=None, factor=None, bureau=None):
    queryset = FactorLedger.objects.filter(permissions.ledger_scope(user)).select_related("bureau")
    if year:
        queryset = queryset.filter(year=year)
    if factor:
        queryset = queryset.filter(factor=factor)
    if bureau:
        queryset = queryset.filter(bureau_id=bureau)
    return queryset.order_by("-year", "factor")


def ledger_detail(user, pk):
    try:
        return ledger_list(user).get(pk=pk)
    except (FactorLedger.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def ledger_lines(ledger):
    """The cash book of ``ledger``, in the order written."""
    return (
        FactorLine.objects.filter(ledger=ledger)
        .select_related("project", "request__item", "actor")
        .order_by("position")
    )


def line_list(user):
    return (
        FactorLine.objects.filter(ledger__in=FactorLedger.objects.filter(permissions.ledger_scope(user)))
        .select_related("ledger", "project")
        .order_by("ledger_id", "position")
    )


def request_list(user):
    return (
        FactorRequest.objects.filter(permissions.request_scope(user))
        .select_related("ledger__bureau", "project", "item")
        .order_by("-requested_at", "-id")
    )


def request_detail(user, pk):
    try:
        return request_list(user).get(pk=pk)
    except (FactorRequest.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def requests_awaiting(user):
    """The requests waiting for the bureau: asked for or reserved, not yet allocated."""
    return (
        request_list(user)
        .filter(state__in=[RequestState.REQUESTED, RequestState.RESERVED, RequestState.RELEASED])
        .filter(ledger__in=FactorLedger.objects.filter(permissions.ledger_scope(user)))
        .order_by("requested_at", "id")
    )


def project_requests(project):
    """A case's factor requests with their ledgers, for its page (one query)."""
    return list(
        FactorRequest.objects.filter(project=project)
        .select_related("ledger__bureau", "item")
        .order_by("item_id", "id")
    )


def requestable_items(user, project_id):
    """The pre-work items of a case (land, energy, EIA) on which ``user`` may ask the ledgers."""
    items = PreworkItem.objects.filter(
        project_id=project_id, kind__in=list(FACTORS_OF_PREWORK_KIND)
    ).select_related("project", "approving_unit")
    return [item for item in items if permissions.can_request(user, item)]


def shortfall(request):
    """How much of ``request`` its ledger's balance cannot cover (0 when it can, or it is settled)."""
    if request.state not in OPEN_REQUEST_STATES or request.state == RequestState.RESERVED:
        return 0
    missing = request.quantity - request.ledger.balance
    return missing if missing > 0 else 0


def visible_projects(user):
    return KeyProject.objects.filter(case_permissions.project_scope(user)).order_by("code")


def visible_project_ids(user, ids):
    """Of the cases ``ids``, those ``user`` may see (one query)."""
    if not ids:
        return set()
    return set(visible_projects(user).filter(pk__in=ids).values_list("pk", flat=True))


def visible_project(user, pk):
    return KeyProject.objects.filter(case_permissions.project_scope(user), pk=pk).first()
