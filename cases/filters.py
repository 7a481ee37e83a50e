"""Filters of the key project list, shared by the page and the API."""

import django_filters
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import (
    PIPELINE_STAGES,
    STRATEGIC_EMERGING_INDUSTRIES,
    Blocker,
    Industry,
    IndustryCluster,
    KeyProject,
    Level,
    Person,
    PreworkItem,
    ProjectType,
    Role,
    Stage,
    Unit,
    UnitKind,
)
from .permissions import project_scope

PROJECT_SEARCH_FIELDS = ("code", "project_code", "name", "owner__name")


class ProjectFilter(django_filters.FilterSet):
    stage = django_filters.MultipleChoiceFilter(label=_("stage"), choices=Stage.choices)
    industry = django_filters.MultipleChoiceFilter(label=_("industry"), choices=Industry.choices)
    strategic_emerging = django_filters.BooleanFilter(
        label=_("strategic emerging industry"), method="filter_strategic_emerging"
    )
    industry_cluster = django_filters.ModelChoiceFilter(
        label=_("industrial cluster"), queryset=IndustryCluster.objects.all()
    )
    project_type = django_filters.MultipleChoiceFilter(label=_("project type"), choices=ProjectType.choices)
    level = django_filters.ChoiceFilter(label=_("level"), choices=Level.choices)
    region = django_filters.ModelChoiceFilter(
        label=_("region"), queryset=Unit.objects.filter(kind=UnitKind.DISTRICT)
    )
    lead_unit = django_filters.ModelChoiceFilter(
        label=_("lead unit"),
        queryset=Unit.objects.exclude(kind__in=[UnitKind.INSTITUTION, UnitKind.ENTERPRISE]),
    )
    responsible_leader = django_filters.ModelChoiceFilter(
        label=_("responsible leader"),
        queryset=Person.objects.filter(role=Role.LEADER).select_related("unit"),
    )
    demonstration = django_filters.BooleanFilter(label=_("demonstration project"))

    class Meta:
        model = KeyProject
        fields = [
            "stage",
            "industry",
            "strategic_emerging",
            "industry_cluster",
            "project_type",
            "level",
            "region",
            "lead_unit",
            "responsible_leader",
            "demonstration",
        ]

    def filter_strategic_emerging(self, queryset, name, value):
        if value is None:
            return queryset
        strategic = Q(industry__in=STRATEGIC_EMERGING_INDUSTRIES)
        return queryset.filter(strategic if value else ~strategic)


# The pools a city keeps by the planned start (5 years in reserve, 3 years rolling, 1 year in
# execution), counted from next year, the year the annual plan is compiled for.
HORIZON_CHOICES = [
    ("execution", _("1 year: in execution")),
    ("rolling", _("3 years: rolling")),
    ("reserve", _("5 years: in reserve")),
    ("later", _("Later or no planned start")),
]
HORIZON_YEARS = {"execution": 1, "rolling": 3, "reserve": 5}
READINESS_CHOICES = [
    ("complete", _("Checklist complete")),
    ("incomplete", _("Checklist incomplete")),
    ("selectable", _("Nothing missing for selection")),
]
THRESHOLD_CHOICES = [("meets", _("Meets the entry threshold")), ("below", _("Below the entry threshold"))]


def horizon_of(planned_start, today=None):
    """The pool a planned start puts a case in (a HORIZON_CHOICES key)."""
    if planned_start is None:
        return "later"
    first = (today or timezone.localdate()).year + 1
    for key, years in HORIZON_YEARS.items():
        if planned_start.year < first + years:
            return key
    return "later"


class PoolFilter(ProjectFilter):
    """The reserve pool's filters: the case list's, and where a case stands in the pipeline."""

    stage = django_filters.MultipleChoiceFilter(
        label=_("stage"), choices=[(stage.value, stage.label) for stage in PIPELINE_STAGES]
    )
    horizon = django_filters.ChoiceFilter(label=_("pool"), choices=HORIZON_CHOICES, method="filter_horizon")
    readiness = django_filters.ChoiceFilter(
        label=_("readiness"), choices=READINESS_CHOICES, method="filter_readiness"
    )
    threshold = django_filters.ChoiceFilter(
        label=_("entry threshold"), choices=THRESHOLD_CHOICES, method="filter_threshold"
    )

    class Meta(ProjectFilter.Meta):
        fields = [
            "stage",
            "horizon",
            "readiness",
            "threshold",
            "industry",
            "strategic_emerging",
            "industry_cluster",
            "project_type",
            "region",
            "lead_unit",
        ]

    def filter_horizon(self, queryset, name, value):
        first = timezone.localdate().year + 1
        if value == "later":
            return queryset.filter(Q(planned_start__isnull=True) | Q(planned_start__year__gte=first + 5))
        keys = list(HORIZON_YEARS)
        before = HORIZON_YEARS[keys[keys.index(value) - 1]] if keys.index(value) else None
        queryset = queryset.filter(planned_start__year__lt=first + HORIZON_YEARS[value])
        return queryset.filter(planned_start__year__gte=first + before) if before else queryset

    def filter_readiness(self, queryset, name, value):
        # The annotations of selectors.pool_list.
        if value == "complete":
            return queryset.filter(readiness_settled__gte=F("readiness_total"))
        if value == "incomplete":
            return queryset.filter(readiness_settled__lt=F("readiness_total"))
        return queryset.filter(readiness_missing_to_select=0)

    def filter_threshold(self, queryset, name, value):
        meets = Q(entry_threshold__isnull=True) | Q(total_investment__gte=F("entry_threshold"))
        return queryset.filter(meets if value == "meets" else ~meets)


def visible_projects(request):
    """The projects a filter may name: naming another is refused like a project that does not exist."""
    if request is None:
        return KeyProject.objects.none()
    return KeyProject.objects.filter(project_scope(request.user))


class PreworkItemFilter(django_filters.FilterSet):
    project = django_filters.ModelChoiceFilter(label=_("key project"), queryset=visible_projects)

    class Meta:
        model = PreworkItem
        fields = ["project", "state", "kind", "approving_unit", "required"]


class BlockerFilter(django_filters.FilterSet):
    project = django_filters.ModelChoiceFilter(label=_("key project"), queryset=visible_projects)

    class Meta:
        model = Blocker
        fields = ["project", "state", "category", "lead_unit"]
