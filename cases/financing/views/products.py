"""Pages of institutions' financial products: the list, a product's page with the needs it fits,
and writing them (the secretariat, or the institution's own people). Amounts in 万元."""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import generic
from viewflow.forms import FieldSet, Layout, Row

from cases.formatting import TEN_THOUSAND
from cases.forms import GuardedForm, ServiceForm, WanField
from cases.models import Industry, InstitutionType, Stage, Unit, UnitKind

from .. import permissions, selectors, services
from ..models import (
    INDUSTRY_BITS,
    STAGE_BITS,
    FinancialProduct,
    FinancingType,
    SpecialLine,
    values_of,
)
from .common import (
    PAGE_SIZE,
    FinancingPage,
    _choices,
    _query_without_page,
    _wan,
    product_url,
)


class ProductFilterForm(GuardedForm):
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
