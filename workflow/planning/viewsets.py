"""The annual plan application (年度投资计划) in the site's menu: each page is a path property. The
year, version and proposal are query or form parameters (``?year=2027``), not path parameters."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application

from . import pages, permissions


class PlanningApplication(Application):
    title = _("Annual plan")
    icon = "event_note"
    app_name = "planning"
    base_template_name = "kp/base_page.html"
    menu_template_name = "workflow/planning/menu.html"

    def has_view_permission(self, user, obj=None):
        return not user.is_authenticated or permissions.can_read(user)

    @property
    def index_path(self):
        return path("", pages.IndexView.as_view(viewset=self), name="index")

    @property
    def compilation_path(self):
        return path("compilation/", pages.CompilationView.as_view(viewset=self), name="compilation")

    @property
    def propose_path(self):
        return path("propose/", pages.ProposeView.as_view(viewset=self), name="propose")

    @property
    def decide_path(self):
        return path("decide/", pages.DecideView.as_view(viewset=self), name="decide")

    @property
    def publish_path(self):
        return path("publish/", pages.PublishView.as_view(viewset=self), name="publish")

    @property
    def window_path(self):
        return path("window/", pages.WindowView.as_view(viewset=self), name="window")

    @property
    def adjust_path(self):
        return path("adjust/", pages.AdjustView.as_view(viewset=self), name="adjust")

    @property
    def version_path(self):
        return path("version/", pages.VersionView.as_view(viewset=self), name="version")

    @property
    def diff_path(self):
        return path("diff/", pages.DiffView.as_view(viewset=self), name="diff")
