"""Forms of financing docking shared by its pages: recommending a case to an institution, and what
a docking's steps ask for (registered with the case core's transition forms at start-up)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.forms import GuardedForm, ask_on_transition
from cases.models import Unit, UnitKind

from .models import Docking


class DockingForm(GuardedForm):
    institution = forms.ModelChoiceField(
        label=_("Institution"), queryset=Unit.objects.filter(kind=UnitKind.INSTITUTION)
    )


def ask_on_docking_steps():
    ask_on_transition(
        Docking,
        {
            "sign_intent": ["intent_amount"],
            "approve_credit": ["credit_approved_amount"],
            "disburse": ["disbursed_amount", "disbursed_on"],
        },
        amounts={"intent_amount", "credit_approved_amount", "disbursed_amount"},
    )
