"""App configuration for the domain of key projects."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Key projects")
    default_auto_field = "django.db.models.BigAutoField"
