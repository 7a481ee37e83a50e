"""App configuration of the monthly cycle: reports, lights, the scheduling meeting, the bulletin.
At start-up it plugs its flows and steps into the engine."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonthlyConfig(AppConfig):
    name = "workflow.monthly"
    label = "workflow_monthly"
    verbose_name = _("Monthly cycle")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import steps, tasks  # noqa: F401 - tasks registers the cycle's celery tasks

        steps.register()
