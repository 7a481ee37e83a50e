"""Forms of the monthly report's steps: writing it (with problems raised as blockers) and reviewing
it."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cases.models import BlockerCategory


class MonthlyReportForm(forms.Form):
    investment_month = forms.DecimalField(
        label=_("Investment completed this month (yuan)"), max_digits=16, decimal_places=2, min_value=0
    )
    progress_percent = forms.DecimalField(
        label=_("Image progress (%)"), max_digits=5, decimal_places=2, min_value=0, max_value=100
    )
    progress_back_reason = forms.CharField(
        label=_("Why progress went back"), max_length=300, required=False,
        help_text=_("Required when the image progress is lower than last month's."),
    )
    work_done = forms.CharField(label=_("Work done this month"), widget=forms.Textarea(attrs={"rows": 3}))
    next_steps = forms.CharField(label=_("Next steps"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    problems = forms.CharField(label=_("Problems"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    support_needed = forms.CharField(
        label=_("Support needed"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class RaiseBlockerForm(forms.Form):
    title = forms.CharField(label=_("Problem to raise as a blocker"), max_length=200, required=False)
    category = forms.ChoiceField(label=_("Category"), choices=BlockerCategory.choices, initial=BlockerCategory.OTHER)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def clean(self):
        data = super().clean()
        if data.get("description") and not data.get("title"):
            raise ValidationError(_("A blocker needs a title."))
        return data


RaiseBlockerFormSet = forms.formset_factory(RaiseBlockerForm, extra=2)


class ReportReviewForm(forms.Form):
    accepted = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("true", _("Accept the report")), ("false", _("Send it back for correction"))],
        coerce=lambda value: value in (True, "true", "True", "1"),
        widget=forms.RadioSelect,
        initial="true",
    )
    reason = forms.CharField(label=_("Why it goes back"), max_length=300, required=False)

    def clean(self):
        data = super().clean()
        if data.get("accepted") is False and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why the report goes back."))
        return data
