"""Pages of the docking funnel and of matchmaking events, in the Financing application.

A docking's page shows its funnel (each step with its date and amount) and its audit trail,
with a form for each step the reader may take; the same page serves the secretariat, the
case's people and the institution's own people (``permissions.docking_scope``). The events
pages are the secretariat's (plan, pitch, invite, attendance, intents signed on the spot);
an institution's people read the events their institution is invited to.

Thin views: forms collect input, ``services`` write, ``docking_selectors`` read.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import generic

from cases.forms import GuardedForm, WanField, transition_form_class
from cases.models import Industry, KeyProject, Role, Unit

from .. import permissions, services
from .. import selectors as docking_selectors
from ..models import Docking, FinancingNeed, MatchmakingEvent
from ..services import events as event_services
from ..services.dockings import DOCKING_TRANSITION_FIELDS

STATUS_OF = {
    services.Conflict: 409,
    services.TransitionNotAvailable: 409,
    services.TransitionBlocked: 400,
    ValidationError: 400,
    PermissionDenied: 403,
}


def add_service_error(form, error):
    """Put a service's refusal on the form: reasons and conflicts on top, field errors by field."""
    if isinstance(error, services.TransitionBlocked):
        for reason in error.reasons:
            form.add_error(None, reason)
    elif isinstance(error, services.ServiceError):
        form.add_error(None, str(error.message))
    elif isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for name, messages_ in error.message_dict.items():
            form.add_error(name if name in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages if isinstance(error, ValidationError) else str(error))


def status_of(error):
    return next(status for kind, status in STATUS_OF.items() if isinstance(error, kind))


SERVICE_ERRORS = (services.ServiceError, ValidationError, PermissionDenied)


