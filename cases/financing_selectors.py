"""Reads of financing needs, products and their matches, shared by the pages and the API, scoped
by the reader's role and unit through ``permissions``; each carries what its callers show."""

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from . import matching, permissions
from .models import (
    INDUSTRY_BITS,
    STAGE_BITS,
    Docking,
    FinancialProduct,
    FinancingNeed,
    FinancingType,
    Industry,
    InstitutionType,
    KeyProject,
    NeedMatch,
    NeedState,
    Role,
    SpecialLine,
    Stage,
    Unit,
    UnitKind,
)

MAX_AMOUNT = Decimal("99999999999999.99")
MAX_ID = 2**63 - 1
NEED_SEARCH_FIELDS = ("project__code", "project__name", "project__owner__name", "purpose")
PRODUCT_SEARCH_FIELDS = ("name", "institution__name", "description")


def _count(queryset, field):
    counted = queryset.order_by().values(field).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _one(queryset, pk):
    try:
        return queryset.get(pk=int(pk))
    except (ValueError, TypeError, OverflowError, queryset.model.DoesNotExist):
        raise Http404 from None


# Needs


def need_list(user):
    """The needs ``user`` may see, with the case and its owner, the region and how many matches
    (for an institution's people: with their own products) each has."""
    matches = NeedMatch.objects.filter(permissions.match_scope(user), need_id=OuterRef("pk"))
    return (
        FinancingNeed.objects.filter(permissions.need_scope(user))
        .select_related("project", "project__owner", "project__lead_unit", "region")
        .annotate(match_count=_count(matches, "need_id"))
        .order_by("-published_at", "-pk")
    )


class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


def _districts():
    return Unit.objects.filter(kind=UnitKind.DISTRICT).order_by("name")


class NeedFilter(django_filters.FilterSet):
    """The white list's filters: amounts in yuan, ``state`` only changes what an internal reader sees."""

    financing_type = django_filters.ChoiceFilter(label=_("type"), choices=FinancingType.choices)
    industry = django_filters.ChoiceFilter(label=_("industry"), choices=Industry.choices)
    stage = django_filters.ChoiceFilter(label=_("stage"), choices=Stage.choices)
    region = django_filters.ModelChoiceFilter(label=_("region"), queryset=_districts())
    amount_min = django_filters.NumberFilter(
        label=_("smallest amount (yuan)"), field_name="amount", lookup_expr="gte", min_value=0, max_value=MAX_AMOUNT
    )
    amount_max = django_filters.NumberFilter(
        label=_("largest amount (yuan)"), field_name="amount", lookup_expr="lte", min_value=0, max_value=MAX_AMOUNT
    )
    state = django_filters.ChoiceFilter(label=_("state"), choices=NeedState.choices, method="filter_state")
    project = IdFilter(label=_("key project"), field_name="project_id", min_value=1, max_value=MAX_ID)

    class Meta:
        model = FinancingNeed
        fields = ["financing_type", "industry", "stage", "region", "amount_min", "amount_max", "state", "project"]

    def filter_state(self, queryset, name, value):
        return queryset.filter(state=value)


def white_list(user, params=None):
    """The needs the white list shows ``user`` for ``params`` (a NeedFilter's data and ``search``):
    the published ones unless an internal reader asks for another state."""
    params = params if params is not None else {}
    queryset = need_list(user)
    if not params.get("state") or not permissions.is_internal(user):
        queryset = queryset.filter(state=NeedState.PUBLISHED)
    data = {key: value for key, value in params.items() if key in NeedFilter.base_filters}
    if not permissions.is_internal(user):
        data.pop("state", None)
    filterset = NeedFilter(data, queryset=queryset)
    queryset = filterset.qs if filterset.is_valid() else queryset.none()
    search = (params.get("search") or "").strip()
    if search:
        queryset = queryset.filter(search_needs(search))
    return queryset


def search_needs(text):
    condition = Q()
    for field in NEED_SEARCH_FIELDS:
        condition |= Q(**{f"{field}__icontains": text})
    return condition


