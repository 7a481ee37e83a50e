"""App configuration of the coordination flows: blockers, pre-work, supervision orders,
interviews and docking follow-ups. At start-up it plugs them into the engine: their flows and
steps, and the supervision orders and interviews the ladder and the monthly cycle ask for."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoordinationConfig(AppConfig):
    name = "workflow.coordination"
    label = "workflow_coordination"
    verbose_name = _("Coordination flows")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from workflow.engine import registry

        from . import home, hooks, interventions, steps  # noqa: F401 - hooks connects the cases' receiver

        steps.register()
        interventions.register()
        registry.add_home_panel(home.home_lines)
