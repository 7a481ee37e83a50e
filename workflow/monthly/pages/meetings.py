"""Pages of the scheduling meeting: the list (and drafting a month's agenda), a meeting's agenda by
section with the secretariat's editing buttons, its details form and its minutes with decisions.

Thin views over ``workflow.monthly.meetings``: forms collect input, services change, selectors read.
Government people read the meetings ``selectors.meeting_scope`` lets them; the secretariat edits.
"""

import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from cases import permissions as case_permissions
from cases.forms import GuardedForm
from cases.models import KeyProject, Person, Role, Unit, UnitKind
from cases.services import Conflict
from workflow.engine.pages import InternalPage

from .. import agenda, meetings, periods, selectors
from ..forms import LocalDateTimeInput
from ..models import AgendaSection, Decision, Meeting

GOVERNMENT_PEOPLE = {"role__in": [Role.SECRETARIAT, Role.SUPERVISOR, Role.UNIT_HEAD, Role.UNIT_STAFF, Role.LEADER]}


def government_people():
    return Person.objects.filter(**GOVERNMENT_PEOPLE).select_related("unit").order_by("role", "name")


def government_units():
    return Unit.objects.exclude(kind__in=[UnitKind.INSTITUTION, UnitKind.ENTERPRISE]).order_by("kind", "name")


def error_text(error):
    if hasattr(error, "message_dict"):
        return " ".join(f"{message}" for messages_ in error.message_dict.values() for message in messages_)
    return " ".join(error.messages)


# Forms


class DraftForm(GuardedForm):
    month = forms.CharField(
        label=gettext_lazy("Month reviewed"),
        widget=forms.DateInput(attrs={"type": "month", "id": "draft-month"}),
        help_text=gettext_lazy("YYYY-MM: the month the meeting reviews, usually last month."),
    )

    def clean_month(self):
        month = periods.begun_month(self.cleaned_data["month"])
        if month is None:
            raise ValidationError(_("Choose a month that has begun, as YYYY-MM."))
        return month


class AddItemForm(GuardedForm):
    section = forms.ChoiceField(
        label=gettext_lazy("Section"),
        choices=AgendaSection.choices,
        initial=AgendaSection.OTHER,
        widget=forms.Select(attrs={"id": "add-item-section"}),
    )
    title = forms.CharField(
        label=gettext_lazy("Title"), max_length=250, widget=forms.TextInput(attrs={"id": "add-item-title"})
    )
    detail = forms.CharField(
        label=gettext_lazy("Detail"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "id": "add-item-detail"}),
    )
    project = forms.CharField(
        label=gettext_lazy("Key project code"),
        required=False,
        max_length=16,
        widget=forms.TextInput(attrs={"id": "add-item-project", "placeholder": "2026-GX-0001"}),
    )

    def clean_project(self):
        code = (self.cleaned_data.get("project") or "").strip()
        if not code:
            return None
        project = KeyProject.objects.filter(code=code).first()
        if project is None:
            raise ValidationError(_("No key project has this code."))
        return project


class MeetingDetailsForm(GuardedForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    scheduled_at = forms.DateTimeField(label=gettext_lazy("Date and time"), widget=LocalDateTimeInput)
    duration_minutes = forms.IntegerField(label=gettext_lazy("Duration (minutes)"), min_value=15, max_value=600)
    place = forms.CharField(label=gettext_lazy("Place"), max_length=120)
    chair = forms.ModelChoiceField(label=gettext_lazy("Chair"), queryset=Person.objects.none(), required=False)
    attendees = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Attending leaders and people"),
        queryset=Person.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
    )
    attending_units = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Attending units"),
        queryset=Unit.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 10}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["chair"].queryset = government_people()
        self.fields["attendees"].queryset = government_people()
        self.fields["attending_units"].queryset = government_units()


