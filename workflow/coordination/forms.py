"""Forms of the coordination steps and of a supervisor's acts: each collects one step's input for
its service."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from cases.forms import GuardedForm
from cases.models import BLOCKER_OPEN, Blocker, Person, Role, Unit
from workflow.engine.calendar import WorkingCalendar
from workflow.engine.forms import WORKING_DAYS, government_units

from . import orders
from .models import SupervisionOrder


class BlockerTriageForm(GuardedForm):
    class Decision:
        ASSIGN = "assign"
        MERGE = "merge"
        REJECT = "reject"

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("assign", _("Assign to a lead unit")),
            ("merge", _("Merge into another blocker")),
            ("reject", _("Reject")),
        ],
        widget=forms.RadioSelect,
        initial="assign",
    )
    lead_unit = forms.ModelChoiceField(label=_("Lead unit"), queryset=Unit.objects.none(), required=False)
    cooperating_units = forms.ModelMultipleChoiceField(
        label=_("Cooperating units"), queryset=Unit.objects.none(), required=False
    )
    working_days = forms.IntegerField(
        label=_("Deadline (working days)"), initial=10, required=False, **WORKING_DAYS
    )
    merged_into = forms.ModelChoiceField(label=_("Merge into"), queryset=Blocker.objects.none(), required=False)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, blocker=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_unit"].queryset = government_units()
        self.fields["cooperating_units"].queryset = government_units()
        open_ones = Blocker.objects.filter(state__in=BLOCKER_OPEN).select_related("project")
        self.fields["merged_into"].queryset = open_ones.exclude(pk=blocker.pk) if blocker else open_ones

    def clean(self):
        data = super().clean()
        decision = data.get("decision")
        if decision == "assign":
            if not data.get("lead_unit"):
                self.add_error("lead_unit", _("Choose the lead unit."))
            if not data.get("working_days"):
                self.add_error("working_days", _("Give the deadline in working days."))
        elif decision == "merge" and not data.get("merged_into"):
            self.add_error("merged_into", _("Choose the blocker to merge it into."))
        elif decision == "reject" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Give the reason for rejecting it."))
        return data


class TextForm(GuardedForm):
    text = forms.CharField(label=_("Your unit's input"), widget=forms.Textarea(attrs={"rows": 4}))


class ResolveForm(GuardedForm):
    resolution = forms.CharField(label=_("Resolution"), widget=forms.Textarea(attrs={"rows": 4}))


class VerifyForm(GuardedForm):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("close_out", _("Verified: close it out")), ("send_back", _("Not resolved: send it back"))],
        widget=forms.RadioSelect,
        initial="close_out",
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def clean(self):
        data = super().clean()
        if data.get("decision") == "send_back" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say what is still missing."))
        return data


class PreworkApproveForm(GuardedForm):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("complete", _("Approved (done)")), ("waive", _("Waived (secretariat)"))],
        widget=forms.RadioSelect,
        initial="complete",
    )
    done_on = forms.DateField(label=_("Date of the approval"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    document_number = forms.CharField(label=_("Document number"), max_length=80, required=False)
    reason = forms.CharField(label=_("Reason for waiving"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def clean(self):
        data = super().clean()
        if data.get("decision") == "complete" and not data.get("done_on"):
            self.add_error("done_on", _("Give the date of the approval."))
        if data.get("decision") == "waive" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Give the reason for waiving it."))
        return data


class OrderAnswerForm(GuardedForm):
    plan = forms.CharField(label=_("Rectification plan"), widget=forms.Textarea(attrs={"rows": 5}))
    fixed_by = forms.DateField(label=_("To be fixed by"), widget=forms.DateInput(attrs={"type": "date"}))


class OrderEvaluateForm(GuardedForm):
    accepted = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Accept the plan and close the order")), ("0", _("Reject it and reissue more urgently"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
        initial="1",
    )
    evaluation = forms.CharField(label=_("Evaluation"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class InterviewDecideForm(GuardedForm):
    approved = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Approve the interview")), ("0", _("Do not hold it"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
        initial="1",
    )
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class InterviewScheduleForm(GuardedForm):
    when = forms.DateTimeField(label=_("Date and time"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    place = forms.CharField(label=_("Place"), max_length=120)
    attendees = forms.ModelMultipleChoiceField(label=_("Attendees"), queryset=Person.objects.none(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = Person.objects.exclude(
            role__in=[Role.INSTITUTION, Role.OWNER]
        ).select_related("unit")


class InterviewHoldForm(GuardedForm):
    minutes = forms.CharField(label=_("Minutes"), widget=forms.Textarea(attrs={"rows": 6}))


class CommitmentRowForm(GuardedForm):
    text = forms.CharField(label=_("Commitment"), max_length=300, required=False)
    owner = forms.ModelChoiceField(label=pgettext_lazy("commitment", "Owner"), queryset=Person.objects.none(), required=False)
    working_days = forms.IntegerField(label=_("Working days"), required=False, **WORKING_DAYS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = Person.objects.exclude(
            role__in=[Role.INSTITUTION, Role.OWNER]
        ).select_related("unit")

    def clean(self):
        data = super().clean()
        filled = [bool(data.get(name)) for name in ("text", "owner", "working_days")]
        if any(filled) and not all(filled):
            raise ValidationError(_("A commitment needs its text, an owner and the working days allowed."))
        return data


CommitmentFormSet = forms.formset_factory(CommitmentRowForm, extra=3)


class NoteForm(GuardedForm):
    note = forms.CharField(label=_("Follow-up"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class IssueOrderForm(GuardedForm):
    subject = forms.CharField(label=_("Subject"), max_length=250)
    unit = forms.ModelChoiceField(label=_("To the unit"), queryset=Unit.objects.none())
    # Both may be left out (a form posted by a script, an older page): normal, and the default day.
    urgency = forms.TypedChoiceField(
        label=_("Urgency"),
        choices=SupervisionOrder.Urgency.choices,
        coerce=int,
        initial=SupervisionOrder.Urgency.NORMAL,
        required=False,
    )
    respond_by = forms.DateField(
        label=_("Answer due by the end of"),
        widget=forms.DateInput(attrs={"type": "date"}),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = government_units()
        self.calendar = WorkingCalendar.load()
        self.fields["respond_by"].initial = orders.default_answer_day(self.calendar)
        self.fields["respond_by"].help_text = gettext(
            "A working day after today; by default %(days)s working days from today."
        ) % {"days": orders.ANSWER_DAYS}

    def clean_urgency(self):
        urgency = self.cleaned_data.get("urgency")
        return SupervisionOrder.Urgency.NORMAL if urgency in (None, "") else urgency

    def clean_respond_by(self):
        day = self.cleaned_data.get("respond_by")
        if day is None:
            return self.fields["respond_by"].initial
        orders.check_answer_day(day, self.calendar)
        return day


class ProposeInterviewForm(GuardedForm):
    leader = forms.ModelChoiceField(label=_("Leader to interview"), queryset=Person.objects.none())
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = Person.objects.filter(role=Role.LEADER).select_related("unit")