def need_detail(user, pk):
    """One need ``user`` may see, with its case; 404 otherwise."""
    return _one(
        FinancingNeed.objects.filter(permissions.need_scope(user)).select_related(
            "project", "project__owner", "project__region", "project__lead_unit", "region", "created_by"
        ),
        pk,
    )


def need_for_change(pk):
    """A need with its case, as a service reads it before changing it."""
    return FinancingNeed.objects.select_related("project", "project__lead_unit").get(pk=pk)


def need_matches(user, need):
    """The matches of ``need`` that ``user`` may see, best first, with their product and institution."""
    return (
        NeedMatch.objects.filter(permissions.match_scope(user), need_id=need.pk)
        .select_related("product", "institution")
        .order_by("-score", "product_id")
    )


def need_match(user, need, product_id):
    """The match of ``need`` with product ``product_id`` that ``user`` may see, with its product and
    institution; None when the product is not (or no longer) among the need's best."""
    try:
        product_id = int(product_id)
    except (TypeError, ValueError):
        return None
    return need_matches(user, need).filter(product_id=product_id).first()


def need_dockings(user, need):
    """The dockings that follow ``need`` and that ``user`` may see."""
    return (
        Docking.objects.filter(permissions.docking_scope(user), need_id=need.pk)
        .select_related("institution", "product")
        .order_by("institution__name")
    )


def need_docking_with(user, need, institution_id):
    """The docking of ``need`` with one institution, if there is one ``user`` may see."""
    return need_dockings(user, need).filter(institution_id=institution_id).first()


def project_needs(user, project):
    """The needs of one case ``user`` may see, newest first."""
    return FinancingNeed.objects.filter(permissions.need_scope(user), project_id=project.pk).order_by("-created_at", "-pk")


def own_needs(user):
    """The needs of the cases ``user`` may see (an owner: its enterprise's), every state, case by
    case and newest first; never another case's needs on the white list."""
    return (
        FinancingNeed.objects.filter(permissions.need_scope(user))
        .filter(project__in=KeyProject.objects.filter(permissions.project_scope(user)))
        .select_related("project")
        .order_by("project__code", "-created_at", "-pk")
    )


def projects_for_needs(user):
    """The cases ``user`` may write needs for: in financing docking or financing, in their scope,
    and (but for the secretariat) led or owned by their unit."""
    queryset = KeyProject.objects.filter(permissions.project_scope(user), stage__in=[Stage.DOCKING, Stage.FINANCING])
    if not permissions.is_secretariat(user):
        person = permissions.person_of(user)
        unit = person.unit_id if person else None
        if permissions.role_of(user) == Role.OWNER:
            queryset = queryset.filter(owner_id=unit)
        else:
            queryset = queryset.filter(lead_unit_id=unit, lead_unit__isnull=False)
    return queryset.order_by("code")


# Products


def institutions(user=None):
    """The institutions (and branches) a product may belong to, for ``user`` when given."""
    queryset = Unit.objects.filter(kind=UnitKind.INSTITUTION).select_related("parent").order_by("name")
    if user is not None and not permissions.is_secretariat(user):
        queryset = queryset.filter(pk__in=permissions.institution_ids(user))
    return queryset


def product_list(user):
    """The products ``user`` may see, with their institution, regions and how many needs they are
    among the best products of."""
    matches = NeedMatch.objects.filter(product_id=OuterRef("pk"))
    return (
        FinancialProduct.objects.filter(permissions.product_scope(user))
        .select_related("institution", "institution__parent")
        .prefetch_related("regions")
        .annotate(match_count=_count(matches, "product_id"))
        .order_by("institution__name", "name", "pk")
    )