class MinutesForm(GuardedForm):
    """The minutes of each item still on the agenda, one text box each."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[f"item_{item.pk}"] = forms.CharField(
                label=item.title,
                required=False,
                initial=item.minutes,
                widget=forms.Textarea(attrs={"rows": 2, "id": f"minutes-item-{item.pk}"}),
            )

    def minutes_by_item(self):
        return {item.pk: self.cleaned_data.get(f"item_{item.pk}", "") for item in self.items}

    def item_fields(self):
        return [(item, self[f"item_{item.pk}"]) for item in self.items]


class DecisionRowForm(GuardedForm):
    text = forms.CharField(label=gettext_lazy("Decision"), max_length=300, required=False)
    owner = forms.ModelChoiceField(
        label=pgettext_lazy("decision", "Owner"), queryset=Person.objects.none(), required=False
    )
    unit = forms.ModelChoiceField(
        label=gettext_lazy("Unit (the owner's when empty)"), queryset=Unit.objects.none(), required=False
    )
    working_days = forms.IntegerField(label=gettext_lazy("Working days"), min_value=1, max_value=120, required=False)
    item = forms.TypedChoiceField(label=gettext_lazy("Agenda item"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = government_people()
        self.fields["unit"].queryset = government_units()
        self.fields["item"].choices = [("", "—")] + [(item.pk, item.title[:80]) for item in items]

    def clean(self):
        data = super().clean()
        filled = [bool(data.get(name)) for name in ("text", "owner", "working_days")]
        if any(filled) and not all(filled):
            raise ValidationError(_("A decision needs its text, an owner and the working days allowed."))
        return data


class BaseDecisionFormSet(forms.BaseFormSet):
    def __init__(self, *args, items=(), **kwargs):
        self.items = list(items)
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {"items": self.items}

    def decisions(self):
        return [
            {
                "text": row["text"],
                "owner": row["owner"],
                "unit": row.get("unit"),
                "working_days": row["working_days"],
                "item": row.get("item"),
            }
            for row in self.cleaned_data
            if row.get("text")
        ]


DecisionFormSet = forms.formset_factory(DecisionRowForm, formset=BaseDecisionFormSet, extra=4)
# Views


class MeetingPage(InternalPage):
    """A page about one meeting the reader may see (404 otherwise)."""

    secretariat_only = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if case_permissions.role_of(request.user) not in case_permissions.INTERNAL:
            raise PermissionDenied
        self.meeting = selectors.meeting_for(request.user, kwargs["pk"])
        if self.meeting is None:
            raise Http404
        if self.secretariat_only and not meetings.may_edit(request.user, self.meeting):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def back(self):
        return HttpResponseRedirect(f"/workflow/meetings/{self.meeting.pk}/")


class MeetingListView(InternalPage):
    """The meetings the reader may see; the secretariat drafts a month's agenda here."""

    template_name = "workflow/meeting_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        period = agenda.period_of_today()
        context.update(
            {
                "meetings": list(selectors.meetings(self.request.user)[:120]),
                "can_draft": case_permissions.is_secretariat(self.request.user),
                "draft_form": kwargs.get("draft_form") or DraftForm(initial={"month": f"{period:%Y-%m}"}),
                "this_month": periods.first_of_month(timezone.localdate()),
            }
        )
        return context

    def post(self, request, *args, **kwargs):
        if not case_permissions.is_secretariat(request.user):
            raise PermissionDenied
        form = DraftForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(draft_form=form))
        try:
            meeting = meetings.meeting_draft(month=form.cleaned_data["month"], actor=request.user)
        except ValidationError as error:
            messages.error(request, error_text(error))
            return HttpResponseRedirect(request.path)
        result = meeting.draft_result
        if not result.redrafted:
            messages.warning(request, _("The agenda is published already; it was not drafted again."))
        else:
            messages.success(
                request,
                _("The agenda of %(month)s is drafted: %(added)s items added, %(refreshed)s brought up to date, "
                  "%(removed)s removed.")
                % {
                    "month": f"{meeting.month:%Y-%m}",
                    "added": result.added,
                    "refreshed": result.refreshed,
                    "removed": result.removed,
                },
            )
        return HttpResponseRedirect(f"/workflow/meetings/{meeting.pk}/")


class MeetingView(MeetingPage):
    """A meeting's agenda by section; the secretariat moves, drops, restores, annotates and adds
    items, and publishes the agenda."""

    template_name = "workflow/meeting_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        meeting = self.meeting
        can_edit = meetings.may_edit(self.request.user, meeting)
        groups = selectors.agenda(meeting, include_dropped=can_edit)
        statuses = selectors.decisions_on_agenda(meeting)
        number = 0
        for group in groups:
            for index, item in enumerate(group.items):
                if not item.dropped:
                    number += 1
                    item.number = number
                item.is_first, item.is_last = index == 0, index == len(group.items) - 1
                item.decision = statuses.get(item.pk)
        context.update(
            {
                "meeting": meeting,
                "groups": groups,
                "can_edit": can_edit,
                "can_publish": can_edit and meeting.state in (Meeting.State.DRAFT, Meeting.State.PUBLISHED),
                "can_minute": can_edit,
                "can_drop_decisions": case_permissions.is_secretariat(self.request.user),
                "add_form": kwargs.get("add_form") or AddItemForm(),
                "decisions": list(meeting.decisions.all()),
                "attendees": list(meeting.attendees.all()),
                "units": list(meeting.attending_units.all()),
                "end": meeting.scheduled_at + datetime.timedelta(minutes=meeting.duration_minutes),
                "promotions_definition": agenda.PROMOTIONS_DEFINITION,
                "sections": AgendaSection.choices,
            }
        )
        return context

    ACTIONS = {"up", "down", "drop", "restore", "annotate", "add", "publish", "drop_decision"}

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action")
        if not case_permissions.is_secretariat(request.user):
            raise PermissionDenied
        if action not in self.ACTIONS:
            messages.error(request, _("Unknown action."))
            return self.back()
        version = request.POST.get("version")
        try:
            if action == "add":
                form = AddItemForm(request.POST)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(add_form=form))
                meetings.agenda_item_add(meeting=self.meeting, actor=request.user, version=version, **form.cleaned_data)
                messages.success(request, _("The item was added."))
            elif action == "publish":
                meeting = meetings.meeting_publish(meeting=self.meeting, actor=request.user, version=version)
                messages.success(
                    request,
                    _("The agenda is published; %(count)s people were sent the invitation.") % {"count": len(meeting.invited)},
                )
            elif action == "drop_decision":
                decision = self.meeting.decisions.filter(pk=_int(request.POST.get("decision"))).first()
                if decision is None:
                    raise Http404
                meetings.decision_drop(decision=decision, actor=request.user, reason=request.POST.get("reason", ""))
                messages.success(request, _("The decision was dropped."))
            else:
                self.item_action(action, request, version)
        except Conflict as conflict:
            messages.error(request, str(conflict.message))
        except ValidationError as error:
            messages.error(request, error_text(error))
        return self.back()

    def item_action(self, action, request, version):
        item = self.meeting.items.filter(pk=_int(request.POST.get("item"))).first()
        if item is None:
            raise Http404
        if action in ("up", "down"):
            meetings.agenda_item_move(item=item, actor=request.user, version=version, direction=action)
        elif action == "drop":
            meetings.agenda_item_drop(item=item, actor=request.user, version=version)
        elif action == "restore":
            meetings.agenda_item_restore(item=item, actor=request.user, version=version)
        else:
            meetings.agenda_item_annotate(item=item, actor=request.user, version=version, note=request.POST.get("note", ""))
            messages.success(request, _("The note was saved."))


