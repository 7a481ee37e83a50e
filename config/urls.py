"""URL routes: the web interface (viewflow's Material site), the API, the admin, the language switch."""

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import JavaScriptCatalog
from viewflow.contrib.auth import AuthViewset
from viewflow.urls import Site

from cases.factors.viewsets import FactorsApplication
from cases.financing.viewsets import CasesApplication, FinancingApplication
from cases.viewsets import OrganisationApplication
from notifications.viewsets import NotificationsApplication
from workflow.engine.views import HomeView, MyWorkView, TakeTaskView
from workflow.planning.viewsets import PlanningApplication
from workflow.viewsets import CoordinationApplication


class KeyProjectsSite(Site):
    """viewflow's site, landing on the home page instead of the first application, with my work."""

    @property
    def index_path(self):
        return path("", HomeView.as_view(), name="index")

    @property
    def my_work_path(self):
        return path("my-work/", MyWorkView.as_view(), name="my_work")

    @property
    def my_work_take_path(self):
        return path("my-work/<int:pk>/take/", TakeTaskView.as_view(), name="my_work_take")


site = KeyProjectsSite(
    title=_("Key projects"),
    primary_color="#1f4e79",
    secondary_color="#c0392b",
    viewsets=[
        CasesApplication(),
        CoordinationApplication(),
        PlanningApplication(),
        FinancingApplication(),
        FactorsApplication(),
        OrganisationApplication(),
        NotificationsApplication(),
    ],
)

admin.site.site_header = _("Key projects administration")
admin.site.site_title = _("Key projects")

urlpatterns = [
    path("accounts/", AuthViewset(with_profile_view=False).urls),
    path("oidc/", include("cases.identity")),  # the unified identity sign-in, 404 while it is off
    path("admin/", admin.site.urls),
    path("api/", include(("workflow.api.urls", "workflow_api"), namespace="workflow_api")),
    path("api/", include(("config.api", "api"), namespace="api")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", site.urls),
]
