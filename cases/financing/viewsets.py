"""The financing docking application: the white list, institutions' products, dockings, matchmaking
events, the institution portal and the statistics; for an owner enterprise's people, their own
cases' needs. Each page is a path property here.

It also extends the case core's application (``CasesApplication``): a case's page shows its
dockings, the secretariat recommends a case to an institution from there, and a docking's
steps are taken at ``/cases/dockings/<pk>/transition/<name>/``.
"""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application, Viewset, route

from cases import viewsets as case_viewsets

from . import permissions
from .views import events as events_views
from .views import needs as need_views
from .views import products as product_views
from .views.dockings import DockingCreateView, DockingTransitionView, ProjectDetailView
from .views.portal import (
    ExpressInterestView,
    PortalDockingListView,
    PortalHomeView,
    PortalNeedListView,
    PortalNeedView,
)
from .views.stats import StatisticsExcelView, StatisticsView


class ProjectViewset(case_viewsets.ProjectViewset):
    detail_view_class = ProjectDetailView

    @property
    def add_docking_path(self):
        return path("<int:pk>/dockings/add/", DockingCreateView.as_view(viewset=self), name="add_docking")


class DockingViewset(Viewset):
    """Transition pages of dockings; the dockings themselves show on their case's page."""

    app_name = "dockings"

    @property
    def transition_path(self):
        return path("<int:pk>/transition/<str:name>/", DockingTransitionView.as_view(viewset=self), name="transition")


class CasesApplication(case_viewsets.CasesApplication):
    projects_path = route("projects/", ProjectViewset())
    dockings_path = route("dockings/", DockingViewset())



class FinancingApplication(Application):
    title = _("Financing")
    icon = "account_balance_wallet"
    app_name = "financing"
    base_template_name = "kp/base_page.html"
    menu_template_name = "cases/financing/menu.html"

    def has_view_permission(self, user, obj=None):
        # Each page asks its own question besides: an owner reaches its own needs' pages only.
        return not user.is_authenticated or permissions.can_read_needs(user)

    @property
    def index_path(self):
        return path("", need_views.FinancingIndexView.as_view(viewset=self), name="index")

    @property
    def white_list_path(self):
        return path("needs/", need_views.WhiteListView.as_view(viewset=self), name="white_list")

    @property
    def own_needs_path(self):
        return path("needs/own/", need_views.OwnNeedsView.as_view(viewset=self), name="own_needs")

    @property
    def need_detail_path(self):
        return path("needs/<int:pk>/", need_views.NeedDetailView.as_view(viewset=self), name="need_detail")

    @property
    def need_add_path(self):
        return path(
            "projects/<int:project_pk>/needs/add/", need_views.NeedCreateView.as_view(viewset=self), name="need_add"
        )

    @property
    def need_change_path(self):
        return path("needs/<int:pk>/change/", need_views.NeedUpdateView.as_view(viewset=self), name="need_change")

    @property
    def need_transition_path(self):
        return path(
            "needs/<int:pk>/transition/<str:name>/",
            need_views.NeedTransitionView.as_view(viewset=self),
            name="need_transition",
        )

    @property
    def need_recommend_path(self):
        return path(
            "needs/<int:pk>/recommend/<int:product_pk>/",
            need_views.NeedRecommendView.as_view(viewset=self),
            name="need_recommend",
        )

    @property
    def products_path(self):
        return path("products/", product_views.ProductListView.as_view(viewset=self), name="products")

    @property
    def product_add_path(self):
        return path("products/add/", product_views.ProductCreateView.as_view(viewset=self), name="product_add")

    @property
    def product_detail_path(self):
        return path("products/<int:pk>/", product_views.ProductDetailView.as_view(viewset=self), name="product_detail")

    @property
    def product_change_path(self):
        return path(
            "products/<int:pk>/change/", product_views.ProductUpdateView.as_view(viewset=self), name="product_change"
        )

    @property
    def product_deactivate_path(self):
        return path(
            "products/<int:pk>/deactivate/",
            product_views.ProductDeactivateView.as_view(viewset=self),
            name="product_deactivate",
        )

    @property
    def docking_path(self):
        return path("dockings/<int:pk>/", events_views.DockingView.as_view(viewset=self), name="docking")

    @property
    def docking_step_path(self):
        return path("dockings/<int:pk>/step/", events_views.DockingStepView.as_view(viewset=self), name="docking_step")

    @property
    def events_path(self):
        return path("events/", events_views.EventListView.as_view(viewset=self), name="events")

    @property
    def event_add_path(self):
        return path("events/add/", events_views.EventCreateView.as_view(viewset=self), name="event_add")

    @property
    def event_path(self):
        return path("events/<int:pk>/", events_views.EventView.as_view(viewset=self), name="event")

    @property
    def event_edit_path(self):
        return path("events/<int:pk>/edit/", events_views.EventEditView.as_view(viewset=self), name="event_edit")

    @property
    def event_invite_path(self):
        return path("events/<int:pk>/invite/", events_views.EventInviteView.as_view(viewset=self), name="event_invite")

    @property
    def event_attendance_path(self):
        return path(
            "events/<int:pk>/attendance/", events_views.EventAttendanceView.as_view(viewset=self), name="event_attendance"
        )

    @property
    def event_sign_path(self):
        return path("events/<int:pk>/sign/", events_views.EventSignView.as_view(viewset=self), name="event_sign")

    @property
    def statistics_path(self):
        return path("statistics/", StatisticsView.as_view(viewset=self), name="statistics")

    @property
    def statistics_xlsx_path(self):
        return path("statistics/statistics.xlsx", StatisticsExcelView.as_view(viewset=self), name="statistics_xlsx")

    @property
    def portal_path(self):
        return path("portal/", PortalHomeView.as_view(viewset=self), name="portal")

    @property
    def portal_dockings_path(self):
        return path("portal/dockings/", PortalDockingListView.as_view(viewset=self), name="portal_dockings")

    @property
    def portal_needs_path(self):
        return path("portal/needs/", PortalNeedListView.as_view(viewset=self), name="portal_needs")

    @property
    def portal_need_path(self):
        return path("portal/needs/<int:pk>/", PortalNeedView.as_view(viewset=self), name="portal_need")

    @property
    def portal_interest_path(self):
        return path("portal/needs/<int:pk>/interest/", ExpressInterestView.as_view(), name="portal_interest")
