"""Pages of the white list of financing needs and of institutions' products: thin views that read
through ``financing_selectors`` and write through the services. Amounts are typed and shown in
ten-thousand yuan; the services take yuan."""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import generic
from viewflow.forms import FieldSet, Layout, Row

from . import financing_selectors as selectors
from . import matching, permissions, services
from .formatting import TEN_THOUSAND
from .forms import ServiceForm, WanField
from .models import (
    INDUSTRY_BITS,
    STAGE_BITS,
    AuditEvent,
    FinancialProduct,
    FinancingNeed,
    FinancingType,
    Industry,
    InstitutionType,
    NeedState,
    Role,
    SpecialLine,
    Stage,
    Unit,
    UnitKind,
    values_of,
)
from .selectors import project_detail
from .services.financing import NEED_STEPS, can_change_need
from .timeline import timeline_entries

PAGE_SIZE = 25


def need_url(need):
    return reverse("financing:need_detail", args=[need.pk])


def product_url(product):
    return reverse("financing:product_detail", args=[product.pk])


def _optional_url(name, *args):
    """The address of a page another part of the application provides, or None without it."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _wan(value):
    return value * TEN_THOUSAND if value is not None else None


def needs_home(user):
    """(address, title) of the list a need's page leads back to: an owner enterprise's people their
    own needs, everyone else the white list."""
    if permissions.role_of(user) == Role.OWNER:
        return reverse("financing:own_needs"), _("Our financing needs")
    return reverse("financing:white_list"), _("White list of financing needs")


class FinancingIndexView(LoginRequiredMixin, generic.RedirectView):
    """Where the Financing menu leads: the list of needs its reader works with."""

    viewset = None

    def get_redirect_url(self, *args, **kwargs):
        return needs_home(self.request.user)[0]


def _query_without_page(request):
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


class FinancingPage(LoginRequiredMixin, generic.TemplateView):
    """A page for the white list's readers: government people and institutions' people."""

    viewset = None

    def allowed(self, user):
        return permissions.can_read_white_list(user)

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not self.allowed(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def _form_errors(form, error):
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# The white list


def _choices(choices, blank):
    return [("", blank), *choices]


class WhiteListForm(forms.Form):
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


class NeedTransitionForm(forms.Form):
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


class RecommendForm(forms.Form):
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


class ProductFilterForm(forms.Form):
    search = forms.CharField(label=gettext_lazy("search"), required=False, max_length=100)
    financing_type = forms.ChoiceField(label=gettext_lazy("type"), required=False)
    special_line = forms.ChoiceField(label=gettext_lazy("special line"), required=False)
    institution_type = forms.ChoiceField(label=gettext_lazy("type of institution"), required=False)
    industry = forms.ChoiceField(label=gettext_lazy("industry"), required=False)
    stage = forms.ChoiceField(label=gettext_lazy("stage"), required=False)
    region = forms.ModelChoiceField(label=gettext_lazy("region"), required=False, queryset=Unit.objects.none())
    amount = forms.DecimalField(label=gettext_lazy("amount (10k yuan)"), required=False, min_value=0, max_digits=14, decimal_places=2)
    active = forms.ChoiceField(label=gettext_lazy("active"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["financing_type"].choices = _choices(FinancingType.choices, _("Every type"))
        self.fields["special_line"].choices = _choices(SpecialLine.choices[1:], _("Any or none"))
        self.fields["institution_type"].choices = _choices(InstitutionType.choices, _("Every institution"))
        self.fields["industry"].choices = _choices(Industry.choices, _("Every industry"))
        self.fields["stage"].choices = _choices(Stage.choices, _("Every stage"))
        self.fields["region"].queryset = Unit.objects.filter(kind=UnitKind.DISTRICT).order_by("name")
        self.fields["region"].empty_label = _("Every region")
        self.fields["active"].choices = [("", _("Active")), ("inactive", _("Inactive")), ("all", _("Active or not"))]

    def params(self):
        if not self.is_valid():
            return {"is_active": True}
        data = self.cleaned_data
        params = {
            key: data.get(key) or ""
            for key in ("search", "financing_type", "special_line", "institution_type", "industry", "stage")
        }
        params["region"] = data["region"].pk if data.get("region") else ""
        params["amount"] = _wan(data.get("amount"))
        active = data.get("active") or ""
        params["is_active"] = {"": True, "inactive": False}.get(active, "")
        return {key: value for key, value in params.items() if value not in ("", None)}


class ProductListView(FinancingPage):
    template_name = "cases/financing/product_list.html"

    def allowed(self, user):
        return permissions.can_read_products(user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        form = ProductFilterForm(self.request.GET or None)
        page = Paginator(selectors.products(user, form.params()), PAGE_SIZE).get_page(self.request.GET.get("page"))
        for product in page:
            product.industry_labels = _labels(product.industries_mask, INDUSTRY_BITS, Industry)
        context.update(
            {
                "form": form,
                "page": page,
                "query": _query_without_page(self.request),
                "can_add": selectors.institutions(user).exists() and (
                    permissions.is_secretariat(user) or bool(permissions.institution_ids(user))
                ),
            }
        )
        return context


def _labels(mask, bits, choices):
    labels = dict(choices.choices)
    return [labels[value] for value in values_of(mask, bits)]


class ProductDetailView(FinancingPage):
    template_name = "cases/financing/product_detail.html"

    def allowed(self, user):
        return permissions.can_read_products(user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        product = selectors.product_detail(user, self.kwargs["pk"])
        needs = Paginator(selectors.needs_for_product(product, user), PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(
            {
                "product": product,
                "industries": _labels(product.industries_mask, INDUSTRY_BITS, Industry),
                "stages": _labels(product.stages_mask, STAGE_BITS, Stage),
                "regions": list(product.regions.all()),
                "needs": needs,
                "can_manage": permissions.can_manage_product(user, product.institution_id),
            }
        )
        return context


class ProductForm(ServiceForm):
    amount_min = WanField(label=gettext_lazy("Smallest amount (10k yuan)"))
    amount_max = WanField(label=gettext_lazy("Largest amount (10k yuan)"))
    industries = forms.MultipleChoiceField(
        label=gettext_lazy("Target industries"),
        required=False,
        choices=Industry.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None for every industry."),
    )
    stages = forms.MultipleChoiceField(
        label=gettext_lazy("Target stages"),
        required=False,
        choices=[(s.value, s.label) for s in (Stage.PREWORK, Stage.DOCKING, Stage.FINANCING, Stage.CONSTRUCTION)],
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None for every stage."),
    )

    layout = Layout(
        Row("institution", "name"),
        Row("financing_type", "special_line"),
        FieldSet(gettext_lazy("Terms"), Row("amount_min", "amount_max"), Row("rate_min", "rate_max"), Row("term_months_min", "term_months_max")),
        FieldSet(gettext_lazy("Whom it serves"), "industries", "stages", "regions"),
        "description",
        "is_active",
        "version",
    )

    class Meta:
        model = FinancialProduct
        fields = [
            "institution",
            "name",
            "financing_type",
            "special_line",
            "rate_min",
            "rate_max",
            "term_months_min",
            "term_months_max",
            "regions",
            "description",
            "is_active",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3}), "regions": forms.CheckboxSelectMultiple}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = selectors.institutions(user)
        self.fields["regions"].queryset = Unit.objects.filter(kind=UnitKind.DISTRICT).order_by("name")
        self.fields["regions"].help_text = _("None for every region.")
        product = self.instance
        if product.pk and not self.is_bound:
            self.initial["version"] = product.version
            self.initial["amount_min"] = product.amount_min / TEN_THOUSAND
            self.initial["amount_max"] = product.amount_max / TEN_THOUSAND
            self.initial["industries"] = values_of(product.industries_mask, INDUSTRY_BITS)
            self.initial["stages"] = values_of(product.stages_mask, STAGE_BITS)

    def service_data(self):
        data = super().service_data()
        data["regions"] = list(data.get("regions") or [])
        return data


class ProductFormView(LoginRequiredMixin, generic.FormView):
    form_class = ProductForm
    template_name = "cases/financing/product_form.html"
    viewset = None

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update({"product": getattr(self, "product", None), "title": self.title()})
        return context

    def form_valid(self, form):
        try:
            product = self.save(form)
        except ValidationError as error:
            form.add_service_errors(error)
            return self.form_invalid(form)
        except services.Conflict as conflict:
            form.add_error(None, conflict.message)
            return self.form_invalid(form)
        messages.success(self.request, _("The product was saved; the needs it fits were matched again."))
        return HttpResponseRedirect(product_url(product))


class ProductCreateView(ProductFormView):
    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not (permissions.is_secretariat(request.user) or permissions.institution_ids(request.user)):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        own = sorted(permissions.institution_ids(self.request.user))
        return {"institution": own[0]} if len(own) == 1 else {}

    def title(self):
        return _("Add a financial product")

    def save(self, form):
        return services.product_create(actor=self.request.user, data=form.service_data())


class ProductUpdateView(ProductFormView):
    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.product = selectors.product_detail(request.user, kwargs["pk"])
        if not permissions.can_manage_product(request.user, self.product.institution_id):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.product}

    def title(self):
        return _("Change the financial product")

    def save(self, form):
        return services.product_update(
            product=self.product,
            actor=self.request.user,
            data=form.service_data(),
            expected_version=form.cleaned_data.get("version"),
        )


class ProductDeactivateView(LoginRequiredMixin, generic.View):
    """Take a product off the market (POST from its page)."""

    viewset = None

    def post(self, request, pk):
        product = selectors.product_detail(request.user, pk)
        if not permissions.can_manage_product(request.user, product.institution_id):
            raise PermissionDenied
        try:
            services.product_deactivate(product=product, actor=request.user, reason=request.POST.get("reason", ""))
        except services.Conflict as conflict:
            messages.error(request, conflict.message)
        else:
            messages.success(request, _("The product is no longer offered; its matches were recomputed."))
        return HttpResponseRedirect(product_url(product))
