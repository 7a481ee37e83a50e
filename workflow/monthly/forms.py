"""Forms of the monthly pages: writing a report (with problems raised as blockers) and reviewing it,
with amounts typed in ten-thousand yuan; the meeting's date and time in the browser's own picker."""

import datetime
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cases.formatting import TEN_THOUSAND
from cases.forms import GuardedForm, WanField
from cases.models import BlockerCategory

# The largest amount a report's column holds (16 digits, two of them cents), in ten-thousand yuan.
MAX_WAN = Decimal("9999999999.99")


class WanAmountField(WanField):
    """An amount people read and type in ten-thousand yuan (万元), kept in yuan: the initial value
    (yuan) is shown in 万元, grouped as the language groups numbers; the typed figure may have
    separators and the unit too, and it cleans to yuan. Six decimal places of 万元 are a cent."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", None)
        kwargs.setdefault("max_value", MAX_WAN)
        kwargs.setdefault(
            "error_messages",
            {
                "min_value": _("An amount cannot be negative."),
                "max_value": _("Too large: give the amount in ten-thousand yuan, not in yuan."),
                "invalid": _("Give the amount as a number of ten-thousand yuan, such as 1,250.50."),
            },
        )
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        """Yuan (an initial value) as 万元, grouped by ``WanField``; what was typed stays as typed.
        Six places of 万元 keep every yuan, so that sending it back unchanged changes nothing."""
        if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
            value = (Decimal(value) / TEN_THOUSAND).quantize(Decimal("0.000001"))
        return super().prepare_value(value)

    def has_changed(self, initial, data):
        try:
            typed = self.clean(data) if data not in (None, "") else None
        except ValidationError:
            return True
        before = Decimal(initial).quantize(Decimal("0.01")) if initial not in (None, "") else None
        return typed != before


class LocalDateTimeInput(forms.TextInput):
    """The browser's date-and-time picker (``datetime-local``). Its value must be written
    ``YYYY-MM-DDTHH:MM`` whatever the page's language, or the browser shows it empty; viewflow's
    date field would write it in the language's input format instead."""

    input_type = "datetime-local"

    def format_value(self, value):
        if isinstance(value, datetime.datetime):
            return value.strftime("%Y-%m-%dT%H:%M:%S" if value.second else "%Y-%m-%dT%H:%M")
        return super().format_value(value)


class MonthlyReportForm(GuardedForm):
    investment_month = WanAmountField(label=_("Investment completed this month (10k yuan)"))
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


class RaiseBlockerForm(GuardedForm):
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


class ReportReviewForm(GuardedForm):
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
