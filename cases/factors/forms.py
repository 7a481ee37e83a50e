"""The forms of the factor ledgers' pages: what a line, a request and a filter take."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cases.forms import GuardedForm
from cases.models import Unit, UnitKind

from .models import QUANTITY, Factor


def _years():
    this_year = timezone.localdate().year
    return [(year, str(year)) for year in range(this_year + 1, this_year - 5, -1)]


class QuantityField(forms.DecimalField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Quantity (in the factor's unit)"))
        super().__init__(
            min_value=0, max_digits=QUANTITY["max_digits"], decimal_places=QUANTITY["decimal_places"], **kwargs
        )


class LedgerFilterForm(GuardedForm):
    year = forms.TypedChoiceField(label=_("year"), required=False, coerce=int, empty_value=None)
    factor = forms.ChoiceField(label=_("factor"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", _("Every year")), *_years()]
        self.fields["factor"].choices = [("", _("Every factor")), *Factor.choices]

    def params(self):
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in ("", None)}


class LedgerOpenForm(GuardedForm):
    factor = forms.ChoiceField(label=_("factor"), choices=Factor.choices)
    year = forms.TypedChoiceField(label=_("year"), coerce=int)
    bureau = forms.ModelChoiceField(label=_("keeping bureau"), queryset=Unit.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = _years()
        self.fields["year"].initial = timezone.localdate().year
        self.fields["bureau"].queryset = Unit.objects.filter(kind=UnitKind.DEPARTMENT, is_active=True).order_by("name")


class LineForm(GuardedForm):
    """A line received or returned (a return may name the project it comes back from)."""

    quantity = QuantityField()
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    document_number = forms.CharField(label=pgettext_lazy("ledger", "document number"), max_length=80, required=False)


class ReturnForm(LineForm):
    project = forms.ModelChoiceField(label=_("key project it comes back from"), queryset=None, required=False)

    def __init__(self, *args, projects=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects


class StepForm(GuardedForm):
    """Reserve, release or allocate a request: the reason and the document."""

    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    document_number = forms.CharField(label=pgettext_lazy("ledger", "document number"), max_length=80, required=False)


class RequestForm(GuardedForm):
    item = forms.TypedChoiceField(label=_("pre-work item"), coerce=int)
    factor = forms.ChoiceField(label=_("factor"), choices=Factor.choices)
    year = forms.TypedChoiceField(label=_("year"), coerce=int)
    quantity = QuantityField()
    note = forms.CharField(label=_("note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = [(item.pk, item.label) for item in items]
        self.fields["year"].choices = _years()
        self.fields["year"].initial = timezone.localdate().year
