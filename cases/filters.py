"""Filters of the key project list, shared by the page and the API."""

import django_filters
from django.utils.translation import gettext_lazy as _

from .models import (
    Blocker,
    Industry,
    KeyProject,
    Level,
    Person,
    PreworkItem,
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
        fields = ["stage", "industry", "level", "region", "lead_unit", "responsible_leader", "demonstration"]


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
