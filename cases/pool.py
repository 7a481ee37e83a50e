"""The pipeline's pages: the reserve pool (ideas and reserve projects, with each one's readiness,
entry threshold and the pool its planned start puts it in) and proposing an idea (谋划)."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views import generic
from viewflow.urls import AppMenuMixin, BaseModelViewset
from viewflow.views import ListModelView

from . import permissions, selectors, services
from .columns import column, state_badge, wan_cell
from .filters import HORIZON_CHOICES, PROJECT_SEARCH_FIELDS, PoolFilter, horizon_of
from .forms import IdeaForm
from .models import KeyProject, PreworkKind, PreworkState
from .views import project_url

STATE_LABELS = {**dict(PreworkState.choices), "missing": _("Not started")}
# The checklist's items as the pool's chips name them, in two characters where Chinese has them.
SHORT_LABELS = {
    PreworkKind.FILING: pgettext_lazy("readiness chip", "Filing"),
    PreworkKind.PLANNING: pgettext_lazy("readiness chip", "Site"),
    PreworkKind.LAND: pgettext_lazy("readiness chip", "Land"),
    PreworkKind.EIA: pgettext_lazy("readiness chip", "EIA"),
    PreworkKind.ENERGY: pgettext_lazy("readiness chip", "Energy"),
    PreworkKind.FEASIBILITY: pgettext_lazy("readiness chip", "Feasibility"),
    PreworkKind.PRELIMINARY_DESIGN: pgettext_lazy("readiness chip", "Design"),
    PreworkKind.CONSTRUCTION_PERMIT: pgettext_lazy("readiness chip", "Permit"),
}


def reads_the_pool(user):
    """The pool is the government's: not the banks' nor the enterprises'. Anonymous visitors pass on
    to the login redirect."""
    return not user.is_authenticated or permissions.is_internal(user)


class PoolListView(ListModelView):
    template_name = "cases/pool_list.html"
    title = _("Reserve pool")

    @cached_property
    def checklists(self):
        return selectors.readiness_checklists()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_propose"] = permissions.can_propose_idea(self.request.user)
        return context

    @column(_("industry"), "industry")
    def industry_cell(self, project):
        if project.industry_cluster_id:
            return format_html(
                '{}<br><span class="kp-muted">{}</span>', project.get_industry_display(), project.industry_cluster.name
            )
        return project.get_industry_display()

    @column(_("total investment (10k yuan)"), "total_investment", numeric=True)
    def total_cell(self, project):
        total = wan_cell(project.total_investment)
        if project.entry_threshold is not None and project.total_investment < project.entry_threshold:
            return format_html(
                '{}<br><span class="kp-badge kp-badge--below" title="{}">{}</span>',
                total,
                gettext("Entry threshold: %(amount)s 万元") % {"amount": wan_cell(project.entry_threshold)},
                gettext("Below the threshold"),
            )
        return total

    @column(_("planned next year (10k yuan)"), numeric=True)
    def plan_next_year_cell(self, project):
        return wan_cell(project.planned_next_year)

    @column(_("planned start"), "planned_start")
    def start_cell(self, project):
        labels = dict(HORIZON_CHOICES)
        horizon = labels[horizon_of(project.planned_start)]
        if not project.planned_start:
            return horizon
        return format_html('{}<br><span class="kp-muted">{}</span>', date_format(project.planned_start), horizon)

    @column(_("readiness"))
    def readiness_cell(self, project):
        rows = selectors.readiness_of(project, self.checklists.get(project.project_type, []))
        if not rows:
            return ""
        settled = [line for line, state in rows if state in ("done", "waived")]
        chips = format_html_join(
            "",
            '<span class="kp-ready kp-ready--{}" title="{}: {}">{}</span>',
            (
                (
                    state,
                    PreworkKind(line.kind).label,
                    STATE_LABELS[state],
                    SHORT_LABELS.get(line.kind, PreworkKind(line.kind).label),
                )
                for line, state in rows
            ),
        )
        return format_html(
            '<strong>{}/{}</strong><br><span class="kp-ready-list">{}</span>', len(settled), len(rows), chips
        )


class IdeaCreateView(LoginRequiredMixin, generic.FormView):
    """Propose a project idea: a unit's own, or any unit's by the project office."""

    form_class = IdeaForm
    template_name = "cases/idea_form.html"
    viewset = None

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not permissions.can_propose_idea(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = KeyProject()
        kwargs["secretariat"] = permissions.is_secretariat(self.request.user)
        return kwargs

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "title": _("Propose a project idea")}

    def form_valid(self, form):
        try:
            project = services.project_propose_idea(actor=self.request.user, data=form.service_data())
        except ValidationError as error:
            form.add_service_errors(error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            gettext("The idea %(name)s was recorded as %(code)s.") % {"name": project.name, "code": project.code},
        )
        return HttpResponseRedirect(project_url(project))


class PoolViewset(AppMenuMixin, BaseModelViewset):
    """The reserve pool in the key projects' menu; each row leads to its case's page."""

    model = KeyProject
    app_name = "pool"
    icon = "inventory_2"
    title = _("Reserve pool")
    list_view_class = PoolListView
    list_columns = (
        "code",
        "name",
        "stage_badge",
        "industry_cell",
        "project_type",
        "lead_unit",
        "total_cell",
        "plan_next_year_cell",
        "start_cell",
        "readiness_cell",
    )
    list_object_link_columns = ("code", "name")
    list_filterset_class = PoolFilter
    list_search_fields = PROJECT_SEARCH_FIELDS
    list_paginate_by = 25

    def get_queryset(self, request):
        return selectors.pool_list(request.user, year=timezone.localdate().year).order_by("stage", "code")

    def has_view_permission(self, user, obj=None):
        return reads_the_pool(user)

    def get_object_url(self, request, obj):
        return project_url(obj)

    @column(_("stage"), "stage")
    def stage_badge(self, project):
        return state_badge(project, "stage")

    @property
    def propose_path(self):
        return path("ideas/add/", IdeaCreateView.as_view(viewset=self), name="propose_idea")
