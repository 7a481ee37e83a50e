"""App configuration of ``workflow``: who must do what by when. The app owns the models and
migrations of its three rooms (``workflow.engine``, ``workflow.coordination``,
``workflow.monthly``), each an app of its own for its code, templates and commands, and
puts their pages together (``viewsets``) and their API (``api.urls``)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "workflow"
    verbose_name = _("Coordination")
    default_auto_field = "django.db.models.BigAutoField"
