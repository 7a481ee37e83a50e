"""App configuration of financing docking: its models belong to the ``cases`` app (their
``app_label``); this app brings its pages, templates, commands and what it adds to the core."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinancingConfig(AppConfig):
    name = "cases.financing"
    label = "cases_financing"
    verbose_name = _("Financing docking")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import forms, guards, hooks, permissions, selectors  # noqa: F401 - hooks connects its receiver

        guards.contribute_to_the_case_guards()
        permissions.register_rules()
        selectors.read_with_the_case()
        forms.ask_on_docking_steps()
