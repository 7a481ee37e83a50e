"""Reads of financing docking, shared by the pages and the API, scoped by the reader's role,
unit and institution through ``permissions``; each carries what its callers show, so that no
caller queries per row: financing needs, products and their matches; the docking funnel and the
matchmaking events (an institution's people read their own institution's dockings and the events
it is invited to, and nothing else)."""

from dataclasses import dataclass, field
from decimal import Decimal

import django_filters
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from cases import selectors as case_selectors
from cases.models import (
    AuditEvent,
    Industry,
    InstitutionType,
    KeyProject,
    Role,
    Stage,
    Unit,
    UnitKind,
)
from cases.timeline import timeline_entries

from . import matching, permissions
from .models import (
    INDUSTRY_BITS,
    STAGE_BITS,
    Docking,
    DockingState,
    EventInvitation,
    FinancialProduct,
    FinancingNeed,
    FinancingType,
    MatchmakingEvent,
    NeedMatch,
    NeedState,
    SpecialLine,
)

# The funnel's path, and the amount each step ends with.

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
    for name in NEED_SEARCH_FIELDS:
        condition |= Q(**{f"{name}__icontains": text})
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


# Dockings and matchmaking events


FUNNEL = [
    DockingState.RECOMMENDED,
    DockingState.CONTACTED,
    DockingState.DUE_DILIGENCE,
    DockingState.INTENT_SIGNED,
    DockingState.CREDIT_APPROVED,
    DockingState.DISBURSED,
]
STEP_AMOUNT = {
    DockingState.INTENT_SIGNED: "intent_amount",
    DockingState.CREDIT_APPROVED: "credit_approved_amount",
    DockingState.DISBURSED: "disbursed_amount",
}


# Dockings


def docking_list(user):
    """The dockings ``user`` may see, with what a list row shows."""
    return (
        Docking.objects.filter(permissions.docking_scope(user))
        .select_related("project", "institution", "need", "product", "event")
        .order_by("project__code", "institution__name", "pk")
    )


def dockings_waiting(user):
    """The open dockings of an institution's people (not disbursed, not declined): each waits for
    the institution's next step. New ones first (recommended, not yet contacted), then the oldest
    last step; what the portal and "my work" count."""
    new_first = Case(When(state=DockingState.RECOMMENDED, then=Value(0)), default=Value(1), output_field=IntegerField())
    return (
        Docking.objects.filter(permissions.docking_scope(user))
        .exclude(state__in=[DockingState.DISBURSED, DockingState.DECLINED])
        .select_related("project", "institution", "need")
        .order_by(new_first, F("last_step_at").asc(nulls_first=True), "pk")
    )


def docking_detail(user, pk):
    """One docking ``user`` may see (404 otherwise), with its case's lead unit."""
    return get_object_or_404(docking_list(user).select_related("project__lead_unit"), pk=pk)


def docking_trail(docking):
    """The docking's audit events, oldest first, made readable."""
    events = AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(Docking), object_id=str(docking.pk)
    ).order_by("at", "pk")
    return timeline_entries(events)


@dataclass
class FunnelStep:
    state: str
    label: str
    reached: bool = False
    skipped: bool = False
    current: bool = False
    at: object = None
    amount: object = None
    extra: dict = field(default_factory=dict)


def funnel(docking, trail):
    """The funnel's steps with whether each was reached (or skipped), when, and the amount it ended with.

    The trail says which steps were taken; the steps before the first one it records (a docking
    older than its trail) count as reached, and those the docking went past without a record
    (contacted straight to intent signed) as skipped.
    """
    reached_at = {}
    for event in trail:
        if event.to_state and event.to_state != event.from_state:
            reached_at.setdefault(event.to_state, event.at)
    # A step's starting state was reached too, even when the trail does not say when.
    seen = set(reached_at) | {event.from_state for event in trail if event.from_state}
    recorded = [FUNNEL.index(s) for s in seen if s in FUNNEL]
    if docking.state in FUNNEL:
        position = FUNNEL.index(docking.state)
    else:  # declined: as far as it got
        position = max(recorded, default=0)
    first_recorded = min(recorded, default=position + 1)
    steps = []
    for index, state in enumerate(FUNNEL):
        reached = state in seen or index < first_recorded or state == docking.state
        amount = getattr(docking, STEP_AMOUNT[state]) if state in STEP_AMOUNT and reached else None
        steps.append(
            FunnelStep(
                state=state,
                label=str(DockingState(state).label),
                reached=reached,
                skipped=not reached and index < position,
                current=docking.state == state,
                at=reached_at.get(state),
                amount=amount,
            )
        )
    if docking.state == DockingState.DISBURSED:
        steps[-1].extra["on"] = docking.disbursed_on
    if docking.state == DockingState.DECLINED:
        steps.append(
            FunnelStep(
                state=DockingState.DECLINED,
                label=str(DockingState.DECLINED.label),
                reached=True,
                current=True,
                at=reached_at.get(DockingState.DECLINED),
                extra={"reason": docking.decline_reason},
            )
        )
    return steps


