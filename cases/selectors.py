"""Reads shared by pages, the API and exports, scoped by the reader's role and unit.

Each returns a queryset that already carries what its callers show, so that no caller
causes a query per row.
"""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from . import permissions
from .models import (
    BLOCKER_OPEN,
    PIPELINE_STAGES,
    PREWORK_SETTLED,
    STRATEGIC_EMERGING_INDUSTRIES,
    AnnualPlan,
    AuditEvent,
    Blocker,
    EntryThreshold,
    Industry,
    IndustryCluster,
    KeyProject,
    Person,
    PreworkItem,
    ReadinessItem,
    ReadinessNeed,
    Stage,
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
        .select_related("region", "lead_unit", "responsible_leader__unit", "owner", "industry_cluster")
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


def _count(queryset):
    """A correlated COUNT(*) of ``queryset``, 0 when it finds nothing."""
    counted = queryset.order_by().values("project_type").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def pool_list(user, *, year=None):
    """The ideas (谋划) and the reserve pool ``user`` may see, as the case list reads them, with
    each case's readiness (its type's checklist: how many items, how many done or waived, how
    many that selection needs are missing), its entry threshold and next year's plan."""
    year = year or _this_year()
    checklist = ReadinessItem.objects.filter(project_type=OuterRef("project_type"))
    settled = PreworkItem.objects.filter(
        project_id=OuterRef(OuterRef("pk")), kind=OuterRef("kind"), state__in=PREWORK_SETTLED
    )
    next_plans = AnnualPlan.objects.filter(project_id=OuterRef("pk"), year=year + 1).order_by()
    return (
        project_list(user, year=year)
        .filter(stage__in=PIPELINE_STAGES)
        .annotate(
            readiness_total=_count(checklist),
            readiness_settled=_count(checklist.filter(Exists(settled))),
            readiness_missing_to_select=_count(
                checklist.filter(needed=ReadinessNeed.TO_SELECT).exclude(Exists(settled))
            ),
            entry_threshold=Subquery(
                EntryThreshold.objects.filter(project_type=OuterRef("project_type")).values("minimum_investment")[:1]
            ),
            planned_next_year=Subquery(next_plans.values("planned_investment")[:1]),
        )
        .prefetch_related(Prefetch("prework_items", queryset=PreworkItem.objects.order_by("id")))
    )


def readiness_checklists():
    """{project type: [ReadinessItem in order]}, in one query."""
    checklists = defaultdict(list)
    for item in ReadinessItem.objects.order_by("project_type", "position", "id"):
        checklists[item.project_type].append(item)
    return checklists


def readiness_of(project, checklist):
    """[(checklist item, state)] of a case with its pre-work items read: each item's state is the
    furthest of the case's items of that kind (done, waived, in progress, pending) or "missing"."""
    order = {"done": 4, "waived": 3, "in_progress": 2, "pending": 1}
    best = {}
    for item in project.prework_items.all():
        if order.get(item.state, 0) > order.get(best.get(item.kind), 0):
            best[item.kind] = item.state
    return [(line, best.get(line.kind, "missing")) for line in checklist]


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



def industry_statistics(user, *, year=None):
    """Cases by industry and by industrial cluster, in what ``user`` may see: how many are on the key
    list (past the reserve pool, not withdrawn) and in the pipeline (谋划 and the reserve), their
    total investment, and the year's plan and completion of those on the list. Strategic emerging
    industries first, in the seed's order. Four queries, whatever the number of cases."""
    year = year or _this_year()
    visible = KeyProject.objects.filter(permissions.project_scope(user)).exclude(stage=Stage.WITHDRAWN)
    listed = visible.exclude(stage__in=PIPELINE_STAGES)

    def grouped(key):
        rows = defaultdict(lambda: {"listed": 0, "pipeline": 0, "total": 0, "planned": 0, "completed": 0})
        for row in (
            visible.order_by()
            .values(key, "stage")
            .annotate(n=Count("pk"), total=Sum("total_investment"))
        ):
            figures = rows[row[key]]
            figures["pipeline" if row["stage"] in PIPELINE_STAGES else "listed"] += row["n"]
            if row["stage"] not in PIPELINE_STAGES:
                figures["total"] += row["total"] or 0
        plans = AnnualPlan.objects.filter(year=year, project__in=listed).order_by().values(f"project__{key}")
        for row in plans.annotate(planned=Sum("planned_investment"), completed=Sum("completed_investment")):
            rows[row[f"project__{key}"]]["planned"] += row["planned"] or 0
            rows[row[f"project__{key}"]]["completed"] += row["completed"] or 0
        return rows

    def with_share(figures):
        planned = figures["planned"]
        share = (figures["completed"] * 100 / planned).quantize(Decimal("0.1")) if planned else None
        return {**figures, "completed_share": share}

    by_industry = grouped("industry")
    strategic = list(STRATEGIC_EMERGING_INDUSTRIES)
    order = strategic + [value for value in Industry.values if value not in strategic]
    industries = [
        {"industry": value, "label": Industry(value).label, "strategic": value in strategic, **with_share(by_industry[value])}
        for value in order
        if value in by_industry
    ]
    by_cluster = grouped("industry_cluster")
    clusters = [
        {"cluster": cluster.pk, "label": cluster.name, "industry": cluster.industry, **with_share(by_cluster[cluster.pk])}
        for cluster in IndustryCluster.objects.filter(pk__in=[pk for pk in by_cluster if pk])
    ]
    return {"year": year, "industries": industries, "clusters": clusters}
