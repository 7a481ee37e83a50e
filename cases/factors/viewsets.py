"""The factor quotas application (要素保障台账): the ledgers, a ledger's cash book and its Excel
export, the requests awaiting the bureaus, a request's steps, and a case's new request."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application

from . import permissions, views


class FactorsApplication(Application):
    title = _("Factor quotas")
    icon = "landscape"
    app_name = "factors"
    base_template_name = "kp/base_page.html"
    menu_template_name = "factors/menu.html"

    def has_view_permission(self, user, obj=None):
        return not user.is_authenticated or permissions.can_read_ledgers(user)

    @property
    def index_path(self):
        return path("", views.LedgerListView.as_view(viewset=self), name="index")

    @property
    def ledger_open_path(self):
        return path("ledgers/open/", views.LedgerOpenView.as_view(viewset=self), name="ledger_open")

    @property
    def ledger_path(self):
        return path("ledgers/<int:pk>/", views.LedgerDetailView.as_view(viewset=self), name="ledger")

    @property
    def ledger_xlsx_path(self):
        return path("ledgers/<int:pk>/ledger.xlsx", views.LedgerExcelView.as_view(viewset=self), name="ledger_xlsx")

    @property
    def requests_path(self):
        return path("requests/", views.RequestListView.as_view(viewset=self), name="requests")

    @property
    def request_step_path(self):
        return path(
            "requests/<int:pk>/step/<str:name>/", views.RequestStepView.as_view(viewset=self), name="request_step"
        )

    @property
    def request_raise_path(self):
        return path("requests/<int:pk>/raise/", views.RaiseShortfallView.as_view(viewset=self), name="request_raise")

    @property
    def request_add_path(self):
        return path(
            "projects/<int:project_pk>/requests/add/", views.RequestCreateView.as_view(viewset=self), name="request_add"
        )