# Matchmaking events


def _count_of(queryset):
    return Coalesce(Subquery(queryset.order_by().values("event_id").annotate(n=Count("pk")).values("n")[:1], output_field=IntegerField()), 0)


def event_list(user):
    """The events ``user`` may see, newest first, with their counts (one query)."""
    pitched = MatchmakingEvent.projects.through.objects.filter(matchmakingevent_id=OuterRef("pk"))
    return (
        MatchmakingEvent.objects.filter(permissions.event_scope(user))
        .annotate(
            project_count=Coalesce(
                Subquery(
                    pitched.order_by().values("matchmakingevent_id").annotate(n=Count("pk")).values("n")[:1],
                    output_field=IntegerField(),
                ),
                0,
            ),
            invited_count=_count_of(EventInvitation.objects.filter(event_id=OuterRef("pk"))),
            attended_count=_count_of(EventInvitation.objects.filter(event_id=OuterRef("pk"), attended=True)),
            intent_count=_count_of(Docking.objects.filter(permissions.docking_scope(user), event_id=OuterRef("pk"))),
            intent_total=Subquery(
                Docking.objects.filter(permissions.docking_scope(user), event_id=OuterRef("pk"))
                .order_by()
                .values("event_id")
                .annotate(total=Sum("intent_amount"))
                .values("total")[:1]
            ),
        )
        .select_related("organiser")
        .order_by("-starts_at", "-pk")
    )


def event_detail(user, pk):
    """One event ``user`` may see (404 otherwise) with its projects and their published needs,
    its invitations and the intents signed at it; an institution's people see only their own
    invitation and intents."""
    event = get_object_or_404(event_list(user), pk=pk)
    invitations = EventInvitation.objects.filter(event=event).select_related("institution")
    if permissions.role_of(user) == Role.INSTITUTION:
        invitations = invitations.filter(institution_id__in=permissions.institution_ids(user))
    event.invitation_rows = list(invitations.order_by("institution__name"))
    needs = FinancingNeed.objects.filter(state=NeedState.PUBLISHED).order_by("-amount", "pk")
    event.project_rows = list(
        event.projects.select_related("region", "lead_unit")
        .prefetch_related(Prefetch("financing_needs", queryset=needs, to_attr="published_needs"))
        .order_by("code")
    )
    event.intent_rows = list(
        Docking.objects.filter(permissions.docking_scope(user), event=event)
        .select_related("project", "institution", "need", "product", "event")
        .order_by("project__code", "institution__name")
    )
    return event


def pitchable_projects():
    """Cases with a need published on the white list: the ones an event may pitch."""
    published = FinancingNeed.objects.filter(project_id=OuterRef("pk"), state=NeedState.PUBLISHED)
    return KeyProject.objects.filter(Exists(published))


def suggested_projects(event):
    """Cases of the event's industrial chain with a published need, not pitched at it yet."""
    queryset = pitchable_projects().filter(industry=event.chain).select_related("region", "lead_unit").order_by("code")
    if event.pk:
        queryset = queryset.exclude(pk__in=event.projects.values("pk"))
    return queryset


def signable_needs(event):
    """The published needs of the projects pitched at ``event``."""
    return (
        FinancingNeed.objects.filter(state=NeedState.PUBLISHED, project__in=event.projects.all())
        .select_related("project")
        .order_by("project__code", "-amount")
    )


def invited_institutions(event):
    return Unit.objects.filter(pk__in=event.invitations.values("institution_id")).order_by("name")


def institutions_to_invite():
    """Every active financial institution (branches included), for the invitation form."""
    return Unit.objects.filter(kind=UnitKind.INSTITUTION, is_active=True).order_by("name")


def case_dockings(user):
    """The dockings of the cases ``user`` may see (their transition pages on the case's side)."""
    return (
        Docking.objects.filter(project__in=KeyProject.objects.filter(permissions.project_scope(user)))
        .select_related("project", "institution")
        .order_by("project__code", "institution__name")
    )


def _dockings_shown():
    return [Prefetch("dockings", queryset=Docking.objects.select_related("institution"))]


def _dockings_guarded():
    return ["dockings"]


def read_with_the_case():
    """The case's page shows its dockings, and its stage guards read them."""
    case_selectors.read_with_a_case("detail", _dockings_shown)
    case_selectors.read_with_a_case("change", _dockings_guarded)
