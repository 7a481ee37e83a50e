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
        from workflow.engine import registry

        from . import home, steps, tasks, work  # noqa: F401 - tasks registers the cycle's celery tasks

        steps.register()
        registry.add_home_panel(home.home_lines)
        registry.add_work_scope(work.owner_reports)
