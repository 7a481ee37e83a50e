"""App configuration of the annual investment plan's compilation: at start-up it plugs its flow and
step into the engine."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlanningConfig(AppConfig):
    name = "workflow.planning"
    label = "workflow_planning"
    verbose_name = _("Annual investment plan")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import steps

        steps.register()
