"""What the monthly cycle reads of the plan: a case's planned investment for a year, from the
latest version of the year's published plan, or (for a year with no published plan) from the
case's annual plan (``cases.models.AnnualPlan``). One expression, no query of its own."""

from django.db.models import Case, DecimalField, Exists, OuterRef, Subquery, When

from cases.models import AnnualPlan

from .models import PlanCompilation, PlanEntry, PlanVersion


def published_versions(year):
    return PlanVersion.objects.filter(
        compilation__year=year, compilation__state=PlanCompilation.State.PUBLISHED
    )


def planned_investment(year, project_ref=None):
    """The planned investment of ``year`` of the case ``project_ref`` (an ``OuterRef`` to its pk)."""
    project_ref = project_ref if project_ref is not None else OuterRef("pk")
    latest = published_versions(year).order_by("-number").values("pk")[:1]
    entry = PlanEntry.objects.filter(version=Subquery(latest), project=project_ref).values("planned_year")[:1]
    own = AnnualPlan.objects.filter(project=project_ref, year=year).values("planned_investment")[:1]
    return Case(
        When(Exists(published_versions(year)), then=Subquery(entry)),
        default=Subquery(own),
        output_field=DecimalField(max_digits=16, decimal_places=2),
    )
