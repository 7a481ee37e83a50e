"""Forms the engine's pages and every domain's steps share: the overdue board's filters, a clock's
pause, what was done."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cases.forms import GuardedForm
from cases.models import Person, Role, Unit, UnitKind

WORKING_DAYS = {"min_value": 1, "max_value": 250}
# Ten years of working days: a filter beyond it can only be a typing slip.
MAX_DAYS_OVERDUE = 2500


def government_units():
    return Unit.objects.exclude(kind__in=[UnitKind.INSTITUTION, UnitKind.ENTERPRISE]).order_by("kind", "name")


class ReportForm(GuardedForm):
    report = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 4}))


class PauseForm(GuardedForm):
    reason = forms.CharField(label=_("Why the clock stops"), max_length=300)


class OverdueFilterForm(GuardedForm):
    """The overdue board's filters, shared by the page, its export and the API."""

    LEVELS = [("", _("any level")), ("none", _("not escalated yet"))] + [(str(n), str(n)) for n in range(5)]

    unit = forms.ModelChoiceField(label=_("Unit"), queryset=Unit.objects.none(), required=False)
    leader = forms.ModelChoiceField(label=_("Responsible leader"), queryset=Person.objects.none(), required=False)
    level = forms.ChoiceField(label=pgettext_lazy("escalation", "Level"), choices=LEVELS, required=False)
    min_days = forms.IntegerField(
        label=_("At least working days overdue"), min_value=0, max_value=MAX_DAYS_OVERDUE, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = government_units()
        self.fields["leader"].queryset = Person.objects.filter(role=Role.LEADER).order_by("name")

    def filters(self):
        """The cleaned filters as keyword arguments of ``selectors.overdue_board``."""
        data = self.cleaned_data
        level = data.get("level")
        return {
            "unit": data.get("unit"),
            "leader": data.get("leader"),
            "level": None if level in (None, "") else level,
            "min_days": data.get("min_days"),
        }
