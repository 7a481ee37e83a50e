"""Forms of the pages. They collect input; the services validate it again and write it.

Money is entered in ten-thousand yuan (万元), as offices write it, and handed to the
services in yuan.
"""

import unicodedata
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from viewflow.forms import FieldSet, Layout, Row

from . import uploads
from .formatting import TEN_THOUSAND, in_wan
from .models import (
    BLOCKER_OPEN,
    Blocker,
    KeyProject,
    Person,
    PreworkItem,
    Role,
    Unit,
    UnitKind,
)
from .services.pipeline import IDEA_FIELDS
from .services.projects import SECRETARIAT_FIELDS

MAX_UPLOAD_BYTES = 5 * 1024 * 1024

# What people may type into the site (the API holds its text to the same rule): no control
# characters but tab and line breaks, no bidirectional overrides, and a bound on free text.
# That bound is for free text (descriptions, notes, purposes) without a length of its own in the
# model: ten thousand characters is some pages of Chinese, and keeps a request from filling the
# database.
FREE_TEXT_MAX_LENGTH = 10_000

# The only controls a person types. NUL is refused by Django's and DRF's own validator.
ALLOWED_CONTROLS = frozenset("\t\n\r\x00")
# Embeddings, overrides and isolates make text display otherwise than it reads ("Trojan source").
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def first_control_character(value):
    """The first character of ``value`` nobody types on purpose, or None."""
    for character in str(value):
        if character in BIDI_CONTROLS or (
            character not in ALLOWED_CONTROLS and unicodedata.category(character) == "Cc"
        ):
            return character
    return None


@deconstructible
class ProhibitControlCharactersValidator:
    message = _("Control characters (such as %(character)s) are not allowed.")
    code = "control_characters"

    def __call__(self, value):
        character = first_control_character(value)
        if character is not None:
            raise ValidationError(self.message, code=self.code, params={"character": f"U+{ord(character):04X}"})

    def __eq__(self, other):
        return isinstance(other, ProhibitControlCharactersValidator)


def guard_form_fields(form):
    """Refuse control characters in every text field of ``form``, and bound the unbounded ones."""
    for field in form.fields.values():
        if not isinstance(field, forms.CharField) or field.disabled:
            continue
        if not any(isinstance(v, ProhibitControlCharactersValidator) for v in field.validators):
            field.validators.append(ProhibitControlCharactersValidator())
        if field.max_length is None:
            field.max_length = FREE_TEXT_MAX_LENGTH
            field.validators.append(MaxLengthValidator(FREE_TEXT_MAX_LENGTH))
            field.widget.attrs.update(field.widget_attrs(field.widget))


UNIT_WORDS = ("万元", "万")


