"""The web interface of the domain, as viewflow viewsets in the Material frontend."""

from django.urls import path
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application, ModelViewset, ReadonlyModelViewset, route
from viewflow.urls.model import DetailViewMixin

from . import permissions, selectors, views
from .columns import column, state_badge, wan_cell
from .filters import PROJECT_SEARCH_FIELDS, ProjectFilter
from .forms import BlockerForm, PreworkItemForm
from .models import Blocker, KeyProject, Person, PreworkItem, Role, Unit
from .pool import PoolViewset


def works_with_cases(user):
    """Roles with pages here; anonymous visitors pass on to the login redirect."""
    if not user.is_authenticated:
        return True
    return permissions.role_of(user) in permissions.INTERNAL | {Role.OWNER}


class ProjectViewset(DetailViewMixin, ModelViewset):
    model = KeyProject
    app_name = "projects"
    icon = "business"
    title = _("Key projects")
    list_columns = (
        "code",
        "name",
        "stage_badge",
        "industry",
        "region",
        "lead_unit",
        "responsible_leader",
        "total_wan",
        "plan_this_year_wan",
        "completed_this_year_wan",
        "open_blocker_count",
    )
    list_object_link_columns = ("code", "name")
    list_filterset_class = ProjectFilter
    list_search_fields = PROJECT_SEARCH_FIELDS
    list_paginate_by = 25
    list_view_class = views.ProjectListView
    create_view_class = views.ProjectCreateView
    update_view_class = views.ProjectUpdateView
    detail_view_class = views.ProjectDetailView

    def get_queryset(self, request):
        return selectors.project_list(request.user)

    def has_view_permission(self, user, obj=None):
        return works_with_cases(user)

    def has_add_permission(self, user):
        return permissions.can_create_project(user)

    def has_change_permission(self, user, obj=None):
        if obj is None:
            return permissions.role_of(user) in {Role.SECRETARIAT, *permissions.UNIT_ROLES}
        return permissions.can_edit_project(user, obj)

    def get_object_url(self, request, obj):
        return self.reverse("detail", args=[obj.pk])

    def get_success_url(self, request, obj=None):
        if obj is not None and obj.pk:
            return self.reverse("detail", args=[obj.pk])
        return self.reverse("index")

    @column(_("stage"), "stage")
    def stage_badge(self, project):
        return state_badge(project, "stage")

    @column(_("total investment (10k yuan)"), "total_investment", numeric=True)
    def total_wan(self, project):
        return wan_cell(project.total_investment)

    @column(_("planned this year (10k yuan)"), numeric=True)
    def plan_this_year_wan(self, project):
        return wan_cell(project.planned_this_year)

    @column(_("completed this year (10k yuan)"), numeric=True)
    def completed_this_year_wan(self, project):
        return wan_cell(project.completed_this_year)

    @column(_("open blockers"), numeric=True)
    def open_blocker_count(self, project):
        return project.open_blocker_count

    @property
    def transition_path(self):
        return path(
            "<int:pk>/transition/<str:name>/",
            views.TransitionView.as_view(viewset=self),
            name="transition",
        )

    @property
    def add_prework_path(self):
        return path("<int:pk>/prework/add/", views.PreworkItemCreateView.as_view(viewset=self), name="add_prework")

    @property
    def report_blocker_path(self):
        return path("<int:pk>/blockers/add/", views.BlockerReportView.as_view(viewset=self), name="report_blocker")

    @property
    def import_path(self):
        return path("import/", views.ProjectImportView.as_view(viewset=self), name="import")

    @property
    def import_template_path(self):
        return path("import/template.xlsx", views.ImportTemplateView.as_view(), name="import_template")

    @property
    def export_path(self):
        return path("export.xlsx", views.ProjectExportView.as_view(), name="export")

    @property
    def approvals_import_path(self):
        return path("import/approvals/", views.ApprovalsImportView.as_view(viewset=self), name="import_approvals")

    @property
    def approvals_template_path(self):
        return path("import/approvals/template.xlsx", views.ApprovalsTemplateView.as_view(), name="approvals_template")


