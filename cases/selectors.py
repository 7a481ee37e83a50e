"""Reads shared by pages, the API and exports, scoped by the reader's role and unit.

Each returns a queryset that already carries what its callers show, so that no caller
causes a query per row.
"""

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from . import permissions
from .models import (
    BLOCKER_OPEN,
    PREWORK_SETTLED,
    AnnualPlan,
    AuditEvent,
    Blocker,
    KeyProject,
    Person,
    PreworkItem,
    Unit,
)

# What the layers above read with one case, as prefetch lookups by occasion: "detail" for its
# page, "change" for a service about to change it (its guards). ``cases.financing`` adds the
# dockings (``read_with_a_case``, at start-up).
_case_lookups = {"detail": [], "change": []}


def read_with_a_case(occasion, lookups):
    """Add ``lookups()`` (a function returning prefetch lookups) to what ``occasion`` reads."""
    if lookups not in _case_lookups[occasion]:
        _case_lookups[occasion].append(lookups)


def _lookups(occasion):
    return [lookup for lookups in _case_lookups[occasion] for lookup in lookups()]


def _this_year():
    return timezone.localdate().year


def project_list(user, *, year=None):
    """The key projects ``user`` may see, with what a list row shows."""
    year = year or _this_year()
    plans = AnnualPlan.objects.filter(project_id=OuterRef("pk"), year=year).order_by()
    open_blockers = (
        Blocker.objects.filter(project_id=OuterRef("pk"), state__in=BLOCKER_OPEN)
        .order_by()
        .values("project_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    unsettled_prework = (
        PreworkItem.objects.filter(project_id=OuterRef("pk"), required=True)
        .exclude(state__in=PREWORK_SETTLED)
        .order_by()
        .values("project_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        KeyProject.objects.filter(permissions.project_scope(user))
        .select_related("region", "lead_unit", "responsible_leader__unit", "owner")
        .annotate(
            planned_this_year=Subquery(plans.values("planned_investment")[:1]),
            completed_this_year=Subquery(plans.values("completed_investment")[:1]),
            open_blocker_count=Coalesce(Subquery(open_blockers, output_field=IntegerField()), Value(0)),
            unsettled_prework_count=Coalesce(
                Subquery(unsettled_prework, output_field=IntegerField()), Value(0)
            ),
        )
        .order_by("code")
    )


def project_detail(user, pk):
    """One key project with everything its page shows; 404 outside the reader's scope."""
    queryset = (
        project_list(user)
        .prefetch_related(
            "cooperating_units",
            "annual_plans",
            Prefetch(
                "prework_items",
                queryset=PreworkItem.objects.select_related("approving_unit").order_by("id"),
            ),
            Prefetch(
                "blockers",
                queryset=Blocker.objects.select_related("lead_unit", "reporting_unit")
                .prefetch_related("cooperating_units")
                .order_by("-created_at"),
            ),
            *_lookups("detail"),
        )
    )
    try:
        return queryset.get(pk=pk)
    except (KeyProject.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def project_for_change(pk):
    """A key project with what its guards read, for a service about to change it."""
    return (
        KeyProject.objects.select_related("lead_unit__head", "responsible_leader")
        .prefetch_related("prework_items", "annual_plans", "cooperating_units", *_lookups("change"))
        .get(pk=pk)
    )


def project_timeline(project):
    """The audit events of a case and of everything recorded about it, newest first."""
    return AuditEvent.objects.filter(project_id=project.pk).order_by("-at", "-id")


def prework_item_list(user):
    return (
        PreworkItem.objects.filter(project__in=KeyProject.objects.filter(permissions.project_scope(user)))
        .select_related("project", "approving_unit", "project__lead_unit")
        .order_by("project__code", "id")
    )


def blocker_list(user):
    return (
        Blocker.objects.filter(project__in=KeyProject.objects.filter(permissions.project_scope(user)))
        .select_related("project", "lead_unit", "reporting_unit", "project__lead_unit")
        .prefetch_related("cooperating_units")
        .order_by("-created_at")
    )


def unit_list(user):
    if not permissions.is_internal(user):
        return Unit.objects.none()
    return Unit.objects.select_related("parent", "head__unit").order_by("kind", "name")


def person_list(user):
    if not permissions.is_internal(user):
        return Person.objects.none()
    return Person.objects.select_related("unit", "user").order_by("unit__name", "name")


def leaders(user=None):
    """People a case can name as its responsible leader."""
    return Person.objects.filter(role="leader").select_related("unit").order_by("name")


def units_of_kind(*kinds):
    return Unit.objects.filter(kind__in=kinds, is_active=True).order_by("name")


def project_counts_by_stage(user):
    return dict(
        KeyProject.objects.filter(permissions.project_scope(user))
        .order_by()
        .values_list("stage")
        .annotate(n=Count("pk"))
    )