class WanField(forms.DecimalField):
    """An amount typed in ten-thousand yuan, cleaned to yuan. Shown grouped as the language groups
    figures (1,250.50), in a text box with the phone's decimal keypad: a number box would refuse the
    separators; typed separators and the unit are read too."""

    widget = forms.TextInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 18)
        kwargs.setdefault("decimal_places", 6)
        kwargs.setdefault("min_value", Decimal("0"))
        super().__init__(*args, **kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        for number_only in ("step", "min", "max"):
            attrs.pop(number_only, None)
        return {**attrs, "inputmode": "decimal", "autocomplete": "off"}

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip()
            for word in UNIT_WORDS:
                value = value.removesuffix(word).strip()
            value = value.replace(",", "").replace("，", "").replace(" ", "")
        return super().to_python(value)

    def prepare_value(self, value):
        """A figure in 万元 (the form's initial value) grouped, at least two places and as many more
        as it has; what was typed stays as typed."""
        if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
            value = Decimal(value)
            places = max(2, -value.normalize().as_tuple().exponent) if value else 2
            return number_format(value, decimal_pos=places, force_grouping=True)
        return value

    def clean(self, value):
        value = super().clean(value)
        if value is None:
            return None
        return (value * TEN_THOUSAND).quantize(Decimal("0.01"))


class GuardedForm(forms.Form):
    """The site's forms: their text follows the site's rule (``guard_form_fields``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        guard_form_fields(self)


class GuardedModelForm(forms.ModelForm):
    """The site's model forms (the admin's are Django's): their text follows the site's rule."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        guard_form_fields(self)


class ServiceForm(forms.ModelForm):
    """A model form that never writes: its cleaned data goes to a service.

    ModelForm's own post-clean step would copy the input onto the instance before the
    service could compare old and new values for the audit trail; the service validates
    the model instead.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A change is checked against the version the form was read at: one without it would
        # overwrite whatever someone else saved meanwhile.
        self.fields["version"].required = self.instance.pk is not None
        guard_form_fields(self)

    def _post_clean(self):
        pass

    def add_service_errors(self, error):
        """Put a ValidationError from a service on the fields it names, or on the form."""
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                target = self.error_field_map.get(field, field) if hasattr(self, "error_field_map") else field
                self.add_error(target if target in self.fields else None, messages)
        else:
            self.add_error(None, error)

    def service_data(self):
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data


class ProjectForm(ServiceForm):
    money_fields = ["total_investment", "investment_completed_total", "capital_gap"]

    total_investment = WanField(label=_("Total investment (10k yuan)"))
    investment_completed_total = WanField(label=_("Investment completed, cumulative (10k yuan)"), initial=0)
    capital_gap = WanField(label=_("Capital gap (10k yuan)"), initial=0)
    plan_this_year = WanField(label=_("Planned investment this year (10k yuan)"), required=False)
    completed_this_year = WanField(label=_("Investment completed this year (10k yuan)"), required=False)
    plan_next_year = WanField(label=_("Planned investment next year (10k yuan)"), required=False)

    error_field_map = {"annual_plans": "plan_this_year"}

    layout = Layout(
        Row("code", "project_code"),
        "name",
        "description",
        Row("industry", "industry_cluster"),
        Row("project_type", "level", "demonstration"),
        Row("region", "owner"),
        Row("lead_unit", "responsible_leader"),
        "cooperating_units",
        FieldSet(
            _("Investment"),
            Row("total_investment", "investment_completed_total", "capital_gap"),
            Row("land_area_mu"),
            Row("plan_this_year", "completed_this_year", "plan_next_year"),
        ),
        FieldSet(
            _("Schedule"),
            Row("planned_start", "planned_finish"),
            Row("actual_start", "actual_finish", "completion_accepted_on"),
        ),
        "financing_waiver_reason",
        "version",
    )

    class Meta:
        model = KeyProject
        fields = [
            "code",
            "project_code",
            "name",
            "description",
            "industry",
            "industry_cluster",
            "project_type",
            "land_area_mu",
            "level",
            "demonstration",
            "region",
            "owner",
            "lead_unit",
            "responsible_leader",
            "cooperating_units",
            "planned_start",
            "planned_finish",
            "actual_start",
            "actual_finish",
            "completion_accepted_on",
            "financing_waiver_reason",
        ]
        widgets = {
            "planned_start": forms.DateInput(attrs={"type": "date"}),
            "planned_finish": forms.DateInput(attrs={"type": "date"}),
            "actual_start": forms.DateInput(attrs={"type": "date"}),
            "actual_finish": forms.DateInput(attrs={"type": "date"}),
            "completion_accepted_on": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 3}),
            "financing_waiver_reason": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, secretariat=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.year = timezone.localdate().year
        self.fields["region"].queryset = Unit.objects.filter(kind=UnitKind.DISTRICT)
        self.fields["owner"].queryset = Unit.objects.filter(kind=UnitKind.ENTERPRISE)
        internal = Unit.objects.exclude(kind__in=[UnitKind.INSTITUTION, UnitKind.ENTERPRISE])
        self.fields["lead_unit"].queryset = internal
        self.fields["cooperating_units"].queryset = internal
        self.fields["responsible_leader"].queryset = Person.objects.filter(role=Role.LEADER).select_related("unit")
        self.fields["code"].required = True
        self.fields["code"].help_text = _("Like 2026-GX-0012.")
        project = self.instance if self.instance.pk else None
        if project is not None:
            self.initial["version"] = project.version
            for name in self.money_fields:
                self.initial[name] = in_wan(getattr(project, name))
            plans = {plan.year: plan for plan in project.annual_plans.all()}
            if self.year in plans:
                self.initial["plan_this_year"] = in_wan(plans[self.year].planned_investment)
                self.initial["completed_this_year"] = in_wan(plans[self.year].completed_investment)
            if self.year + 1 in plans:
                self.initial["plan_next_year"] = in_wan(plans[self.year + 1].planned_investment)
        if not secretariat:
            for name in SECRETARIAT_FIELDS & set(self.fields):
                self.fields[name].disabled = True

    def annual_plans(self):
        plans = []
        planned = self.cleaned_data.get("plan_this_year")
        completed = self.cleaned_data.get("completed_this_year")
        if planned is not None or completed is not None:
            plans.append(
                {
                    "year": self.year,
                    "planned_investment": planned or Decimal("0"),
                    "completed_investment": completed or Decimal("0"),
                }
            )
        if self.cleaned_data.get("plan_next_year") is not None:
            plans.append({"year": self.year + 1, "planned_investment": self.cleaned_data["plan_next_year"]})
        return plans

    def service_data(self):
        data = super().service_data()
        for name in ("plan_this_year", "completed_this_year", "plan_next_year"):
            data.pop(name, None)
        for name, field in self.fields.items():
            if field.disabled:
                data.pop(name, None)
        return data


class IdeaForm(ServiceForm):
    """A project idea (谋划): what a unit knows of it early, which need not be complete."""

    total_investment = WanField(label=_("Total investment, rough (10k yuan)"), required=False)

    layout = Layout(
        "name",
        "project_code",
        "description",
        Row("industry", "industry_cluster"),
        Row("project_type", "region"),
        "lead_unit",
        Row("total_investment", "land_area_mu"),
        "planned_start",
    )

    class Meta:
        model = KeyProject
        fields = [name for name in IDEA_FIELDS if name != "total_investment"]  # in 万元, above
        widgets = {
            "planned_start": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, secretariat=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Unit.objects.filter(kind=UnitKind.DISTRICT)
        self.fields["lead_unit"].queryset = Unit.objects.exclude(kind__in=[UnitKind.INSTITUTION, UnitKind.ENTERPRISE])
        self.fields["lead_unit"].label = _("Proposing unit")
        if secretariat:
            self.fields["lead_unit"].required = True
        else:
            # A unit's idea is its own: the service sets the unit. The platform's project code is the
            # project office's to record, as on every case.
            del self.fields["lead_unit"]
            del self.fields["project_code"]
            self.layout = Layout(
                "name",
                "description",
                Row("industry", "industry_cluster"),
                Row("project_type", "region"),
                Row("total_investment", "land_area_mu"),
                "planned_start",
            )

    def service_data(self):
        data = super().service_data()
        if data.get("total_investment") is None:
            data["total_investment"] = Decimal("0")
        return data


class PreworkItemForm(ServiceForm):
    layout = Layout(
        Row("kind", "title"),
        Row("approving_unit", "statutory_days", "required"),
        Row("started_on", "done_on", "document_number"),
        "note",
        "version",
    )

    class Meta:
        model = PreworkItem
        fields = [
            "kind",
            "title",
            "required",
            "approving_unit",
            "statutory_days",
            "started_on",
            "done_on",
            "document_number",
            "note",
        ]
        widgets = {
            "started_on": forms.DateInput(attrs={"type": "date"}),
            "done_on": forms.DateInput(attrs={"type": "date"}),
            "note": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approving_unit"].queryset = Unit.objects.filter(
            kind__in=[UnitKind.DEPARTMENT, UnitKind.DISTRICT, UnitKind.PARK]
        )
        if self.instance.pk:
            self.initial["version"] = self.instance.version


class BlockerForm(ServiceForm):
    layout = Layout(
        "title",
        "description",
        Row("category", "due_on"),
        Row("lead_unit"),
        "cooperating_units",
        "version",
    )

    class Meta:
        model = Blocker
        fields = ["title", "description", "category", "lead_unit", "cooperating_units", "due_on"]
        widgets = {
            "due_on": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, secretariat=True, **kwargs):
        super().__init__(*args, **kwargs)
        internal = Unit.objects.exclude(kind__in=[UnitKind.INSTITUTION, UnitKind.ENTERPRISE])
        self.fields["lead_unit"].queryset = internal
        self.fields["cooperating_units"].queryset = internal
        if not secretariat:
            # Who leads it and by when is decided when the secretariat assigns it.
            for name in ("lead_unit", "cooperating_units", "due_on"):
                del self.fields[name]
            self.layout = Layout("title", "description", "category", "version")
        if self.instance.pk:
            self.initial["version"] = self.instance.version


# What each transition asks for, besides a reason: model fields of the record. The layers above
# add their records' (``ask_on_transition``); amounts among them are typed in 万元.
TRANSITION_FORM_FIELDS = {
    PreworkItem: {"start": ["started_on"], "complete": ["done_on", "document_number"]},
    Blocker: {
        "assign": ["lead_unit", "cooperating_units", "due_on"],
        "resolve": ["resolution"],
        "merge": ["merged_into"],
    },
}
WAN_TRANSITION_FIELDS = set()


def ask_on_transition(model, fields, *, amounts=()):
    """``fields`` maps a transition of ``model`` to the model fields its form asks for; the ones
    named in ``amounts`` are money, typed in 万元."""
    TRANSITION_FORM_FIELDS[model] = fields
    WAN_TRANSITION_FIELDS.update(amounts)


def transition_form_class(model, name, *, reason_required):
    """A form for taking transition ``name`` on a ``model`` record."""
    extra = TRANSITION_FORM_FIELDS.get(model, {}).get(name, [])
    field_map = forms.fields_for_model(
        model,
        fields=[f for f in extra if f not in WAN_TRANSITION_FIELDS],
        widgets={
            "started_on": forms.DateInput(attrs={"type": "date"}),
            "done_on": forms.DateInput(attrs={"type": "date"}),
            "due_on": forms.DateInput(attrs={"type": "date"}),
            "disbursed_on": forms.DateInput(attrs={"type": "date"}),  # a docking's
            "resolution": forms.Textarea(attrs={"rows": 3}),
        },
    )
    for name_ in extra:
        if name_ in WAN_TRANSITION_FIELDS:
            field_map[name_] = WanField(label=_("Amount (10k yuan)"))
    if "lead_unit" in field_map:
        internal = Unit.objects.exclude(kind__in=[UnitKind.INSTITUTION, UnitKind.ENTERPRISE])
        field_map["lead_unit"].queryset = internal
        field_map["lead_unit"].required = True
        field_map["cooperating_units"].queryset = internal
    if "resolution" in field_map:
        field_map["resolution"].required = True
    if "merged_into" in field_map:
        field_map["merged_into"].queryset = Blocker.objects.filter(state__in=BLOCKER_OPEN).select_related("project")
        field_map["merged_into"].required = True
    attrs = {
        **field_map,
        "reason": forms.CharField(
            label=_("Reason"),
            required=reason_required,
            widget=forms.Textarea(attrs={"rows": 2}),
            max_length=2000,
        ),
        "version": forms.IntegerField(widget=forms.HiddenInput),
        "extra_fields": extra,
    }
    return type(f"{model.__name__}{name.title()}Form", (TransitionForm,), attrs)


class TransitionForm(forms.Form):
    """The base of ``transition_form_class``'s forms: their text follows the site's rule."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        guard_form_fields(self)


class ImportForm(GuardedForm):
    file = forms.FileField(
        label=_("Excel file (.xlsx)"),
        help_text=_("Fill in the template; the first sheet is read."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise ValidationError(_("Upload an .xlsx file."))
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(_("The file is larger than 5 MB."))
        if uploads.sniff(upload) != "xlsx":
            raise ValidationError(
                _("%(name)s is not an Excel workbook (.xlsx) by its content: save it in Excel as “Excel Workbook” and upload that.")
                % {"name": upload.name}
            )
        return upload
