"""App configuration of the engine: human tasks, working-day deadlines and the escalation ladder."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngineConfig(AppConfig):
    name = "workflow.engine"
    label = "workflow_engine"
    verbose_name = _("Tasks and deadlines")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from notifications import work as notified_work

        from . import hooks, work  # noqa: F401 - hooks connects the clock's receiver

        notified_work.set_counter(work.notification_counts)  # the digest's figures
