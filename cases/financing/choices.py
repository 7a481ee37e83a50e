"""The states of a docking, apart from its model: the guards read them without the models."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DockingState(models.TextChoices):
    RECOMMENDED = "recommended", _("Recommended")
    CONTACTED = "contacted", _("Contacted")
    DUE_DILIGENCE = "due_diligence", _("Due diligence")
    INTENT_SIGNED = "intent_signed", _("Intent signed")
    CREDIT_APPROVED = "credit_approved", _("Credit approved")
    DISBURSED = "disbursed", _("Disbursed")
    DECLINED = "declined", _("Declined")


DOCKING_INTENT_REACHED = [
    DockingState.INTENT_SIGNED,
    DockingState.CREDIT_APPROVED,
    DockingState.DISBURSED,
]
DOCKING_CREDIT_REACHED = [DockingState.CREDIT_APPROVED, DockingState.DISBURSED]
