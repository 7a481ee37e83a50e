"""Pages of the white list of financing needs: the list, a need's page with its matches and
dockings, writing and reviewing needs, recommending a matched institution, an owner's own
needs. Thin views that read through the selectors and write through the services; amounts are
typed and shown in ten-thousand yuan, the services take yuan."""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import generic
from viewflow.forms import Layout, Row

from cases.formatting import TEN_THOUSAND
from cases.forms import GuardedForm, ServiceForm, WanField
from cases.models import AuditEvent, Industry, Role, Stage, Unit, UnitKind
from cases.selectors import project_detail
from cases.timeline import timeline_entries

from .. import matching, permissions, selectors, services
from ..models import (
    FinancingNeed,
    FinancingType,
    NeedState,
)
from ..services.needs import NEED_STEPS, can_change_need
from .common import (
    PAGE_SIZE,
    FinancingPage,
    _choices,
    _form_errors,
    _optional_url,
    _query_without_page,
    _wan,
    need_url,
    needs_home,
)


class FinancingIndexView(LoginRequiredMixin, generic.RedirectView):
    """Where the Financing menu leads: the list of needs its reader works with."""

    viewset = None

    def get_redirect_url(self, *args, **kwargs):
        return needs_home(self.request.user)[0]


class WhiteListForm(GuardedForm):
    """The white list's filters as a person types them (amounts in ten-thousand yuan)."""

    search = forms.CharField(label=gettext_lazy("search"), required=False, max_length=100)
    financing_type = forms.ChoiceField(label=gettext_lazy("type"), required=False)
    industry = forms.ChoiceField(label=gettext_lazy("industry"), required=False)
    region = forms.ModelChoiceField(label=gettext_lazy("region"), required=False, queryset=Unit.objects.none())
    stage = forms.ChoiceField(label=gettext_lazy("stage"), required=False)
    amount_min = forms.DecimalField(label=gettext_lazy("from (10k yuan)"), required=False, min_value=0, max_digits=14, decimal_places=2)
    amount_max = forms.DecimalField(label=gettext_lazy("to (10k yuan)"), required=False, min_value=0, max_digits=14, decimal_places=2)
    state = forms.ChoiceField(label=gettext_lazy("state"), required=False)

    def __init__(self, *args, internal=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["financing_type"].choices = _choices(FinancingType.choices, _("Every type"))
        self.fields["industry"].choices = _choices(Industry.choices, _("Every industry"))
        self.fields["stage"].choices = _choices(
            [(s.value, s.label) for s in (Stage.DOCKING, Stage.FINANCING, Stage.CONSTRUCTION)], _("Every stage")
        )
        self.fields["region"].queryset = Unit.objects.filter(kind=UnitKind.DISTRICT).order_by("name")
        self.fields["region"].empty_label = _("Every region")
        if internal:
            self.fields["state"].choices = _choices(NeedState.choices, _("Published"))
        else:
            del self.fields["state"]

    def params(self):
        """The selector's parameters (amounts in yuan) for the valid filters."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        params = {
            "search": data.get("search") or "",
            "financing_type": data.get("financing_type") or "",
            "industry": data.get("industry") or "",
            "stage": data.get("stage") or "",
            "region": data["region"].pk if data.get("region") else "",
            "amount_min": _wan(data.get("amount_min")),
            "amount_max": _wan(data.get("amount_max")),
            "state": data.get("state") or "",
        }
        return {key: value for key, value in params.items() if value not in ("", None)}


class WhiteListView(FinancingPage):
    """The published needs institutions may meet, filtered, a page at a time."""

    template_name = "cases/financing/white_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        internal = permissions.is_internal(user)
        form = WhiteListForm(self.request.GET or None, internal=internal)
        needs = selectors.white_list(user, form.params())
        page = Paginator(needs, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(
            {
                "form": form,
                "page": page,
                "internal": internal,
                "query": _query_without_page(self.request),
                "can_review": permissions.can_review_needs(user),
            }
        )
        return context


# A need


class NeedDetailView(FinancingPage):
    """A need with its case's public facts, the products that fit it and why, and its dockings."""

    template_name = "cases/financing/need_detail.html"

    def allowed(self, user):
        return permissions.role_of(user) is not None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        need = selectors.need_detail(user, self.kwargs["pk"])
        internal = permissions.is_internal(user)
        # Matches name institutions' products, which an owner does not read.
        show_matches = permissions.can_read_products(user)
        dockings = list(selectors.need_dockings(user, need))
        docking_pages = permissions.can_read_white_list(user)
        for docking in dockings:
            docking.url = _optional_url("financing:docking", docking.pk) if docking_pages else None
        matches = list(selectors.need_matches(user, need)) if show_matches else []
        # One docking per need and institution: a match whose institution has one shows it instead
        # of the recommendation.
        docking_of = {docking.institution_id: docking for docking in dockings}
        can_recommend = need.state == NeedState.PUBLISHED and permissions.can_manage_dockings(user, need.project)
        for match in matches:
            match.reason_texts = matching.reason_texts(match.reasons, need=need, product=match.product)
            match.docking = docking_of.get(match.institution_id)
        own = permissions.institution_ids(user)
        interest_url = None
        if (
            need.state == NeedState.PUBLISHED
            and permissions.can_express_interest(user)
            and not any(docking.institution_id in own for docking in dockings)
        ):
            interest_url = _optional_url("financing:portal_interest", need.pk)
        timeline = []
        if internal:
            events = AuditEvent.objects.filter(
                content_type=ContentType.objects.get_for_model(FinancingNeed), object_id=str(need.pk)
            ).order_by("-at", "-id")
            timeline = timeline_entries(events[:100])
            for event in timeline:
                step = NEED_STEPS.get(event.transition)
                event.transition_label = str(step.label) if step else event.transition_label
        reads_cases = internal or permissions.role_of(user) == Role.OWNER
        home_url, home_title = needs_home(user)
        context.update(
            {
                "need": need,
                "project": need.project,
                "internal": internal,
                "home_url": home_url,
                "home_title": home_title,
                "case_url": reverse("cases:projects:detail", args=[need.project_id])
                if reads_cases and permissions.can_view_project(user, need.project)
                else None,
                "show_review_note": permissions.can_read_review_note(user, need),
                "show_matches": show_matches,
                "matches": matches,
                "can_recommend": can_recommend,
                "dockings": dockings,
                "transitions": [o for o in services.need_transition_options(need, user) if o.permitted],
                "can_change": can_change_need(user, need),
                "interest_url": interest_url,
                "timeline": timeline,
            }
        )
        return context


class NeedForm(ServiceForm):
    amount = WanField(label=gettext_lazy("Amount needed (10k yuan)"), min_value=0)

    layout = Layout(
        Row("amount", "financing_type"),
        Row("term_months", "deadline"),
        "purpose",
        "collateral",
        "version",
    )

    class Meta:
        model = FinancingNeed
        fields = ["amount", "financing_type", "purpose", "term_months", "deadline", "collateral"]
        widgets = {
            "deadline": forms.DateInput(attrs={"type": "date"}),
            "purpose": forms.Textarea(attrs={"rows": 3}),
            "collateral": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["amount"] = self.instance.amount / TEN_THOUSAND
            self.initial["version"] = self.instance.version


class NeedFormView(LoginRequiredMixin, generic.FormView):
    form_class = NeedForm
    template_name = "cases/financing/need_form.html"
    viewset = None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update({"project": self.project, "need": getattr(self, "need", None), "title": self.title()})
        return context

    def form_valid(self, form):
        try:
            need = self.save(form)
        except ValidationError as error:
            form.add_service_errors(error)
            return self.form_invalid(form)
        except services.Conflict as conflict:
            form.add_error(None, conflict.message)
            return self.form_invalid(form)
        return HttpResponseRedirect(need_url(need))


class NeedCreateView(NeedFormView):
    """A case's lead unit or the secretariat drafts a need, from the case's page."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.project = project_detail(request.user, kwargs["project_pk"])
        if not permissions.can_edit_need(request.user, self.project):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def title(self):
        return _("Add a financing need")

    def save(self, form):
        need = services.need_create(project=self.project, actor=self.request.user, data=form.service_data())
        messages.success(self.request, _("The financing need was saved as a draft; submit it for review when it is ready."))
        return need


class NeedUpdateView(NeedFormView):
    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.need = selectors.need_detail(request.user, kwargs["pk"])
        self.project = self.need.project
        if not can_change_need(request.user, self.need):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.need}

    def title(self):
        return _("Change the financing need")

    def save(self, form):
        need = selectors.need_for_change(self.need.pk)
        services.need_update(
            need=need, actor=self.request.user, data=form.service_data(), expected_version=form.cleaned_data.get("version")
        )
        messages.success(self.request, _("Saved."))
        return need


class NeedTransitionForm(GuardedForm):
    reason = forms.CharField(label=gettext_lazy("Note"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, reason_required=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required


class NeedTransitionView(LoginRequiredMixin, generic.FormView):
    """Submit, publish, send back, close or withdraw a need, with a note."""

    template_name = "cases/financing/need_transition.html"
    form_class = NeedTransitionForm
    viewset = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.need = selectors.need_detail(request.user, kwargs["pk"])
        options = {o.name: o for o in services.need_transition_options(self.need, request.user)}
        self.option = options.get(kwargs["name"])
        if self.option is None:
            messages.error(request, _("This step is not possible from the current state."))
            return HttpResponseRedirect(need_url(self.need))
        if not self.option.permitted:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "reason_required": self.option.reason_required}

    def get_initial(self):
        return {"version": self.need.version}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        home_url, home_title = needs_home(self.request.user)
        context.update(
            {
                "need": self.need,
                "project": self.need.project,
                "option": self.option,
                "home_url": home_url,
                "home_title": home_title,
            }
        )
        return context

    def form_valid(self, form):
        try:
            services.need_transition(
                need=selectors.need_for_change(self.need.pk),
                transition=self.option.name,
                actor=self.request.user,
                reason=form.cleaned_data.get("reason", ""),
                expected_version=form.cleaned_data.get("version"),
            )
        except services.TransitionBlocked as blocked:
            for reason in blocked.reasons:
                form.add_error(None, reason)
            return self.form_invalid(form)
        except services.Conflict as conflict:
            form.add_error(None, conflict.message)
            return self.form_invalid(form)
        except ValidationError as error:
            _form_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Done: %(step)s.") % {"step": self.option.label})
        return HttpResponseRedirect(need_url(self.need))


class RecommendForm(GuardedForm):
    note = forms.CharField(
        label=gettext_lazy("Note"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        help_text=gettext_lazy("Optional: why this institution, whom to contact. It opens the docking's trail."),
    )


class NeedRecommendView(LoginRequiredMixin, generic.FormView):
    """The secretariat recommends a matched product's institution for a published need: a docking
    opens with it. A confirmation with an optional note; the docking opens on POST only."""

    template_name = "cases/financing/need_recommend.html"
    form_class = RecommendForm
    viewset = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.need = selectors.need_detail(request.user, kwargs["pk"])
        if not permissions.can_manage_dockings(request.user, self.need.project):
            raise PermissionDenied
        self.match = selectors.need_match(request.user, self.need, kwargs["product_pk"])
        if self.match is None:
            messages.warning(request, _("This product is not among the need's best matches (any more)."))
            return HttpResponseRedirect(f"{need_url(self.need)}#matches")
        return super().dispatch(request, *args, **kwargs)

    def _already_open(self, message, docking=None):
        docking = docking or selectors.need_docking_with(self.request.user, self.need, self.match.institution_id)
        messages.warning(self.request, message)
        return redirect("financing:docking", docking.pk) if docking else HttpResponseRedirect(need_url(self.need))

    def get(self, request, *args, **kwargs):
        docking = selectors.need_docking_with(request.user, self.need, self.match.institution_id)
        if docking is not None:
            return self._already_open(_("This institution already has a docking for this need."), docking)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        self.match.reason_texts = matching.reason_texts(self.match.reasons, need=self.need, product=self.match.product)
        context.update({"need": self.need, "project": self.need.project, "match": self.match})
        return context

    def form_valid(self, form):
        try:
            docking = services.docking_recommend(
                need=selectors.need_for_change(self.need.pk),
                product=self.match.product,
                institution=self.match.institution,
                actor=self.request.user,
                note=form.cleaned_data["note"],
            )
        except services.Conflict as conflict:
            return self._already_open(conflict.message)
        except ValidationError as error:
            _form_errors(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("%(institution)s is recommended for this need: the docking is open.")
            % {"institution": self.match.institution.name},
        )
        return redirect("financing:docking", docking.pk)


class OwnNeedsView(FinancingPage):
    """An owner enterprise's financing needs: every state of its own cases' needs, and where it may
    add one (its cases in financing docking or financing)."""

    template_name = "cases/financing/own_needs.html"

    def allowed(self, user):
        return permissions.role_of(user) == Role.OWNER

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        page = Paginator(selectors.own_needs(user), PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update({"page": page, "projects": list(selectors.projects_for_needs(user))})
        return context


# Products
