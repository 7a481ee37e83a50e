"""Reads of the annual plan shared by its pages, API and bench: the compilations, a unit's
proposals, the secretariat's check (totals against targets by group and industry, in a fixed
number of queries whatever the number of proposals), versions and the difference of two."""

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Sum

from cases.models import Industry, KeyProject, Stage
from cases.models.org import UNIT_GROUP_OF_KIND, UnitGroup

from . import permissions
from .models import PlanCompilation, PlanEntry, PlanProposal, PlanTarget, PlanVersion

COUNTED = (PlanProposal.State.SUBMITTED, PlanProposal.State.ACCEPTED)
HUNDRED = Decimal("100")


def compilations(user):
    if not permissions.can_read(user):
        return PlanCompilation.objects.none()
    return PlanCompilation.objects.annotate(proposal_count=Count("proposals")).order_by("-year")


def compilation_of(user, year):
    return compilations(user).filter(year=year).first()


def compilation_proposals(compilation):
    """A compilation's proposals with their cases and units, by unit and case."""
    return (
        PlanProposal.objects.filter(compilation=compilation)
        .select_related("project", "unit", "project__lead_unit")
        .order_by("unit__name", "project__code")
    )


def proposals(user, compilation):
    """The proposals a person sees: all for the secretariat, supervisors and leaders; their unit's for a unit."""
    queryset = compilation_proposals(compilation)
    unit_id = permissions.proposing_unit_id(user)
    if unit_id is not None:
        queryset = queryset.filter(unit_id=unit_id)
    elif not permissions.can_read(user):
        return queryset.none()
    return queryset


def proposable_projects(user, compilation):
    """The unit's reserve cases it has not proposed yet for the compilation."""
    unit_id = permissions.proposing_unit_id(user)
    if unit_id is None:
        return KeyProject.objects.none()
    return (
        KeyProject.objects.filter(stage=Stage.RESERVE, lead_unit_id=unit_id)
        .exclude(pk__in=PlanProposal.objects.filter(compilation=compilation).values("project_id"))
        .order_by("code")
    )


def _gap(amount, target):
    if target is None:
        return None, None
    gap = amount - target
    percent = (amount * HUNDRED / target).quantize(Decimal("0.1"), ROUND_HALF_UP) if target else None
    return gap, percent


def check(compilation):
    """Totals of the submitted and accepted proposals against the city's targets: overall, by unit
    group, by industry. Four queries, whatever the number of proposals."""
    counted = PlanProposal.objects.filter(compilation=compilation, state__in=COUNTED)
    targets = {(t.kind, t.key): t.amount for t in PlanTarget.objects.filter(compilation=compilation)}
    by_kind = counted.order_by().values("unit__kind").annotate(amount=Sum("planned_year"), count=Count("pk"))
    groups = {group: [Decimal("0"), 0] for group in UnitGroup.values}
    for row in by_kind:
        group = UNIT_GROUP_OF_KIND.get(row["unit__kind"])
        if group is not None:
            groups[group][0] += row["amount"] or 0
            groups[group][1] += row["count"]
    by_industry = {
        row["project__industry"]: (row["amount"] or Decimal("0"), row["count"])
        for row in counted.order_by().values("project__industry").annotate(amount=Sum("planned_year"), count=Count("pk"))
    }
    states = dict(
        PlanProposal.objects.filter(compilation=compilation).order_by().values_list("state").annotate(n=Count("pk"))
    )
    total = sum((amount for amount, _n in by_industry.values()), Decimal("0"))
    rows_group = []
    for group in UnitGroup:
        amount, count = groups[group.value]
        gap, percent = _gap(amount, targets.get((PlanTarget.Kind.GROUP, group.value)))
        rows_group.append({"key": group.value, "label": group.label, "amount": amount, "count": count,
                           "target": targets.get((PlanTarget.Kind.GROUP, group.value)), "gap": gap, "percent": percent})
    rows_industry = []
    for industry in Industry:
        amount, count = by_industry.get(industry.value, (Decimal("0"), 0))
        target = targets.get((PlanTarget.Kind.INDUSTRY, industry.value))
        if not count and target is None:
            continue
        gap, percent = _gap(amount, target)
        rows_industry.append({"key": industry.value, "label": industry.label, "amount": amount, "count": count,
                              "target": target, "gap": gap, "percent": percent})
    gap, percent = _gap(total, compilation.target_total)
    return {
        "total": {"amount": total, "target": compilation.target_total, "gap": gap, "percent": percent},
        "groups": rows_group,
        "industries": rows_industry,
        "states": {state: states.get(state, 0) for state in PlanProposal.State.values},
    }


def versions(compilation):
    return PlanVersion.objects.filter(compilation=compilation).select_related("project", "created_by").annotate(
        entry_count=Count("entries")
    ).order_by("number")


def entries(version):
    return PlanEntry.objects.filter(version=version).select_related("project", "project__lead_unit").order_by("project__code")


FIELDS = ("planned_year", "planned_next", "planned_after", "planned_start")


def difference(older, newer):
    """Cases added, dropped and changed (with each figure's old and new value) from ``older`` to ``newer``: two queries."""
    before = {e.project_id: e for e in entries(older)}
    after = {e.project_id: e for e in entries(newer)}
    added = [after[pk] for pk in after if pk not in before]
    dropped = [before[pk] for pk in before if pk not in after]
    changed = []
    for pk, new in after.items():
        old = before.get(pk)
        if old is None:
            continue
        fields = [(name, getattr(old, name), getattr(new, name)) for name in FIELDS if getattr(old, name) != getattr(new, name)]
        if fields:
            changed.append({"entry": new, "fields": fields})
    key = lambda e: e.project.code  # noqa: E731
    return {"added": sorted(added, key=key), "dropped": sorted(dropped, key=key),
            "changed": sorted(changed, key=lambda c: c["entry"].project.code)}



