"""The annual plan's forms: amounts typed in ten thousand yuan (``WanField``), cleaned to yuan."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.forms import GuardedForm, WanField
from cases.models import Industry, KeyProject
from cases.models.org import UnitGroup

from .models import PlanTarget, PlanVersion


class DateInput(forms.DateInput):
    input_type = "date"


class OpenCompilationForm(GuardedForm):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    deadline = forms.DateField(label=_("Deadline for proposals"), widget=DateInput, required=False,
                               help_text=_("31 August of the year before if left empty."))
    target_total = WanField(label=_("City's target (ten thousand yuan)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for group in UnitGroup:
            self.fields[f"group_{group.value}"] = WanField(label=group.label, required=False)
        for industry in Industry:
            self.fields[f"industry_{industry.value}"] = WanField(label=industry.label, required=False)

    def targets(self):
        data = self.cleaned_data
        found = {}
        for group in UnitGroup:
            found[(PlanTarget.Kind.GROUP, group.value)] = data.get(f"group_{group.value}")
        for industry in Industry:
            found[(PlanTarget.Kind.INDUSTRY, industry.value)] = data.get(f"industry_{industry.value}")
        return found

    def group_fields(self):
        return [self[f"group_{group.value}"] for group in UnitGroup]

    def industry_fields(self):
        return [self[f"industry_{industry.value}"] for industry in Industry]


class FiguresForm(GuardedForm):
    planned_year = WanField(label=_("Planned investment of the year (ten thousand yuan)"))
    planned_next = WanField(label=_("Planned investment of the next year (ten thousand yuan)"))
    planned_after = WanField(label=_("Planned investment of the year after (ten thousand yuan)"))
    planned_start = forms.DateField(label=_("Planned start"), widget=DateInput)


class ProposalForm(FiguresForm):
    project = forms.ModelChoiceField(label=_("Reserve case"), queryset=KeyProject.objects.none())
    field_order = ["project", "planned_year", "planned_next", "planned_after", "planned_start"]

    def __init__(self, *args, projects=None, **kwargs):
        super().__init__(*args, **kwargs)
        if projects is not None:
            self.fields["project"].queryset = projects


class SubmitProposalsForm(GuardedForm):
    note = forms.CharField(label=_("Note to the secretariat"), max_length=500, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


class DecideForm(GuardedForm):
    decision = forms.ChoiceField(label=_("Decision"), choices=[("accept", _("Accept")), ("return", _("Send back"))])
    reason = forms.CharField(label=_("Why it goes back"), max_length=500, required=False)


class WindowForm(GuardedForm):
    adjust_from = forms.DateField(label=_("Adjustments from"), widget=DateInput)
    adjust_to = forms.DateField(label=_("Adjustments until"), widget=DateInput)


class AdjustForm(GuardedForm):
    CHANGES = [(c.value, c.label) for c in PlanVersion.Change if c != PlanVersion.Change.PUBLISHED]

    change = forms.ChoiceField(label=_("Change"), choices=CHANGES)
    project = forms.ModelChoiceField(label=_("Case"), queryset=KeyProject.objects.order_by("code"))
    planned_year = WanField(label=_("Planned investment of the year (ten thousand yuan)"), required=False)
    planned_next = WanField(label=_("Planned investment of the next year (ten thousand yuan)"), required=False)
    planned_after = WanField(label=_("Planned investment of the year after (ten thousand yuan)"), required=False)
    planned_start = forms.DateField(label=_("Planned start"), widget=DateInput, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=500)