class _RecordViewset(ModelViewset):
    """Lists of records across the cases a person may see; each row leads to its case."""

    selector = None

    def get_queryset(self, request):
        return type(self).selector(request.user)

    def has_view_permission(self, user, obj=None):
        return works_with_cases(user)

    def has_add_permission(self, user):
        return False  # records are added from their case's page

    def get_object_url(self, request, obj):
        return views.project_url(obj.project, self.anchor)

    @column(_("key project"), "project__code")
    def project_link(self, record):
        return format_html("{} {}", record.project.code, record.project.name)

    @column(_("state"), "state")
    def state_badge(self, record):
        return state_badge(record)

    transition_view_class = None

    @property
    def transition_path(self):
        return path(
            "<int:pk>/transition/<str:name>/",
            self.transition_view_class.as_view(viewset=self),
            name="transition",
        )


class PreworkItemViewset(_RecordViewset):
    model = PreworkItem
    app_name = "prework"
    icon = "fact_check"
    title = _("Pre-work items")
    anchor = "prework"
    selector = staticmethod(selectors.prework_item_list)
    list_columns = ("project_link", "item_label", "approving_unit", "statutory_days", "state_badge", "done_on")
    list_object_link_columns = ("project_link",)
    list_filter_fields = ("state", "kind", "approving_unit", "required")
    list_search_fields = ("project__code", "project__project_code", "project__name", "title", "document_number")
    form_class = PreworkItemForm
    update_view_class = views.PreworkItemUpdateView
    transition_view_class = views.PreworkItemTransitionView

    @column(_("item"), "kind")
    def item_label(self, item):
        return item.label

    def has_change_permission(self, user, obj=None):
        return obj is not None and permissions.can_edit_prework(user, obj)


class BlockerViewset(_RecordViewset):
    model = Blocker
    app_name = "blockers"
    icon = "report_problem"
    title = _("Blockers")
    anchor = "blockers"
    selector = staticmethod(selectors.blocker_list)
    list_columns = ("project_link", "title", "category", "lead_unit", "due_on", "state_badge", "created_at")
    list_object_link_columns = ("project_link", "title")
    list_filter_fields = ("state", "category", "lead_unit")
    list_search_fields = ("project__code", "project__project_code", "project__name", "title")
    form_class = BlockerForm
    update_view_class = views.BlockerUpdateView
    transition_view_class = views.BlockerTransitionView

    def has_change_permission(self, user, obj=None):
        return obj is not None and permissions.can_edit_blocker(user, obj)


class CasesApplication(Application):
    """The case core's pages; ``cases.financing.viewsets`` extends it with the dockings'."""

    title = _("Key projects")
    icon = "domain"
    app_name = "cases"
    base_template_name = "kp/base_page.html"

    projects_path = route("projects/", ProjectViewset())
    pool_path = route("pool/", PoolViewset())
    prework_path = route("prework/", PreworkItemViewset())
    blockers_path = route("blockers/", BlockerViewset())

    def has_view_permission(self, user, obj=None):
        return works_with_cases(user)


class UnitViewset(ReadonlyModelViewset):
    model = Unit
    app_name = "units"
    icon = "account_balance"
    title = _("Units")
    # "head" would name the view's HEAD handler, which viewflow would call for every row.
    list_columns = ("name", "short_name", "kind", "parent", "unit_head")
    list_filter_fields = ("kind",)
    list_search_fields = ("name", "short_name")

    @column(_("head"))
    def unit_head(self, unit):
        return unit.head.name if unit.head else ""

    def get_queryset(self, request):
        return selectors.unit_list(request.user)

    def has_view_permission(self, user, obj=None):
        return not user.is_authenticated or permissions.is_internal(user)


class PersonViewset(ReadonlyModelViewset):
    model = Person
    app_name = "people"
    icon = "people"
    title = _("People")
    list_columns = ("name", "unit", "title", "rank", "role")
    list_filter_fields = ("role", "rank", "unit")
    list_search_fields = ("name", "title", "unit__name")

    def get_queryset(self, request):
        return selectors.person_list(request.user)

    def has_view_permission(self, user, obj=None):
        return not user.is_authenticated or permissions.is_internal(user)


class OrganisationApplication(Application):
    title = _("Organisation")
    icon = "corporate_fare"
    app_name = "org"
    base_template_name = "kp/base_page.html"

    units_path = route("units/", UnitViewset())
    people_path = route("people/", PersonViewset())

    def has_view_permission(self, user, obj=None):
        return not user.is_authenticated or permissions.is_internal(user)
