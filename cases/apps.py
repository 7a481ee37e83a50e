"""App configuration for the case core: key projects, their stages and records, the organisation."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Key projects")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from . import permissions  # noqa: F401 - registers the transition permission check
        from .models.pipeline import ReadinessItem, forget_readiness_needs

        post_save.connect(forget_readiness_needs, sender=ReadinessItem, dispatch_uid="forget_readiness_needs")
        post_delete.connect(forget_readiness_needs, sender=ReadinessItem, dispatch_uid="forget_readiness_needs_d")
