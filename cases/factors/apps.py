"""App configuration of the factor quota ledgers (要素保障台账): its own label and migrations; at
start-up it adds its check to the pre-work item's guard and its section to the case page."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FactorsConfig(AppConfig):
    name = "cases.factors"
    label = "factors"
    verbose_name = _("Factor quotas")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from cases.selectors import read_with_a_case

        from . import guards, views

        guards.contribute_to_the_case_guards()
        views.register_the_case_section()
        # The case page runs each item's done guard, which reads its requests: with the case, not
        # once per item. (A service changing one item reads that item's requests itself.)
        read_with_a_case("detail", guards.requests_with_the_items)