class ProductFilter(django_filters.FilterSet):
    financing_type = django_filters.ChoiceFilter(label=_("type"), choices=FinancingType.choices)
    special_line = django_filters.ChoiceFilter(label=_("special line"), choices=SpecialLine.choices[1:])
    institution = django_filters.ModelChoiceFilter(label=_("institution"), queryset=institutions())
    institution_type = django_filters.ChoiceFilter(
        label=_("type of institution"), choices=InstitutionType.choices, field_name="institution__institution_type"
    )
    industry = django_filters.ChoiceFilter(label=_("industry"), choices=Industry.choices, method="filter_industry")
    stage = django_filters.ChoiceFilter(label=_("stage"), choices=Stage.choices, method="filter_stage")
    region = django_filters.ModelChoiceFilter(
        label=_("region"), queryset=_districts(), method="filter_region", field_name="regions"
    )
    amount = django_filters.NumberFilter(
        label=_("amount it lends (yuan)"), method="filter_amount", min_value=0, max_value=MAX_AMOUNT
    )
    is_active = django_filters.BooleanFilter(label=_("active"))

    class Meta:
        model = FinancialProduct
        fields = ["financing_type", "special_line", "institution", "institution_type", "industry", "stage", "region", "amount", "is_active"]

    def filter_industry(self, queryset, name, value):
        bit = INDUSTRY_BITS[value]
        return queryset.annotate(_industry_bit=F("industries_mask").bitand(bit)).filter(
            Q(industries_mask=0) | ~Q(_industry_bit=0)
        )

    def filter_stage(self, queryset, name, value):
        bit = STAGE_BITS[value]
        return queryset.annotate(_stage_bit=F("stages_mask").bitand(bit)).filter(Q(stages_mask=0) | ~Q(_stage_bit=0))

    def filter_region(self, queryset, name, value):
        through = FinancialProduct.regions.through
        named = through.objects.filter(financialproduct_id=OuterRef("pk"))
        return queryset.filter(~Exists(named) | Exists(named.filter(unit_id=value.pk)))

    def filter_amount(self, queryset, name, value):
        return queryset.filter(amount_min__lte=value, amount_max__gte=value)


def products(user, params=None):
    """The products ``user`` may see, filtered by ``params`` (a ProductFilter's data and ``search``)."""
    params = params if params is not None else {}
    queryset = product_list(user)
    data = {key: value for key, value in params.items() if key in ProductFilter.base_filters}
    filterset = ProductFilter(data, queryset=queryset)
    queryset = filterset.qs if filterset.is_valid() else queryset.none()
    search = (params.get("search") or "").strip()
    if search:
        condition = Q()
        for field in PRODUCT_SEARCH_FIELDS:
            condition |= Q(**{f"{field}__icontains": search})
        queryset = queryset.filter(condition)
    return queryset


def product_detail(user, pk):
    return _one(
        FinancialProduct.objects.filter(permissions.product_scope(user))
        .select_related("institution", "institution__parent")
        .prefetch_related("regions"),
        pk,
    )


def needs_for_product(product, user=None):
    """The published needs ``product`` fits, the best fitting first, each with its ``fit_score``
    (the score matching gives the pair) and ``kept_score`` (None when the product is not among
    the need's best, which NeedMatch keeps). The filters and the score are matching's own SQL, read the other way."""
    score_sql, score_params = matching.fit_score_sql(product.pk)
    queryset = FinancingNeed.objects.filter(
        state=NeedState.PUBLISHED,
        financing_type=product.financing_type,
        amount__gte=product.amount_min,
        amount__lte=product.amount_max,
        term_months__gte=product.term_months_min,
        term_months__lte=product.term_months_max,
    )
    if user is not None:
        queryset = queryset.filter(permissions.need_scope(user))
    kept = NeedMatch.objects.filter(need_id=OuterRef("pk"), product_id=product.pk).values("score")[:1]
    return (
        queryset.select_related("project", "project__owner", "region")
        .annotate(
            fit_score=RawSQL(score_sql, score_params, output_field=DecimalField(max_digits=6, decimal_places=2)),
            kept_score=Subquery(kept),
        )
        .filter(fit_score__isnull=False)
        .order_by("-fit_score", "pk")
    )
