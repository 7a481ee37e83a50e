"""The inbox as a viewflow application: the bell leads here."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application

from . import views


class NotificationsApplication(Application):
    title = _("Notifications")
    icon = "mail_outline"  # the bell is my work
    app_name = "notifications"
    base_template_name = "kp/base_page.html"
    menu_template_name = "notifications/menu.html"

    @property
    def index_path(self):
        return path("", views.InboxView.as_view(viewset=self), name="inbox")

    @property
    def open_path(self):
        return path("<int:pk>/open/", views.OpenView.as_view(), name="open")

    @property
    def read_all_path(self):
        return path("read-all/", views.ReadAllView.as_view(), name="read_all")

    @property
    def preferences_path(self):
        return path("preferences/", views.PreferencesView.as_view(viewset=self), name="preferences")