class FinancingPage(LoginRequiredMixin, generic.TemplateView):
    """A page of the Financing application: for government people and institutions' people."""

    viewset = None

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not permissions.can_read_white_list(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


# A docking's page


class DockingView(FinancingPage):
    """The funnel of one docking, its audit trail and the forms of the steps the reader may take."""

    template_name = "cases/financing/docking_detail.html"

    def get_docking(self):
        return docking_selectors.docking_detail(self.request.user, self.kwargs["pk"])

    def step_forms(self, docking, bound=None):
        """(option, form, reasons) for each step from the current state; the form only where it is
        permitted. A step that asks for amounts shows no guard reasons: its form gives them."""
        rows = []
        for option in services.transition_options(docking, self.request.user):
            form, reasons = None, option.reasons
            if option.permitted:
                form_class = transition_form_class(Docking, option.name, reason_required=option.reason_required)
                if form_class.extra_fields:
                    reasons = []
                if bound is not None and bound.prefix == option.name:
                    form = bound
                else:
                    form = form_class(prefix=option.name, initial={"version": docking.version})
            rows.append((option, form, reasons))
        return rows

    def get_context_data(self, bound=None, **kwargs):
        context = super().get_context_data(**kwargs)
        docking = getattr(self, "docking", None) or self.get_docking()
        trail = docking_selectors.docking_trail(docking)
        context.update(
            {
                "docking": docking,
                "project": docking.project,
                "funnel": docking_selectors.funnel(docking, trail),
                "trail": trail,
                "steps": self.step_forms(docking, bound),
                "bound": bound,
                "is_institution": permissions.role_of(self.request.user) == Role.INSTITUTION,
            }
        )
        return context


class DockingStepView(DockingView):
    """POST: take one step of a docking; the page again with the errors when it is refused."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        self.docking = self.get_docking()
        name = request.POST.get("transition", "")
        option = {o.name: o for o in services.transition_options(self.docking, request.user)}.get(name)
        if option is None:
            # A step that does not start here: a conflict for whoever may move the docking at all.
            asked = name if name in DOCKING_TRANSITION_FIELDS else "contact"
            if not permissions.can_transition(request.user, self.docking, asked):
                raise PermissionDenied
            form = transition_form_class(Docking, asked, reason_required=False)(request.POST, prefix=name)
            form.is_valid()
            form.add_error(None, services.TransitionNotAvailable(name, self.docking.get_state_display()).message)
            return self.render_to_response(self.get_context_data(bound=form), status=409)
        if not option.permitted:
            raise PermissionDenied
        form_class = transition_form_class(Docking, name, reason_required=option.reason_required)
        form = form_class(request.POST, prefix=name)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(bound=form), status=400)
        data = form.cleaned_data
        fields = {k: data[k] for k in form.extra_fields if data.get(k) not in (None, "")}
        try:
            docking = services.docking_transition(
                docking=Docking.objects.select_related("project", "need", "institution").get(pk=self.docking.pk),
                transition=name,
                actor=request.user,
                reason=data.get("reason", ""),
                fields=fields,
                expected_version=data.get("version"),
            )
        except SERVICE_ERRORS as error:
            add_service_error(form, error)
            self.docking = self.get_docking()
            return self.render_to_response(self.get_context_data(bound=form), status=status_of(error))
        messages.success(request, _("Done: %(step)s.") % {"step": option.label})
        return HttpResponseRedirect(reverse("financing:docking", args=[docking.pk]))


# Matchmaking events: forms


class EventForm(GuardedForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=MatchmakingEvent.Kind.choices)
    chain = forms.ChoiceField(label=gettext_lazy("Industrial chain"), choices=Industry.choices)
    starts_at = forms.DateTimeField(
        label=gettext_lazy("Starts at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label=gettext_lazy("Ends at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    place = forms.CharField(label=gettext_lazy("Place"), max_length=200)
    projects = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Projects pitched"),
        queryset=docking_selectors.pitchable_projects().none(),
        required=False,
        help_text=gettext_lazy("Key projects with a need on the white list; those of the chain are suggested on the event's page."),
        widget=forms.SelectMultiple(attrs={"size": 10}),
    )
    summary = forms.CharField(
        label=gettext_lazy("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["projects"].queryset = docking_selectors.pitchable_projects().order_by("industry", "code")


class InviteForm(GuardedForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    institutions = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Institutions to invite"),
        queryset=Unit.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, event, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institutions"].queryset = docking_selectors.institutions_to_invite().exclude(
            pk__in=event.invitations.values("institution_id")
        )


class AttendanceForm(GuardedForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    attended = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Institutions that came"),
        queryset=Unit.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, event, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attended"].queryset = docking_selectors.invited_institutions(event)


class SigningForm(GuardedForm):
    need = forms.ModelChoiceField(label=gettext_lazy("Financing need"), queryset=FinancingNeed.objects.none())
    institution = forms.ModelChoiceField(label=gettext_lazy("Institution"), queryset=Unit.objects.none())
    amount = WanField(label=gettext_lazy("Intended amount (10k yuan)"))

    def __init__(self, *args, event, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["need"].queryset = docking_selectors.signable_needs(event)
        self.fields["need"].label_from_instance = lambda need: (
            f"{need.project.code} {need.project.name} · {need.get_financing_type_display()} · {need.purpose[:40]}"
        )
        self.fields["institution"].queryset = docking_selectors.invited_institutions(event)


class CloseForm(GuardedForm):
    version = forms.IntegerField(widget=forms.HiddenInput)  # the event's, as read: checked
    summary = forms.CharField(
        label=gettext_lazy("Summary of the event"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class PitchForm(GuardedForm):
    version = forms.IntegerField(widget=forms.HiddenInput)  # the event's, as read: checked
    projects = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Projects to pitch"), queryset=KeyProject.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, event, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["projects"].queryset = docking_selectors.suggested_projects(event)


# Matchmaking events: pages


class EventListView(FinancingPage):
    template_name = "cases/financing/event_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["events"] = list(docking_selectors.event_list(self.request.user))
        context["can_manage"] = permissions.can_manage_events(self.request.user)
        return context


class EventView(FinancingPage):
    """An event: its projects and their needs, the invitations, the intents signed; the secretariat's
    buttons, the chain's suggested projects and closing the event."""

    template_name = "cases/financing/event_detail.html"

    def get_event(self):
        return docking_selectors.event_detail(self.request.user, self.kwargs["pk"])

    def get_context_data(self, pitch_form=None, close_form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        event = getattr(self, "event", None) or self.get_event()
        can_manage = permissions.can_manage_events(self.request.user)
        context.update(
            {
                "event": event,
                "can_manage": can_manage,
                "begun": event.starts_at <= timezone.now(),
                "is_institution": permissions.role_of(self.request.user) == Role.INSTITUTION,
            }
        )
        if can_manage:
            context["pitch_form"] = pitch_form or PitchForm(event=event, initial={"version": event.version})
            context["suggestions"] = list(docking_selectors.suggested_projects(event))
            context["close_form"] = close_form or CloseForm(initial={"version": event.version})
        return context

    def post(self, request, *args, **kwargs):
        if not permissions.can_manage_events(request.user):
            raise PermissionDenied
        self.event = self.get_event()
        action = request.POST.get("action")
        if action == "pitch":
            form = PitchForm(request.POST, event=self.event)
            key = "pitch_form"
        elif action == "close":
            form = CloseForm(request.POST)
            key = "close_form"
        else:
            raise PermissionDenied
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(**{key: form}), status=400)
        data = form.cleaned_data
        try:
            if action == "pitch":
                projects = [*self.event.project_rows, *data["projects"]]
                event_services.event_update(
                    event=self.event, actor=request.user, data={}, projects=projects,
                    expected_version=data.get("version"),
                )
                messages.success(request, _("The projects are pitched at the event."))
            else:
                event_services.event_close(
                    event=self.event, actor=request.user, summary=data["summary"], expected_version=data.get("version")
                )
                messages.success(request, _("The event is closed."))
        except SERVICE_ERRORS as error:
            add_service_error(form, error)
            self.event = self.get_event()
            return self.render_to_response(self.get_context_data(**{key: form}), status=status_of(error))
        return HttpResponseRedirect(reverse("financing:event", args=[self.event.pk]))


class EventFormMixin(FinancingPage):
    """A secretariat's form about one event (or a new one): GET shows it, POST calls the service."""

    template_name = "cases/financing/event_form.html"
    form_class = None
    title = ""
    submit_label = gettext_lazy("Save")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not permissions.can_manage_events(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_event(self):
        if "pk" not in self.kwargs:
            return None
        return docking_selectors.event_detail(self.request.user, self.kwargs["pk"])

    def form_kwargs(self):
        return {"event": self.event} if self.event is not None else {}

    def get_initial(self):
        return {"version": self.event.version} if self.event is not None else {}

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            {
                "event": self.event,
                "form": form or self.form_class(initial=self.get_initial(), **self.form_kwargs()),
                "title": self.title,
                "submit_label": self.submit_label,
            }
        )
        return context

    def get(self, request, *args, **kwargs):
        self.event = self.get_event()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.event = self.get_event()
        form = self.form_class(request.POST, **self.form_kwargs())
        if self.event is not None and "version" in form.fields:
            form.fields["version"].required = True  # a change is checked against the version read
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        try:
            target = self.perform(form.cleaned_data)
        except SERVICE_ERRORS as error:
            add_service_error(form, error)
            return self.render_to_response(self.get_context_data(form=form), status=status_of(error))
        return HttpResponseRedirect(target)


EVENT_FIELDS = ["title", "kind", "chain", "starts_at", "ends_at", "place", "summary"]


class EventCreateView(EventFormMixin):
    form_class = EventForm
    title = gettext_lazy("Plan a matchmaking event")

    def perform(self, data):
        event = event_services.event_create(
            actor=self.request.user, data={k: data[k] for k in EVENT_FIELDS}, projects=data["projects"]
        )
        messages.success(self.request, _("The event is planned."))
        return reverse("financing:event", args=[event.pk])


class EventEditView(EventFormMixin):
    form_class = EventForm
    title = gettext_lazy("Change the event")

    def form_kwargs(self):
        return {}

    def get_initial(self):
        event = self.event
        return {
            "version": event.version,
            **{k: getattr(event, k) for k in EVENT_FIELDS},
            "starts_at": timezone.localtime(event.starts_at).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": timezone.localtime(event.ends_at).strftime("%Y-%m-%dT%H:%M"),
            "projects": [p.pk for p in event.project_rows],
        }

    def perform(self, data):
        event_services.event_update(
            event=self.event,
            actor=self.request.user,
            data={k: data[k] for k in EVENT_FIELDS},
            projects=data["projects"],
            expected_version=data.get("version"),
        )
        messages.success(self.request, _("The event is changed."))
        return reverse("financing:event", args=[self.event.pk])


class EventInviteView(EventFormMixin):
    form_class = InviteForm
    title = gettext_lazy("Invite institutions")
    submit_label = gettext_lazy("Send the invitations")

    def perform(self, data):
        invited = event_services.event_invite(
            event=self.event,
            institutions=data["institutions"],
            actor=self.request.user,
            expected_version=data.get("version"),
        )
        messages.success(self.request, _("%(count)s institutions are invited.") % {"count": len(invited)})
        return reverse("financing:event", args=[self.event.pk])


class EventAttendanceView(EventFormMixin):
    form_class = AttendanceForm
    title = gettext_lazy("Record the attendance")

    def get_initial(self):
        return {
            "version": self.event.version,
            "attended": [i.institution_id for i in self.event.invitation_rows if i.attended],
        }

    def perform(self, data):
        event_services.event_record_attendance(
            event=self.event,
            attended=data["attended"],
            actor=self.request.user,
            expected_version=data.get("version"),
        )
        messages.success(self.request, _("The attendance is recorded."))
        return reverse("financing:event", args=[self.event.pk])


class EventSignView(EventFormMixin):
    form_class = SigningForm
    title = gettext_lazy("Record an intent signed at the event")
    submit_label = gettext_lazy("Record the intent")

    def get_initial(self):
        return {}

    def perform(self, data):
        docking = event_services.event_sign_intent(
            event=self.event,
            need=data["need"],
            institution=data["institution"],
            amount=data["amount"],
            actor=self.request.user,
        )
        messages.success(self.request, _("The intent is recorded; its follow-up is in the lead unit's queue."))
        return reverse("financing:docking", args=[docking.pk])