def _int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 0
    return number if 0 < number < 2**31 else 0


class MeetingEditView(MeetingPage):
    """The meeting's details: title, date and time, duration, place, chair, attendees and units."""

    template_name = "workflow/meeting_form.html"
    secretariat_only = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        meeting = self.meeting
        form = kwargs.get("form") or MeetingDetailsForm(
            initial={
                "version": meeting.version,
                "title": meeting.title,
                "scheduled_at": timezone.localtime(meeting.scheduled_at),
                "duration_minutes": meeting.duration_minutes,
                "place": meeting.place,
                "chair": meeting.chair_id,
                "attendees": [person.pk for person in meeting.attendees.all()],
                "attending_units": [unit.pk for unit in meeting.attending_units.all()],
            }
        )
        context.update({"meeting": meeting, "form": form})
        return context

    def post(self, request, *args, **kwargs):
        form = MeetingDetailsForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            meetings.meeting_update(meeting=self.meeting, actor=request.user, version=version, **data)
        except Conflict as conflict:
            form.add_error(None, conflict.message)
            return self.render_to_response(self.get_context_data(form=form))
        except ValidationError as error:
            for field_name, errors in getattr(error, "message_dict", {None: error.messages}).items():
                form.add_error(field_name if field_name in form.fields else None, errors)
            return self.render_to_response(self.get_context_data(form=form))
        messages.success(request, _("The meeting's details were saved."))
        return self.back()


class MeetingMinutesView(MeetingPage):
    """The minutes of each item and the decisions, each of which becomes a task of its owner."""

    template_name = "workflow/meeting_minutes.html"
    secretariat_only = True

    def items(self):
        return [item for item in self.meeting.items.all() if not item.dropped]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        items = self.items()
        context.update(
            {
                "meeting": self.meeting,
                "form": kwargs.get("form") or MinutesForm(initial={"version": self.meeting.version}, items=items),
                "decisions": kwargs.get("decisions") or DecisionFormSet(prefix="decisions", items=items),
            }
        )
        return context

    def post(self, request, *args, **kwargs):
        items = self.items()
        form = MinutesForm(request.POST, items=items)
        decisions = DecisionFormSet(request.POST, prefix="decisions", items=items)
        if not (form.is_valid() and decisions.is_valid()):
            return self.render_to_response(self.get_context_data(form=form, decisions=decisions))
        try:
            meetings.meeting_record_minutes(
                meeting=self.meeting,
                actor=request.user,
                minutes_by_item=form.minutes_by_item(),
                decisions=decisions.decisions(),
                version=form.cleaned_data["version"],
            )
        except Conflict as conflict:
            form.add_error(None, conflict.message)
            return self.render_to_response(self.get_context_data(form=form, decisions=decisions))
        except ValidationError as error:
            for messages_ in getattr(error, "message_dict", {None: error.messages}).values():
                for message in messages_:
                    form.add_error(None, message)
            return self.render_to_response(self.get_context_data(form=form, decisions=decisions))
        count = Decision.objects.filter(meeting=self.meeting).count()
        messages.success(
            request, _("The minutes are recorded; %(count)s decisions became tasks.") % {"count": count}
        )
        return self.back()
