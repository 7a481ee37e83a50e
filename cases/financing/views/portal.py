"""The institution portal: where a financial institution's people land. They read the white list
(published needs, nothing internal), express interest in a need (a docking opens), and follow
their own institution's dockings and products; nothing else. Reads are scoped through
``permissions`` (need_scope, docking_scope, product_scope, match_scope)."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import CharField, IntegerField, OuterRef, Subquery
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import generic

from .. import matching, permissions, selectors, services
from .. import stats as financing_stats
from ..models import Docking, DockingState, FinancialProduct, FinancingNeed, NeedMatch, NeedState

PAGE_SIZE = 25
HOME_ROWS = 8


def _my_docking(user, field):
    """The caller's institution's docking on each need: its id or its state."""
    mine = Docking.objects.filter(permissions.docking_scope(user), need_id=OuterRef("pk")).order_by("pk")
    output = IntegerField() if field == "pk" else CharField()
    return Subquery(mine.values(field)[:1], output_field=output)


def white_list(user):
    """The published needs ``user`` may read, newest first, with their institution's docking on each."""
    return (
        FinancingNeed.objects.filter(permissions.need_scope(user), state=NeedState.PUBLISHED)
        .select_related("project", "region")
        .annotate(my_docking_id=_my_docking(user, "pk"), my_docking_state=_my_docking(user, "state"))
        .order_by("-published_at", "-pk")
    )


def my_dockings(user):
    """The dockings of the caller's institution (and its branches), the latest step first."""
    return (
        Docking.objects.filter(permissions.docking_scope(user))
        .select_related("project", "need", "institution", "product")
        .order_by("-last_step_at", "-pk")
    )


def my_products(user):
    return (
        FinancialProduct.objects.filter(permissions.product_scope(user))
        .select_related("institution")
        .order_by("-is_active", "institution__name", "name")
    )


def recommended_needs(user):
    """Published needs matched with the institution's products that it has no docking on yet, best first."""
    return (
        NeedMatch.objects.filter(permissions.match_scope(user), need__state=NeedState.PUBLISHED)
        .annotate(my_docking_id=Subquery(
            Docking.objects.filter(permissions.docking_scope(user), need_id=OuterRef("need_id")).values("pk")[:1],
            output_field=IntegerField(),
        ))
        .filter(my_docking_id__isnull=True)
        .select_related("need__project", "need__region", "product")
        .order_by("-score", "-need__published_at", "pk")
    )


def labelled(needs):
    """Needs with the label of their institution's docking state, for the pages."""
    labels = dict(DockingState.choices)
    for need in needs:
        need.my_docking_label = labels.get(need.my_docking_state, "")
    return needs


def pager_query(**params):
    """The query string a page link keeps, ending with "&" when there is one."""
    kept = {name: value for name, value in params.items() if value}
    return urlencode(kept) + "&" if kept else ""


class PortalPage(LoginRequiredMixin, generic.TemplateView):
    """A page of the portal: for an institution's people only (everyone else gets 403)."""

    viewset = None

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not permissions.can_use_institution_portal(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class PortalHomeView(PortalPage):
    """The institution's home: its figures, the dockings waiting for it, the needs recommended
    for its products, the newest needs on the white list, and its products."""

    template_name = "cases/financing/portal_home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        summary = financing_stats.portal_summary(user)
        waiting = selectors.dockings_waiting(user)
        context.update(
            {
                "summary": summary,
                "institution_names": [row["name"] for row in summary["institutions"]],
                "open_dockings": list(waiting[:HOME_ROWS]),
                "waiting_count": waiting.count(),
                "recommended": list(recommended_needs(user)[:HOME_ROWS]),
                "latest_needs": labelled(list(white_list(user)[:HOME_ROWS])),
                "products": list(my_products(user)[:HOME_ROWS]),
                "can_express_interest": permissions.can_express_interest(user),
            }
        )
        return context


class PortalDockingListView(PortalPage):
    """Every docking of the institution and its branches, filtered by state, 25 a page."""

    template_name = "cases/financing/portal_dockings.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        dockings = my_dockings(self.request.user)
        state = self.request.GET.get("state", "")
        if state in DockingState.values:
            dockings = dockings.filter(state=state)
        else:
            state = ""
        page = Paginator(dockings, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(
            {
                "page": page,
                "dockings": list(page.object_list),
                "state": state,
                "states": DockingState.choices,
                "pager_query": pager_query(state=state),
            }
        )
        return context


class PortalNeedListView(PortalPage):
    """The white list as an institution reads it: published needs with what it has done on each."""

    template_name = "cases/financing/portal_needs.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        needs = white_list(self.request.user)
        financing_type = self.request.GET.get("type", "")
        if financing_type:
            needs = needs.filter(financing_type=financing_type)
        industry = self.request.GET.get("industry", "")
        if industry:
            needs = needs.filter(industry=industry)
        page = Paginator(needs, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(
            {
                "page": page,
                "needs": labelled(list(page.object_list)),
                "pager_query": pager_query(type=financing_type, industry=industry),
                "financing_type": financing_type,
                "industry": industry,
                "types": FinancingNeed._meta.get_field("financing_type").choices,
                "industries": FinancingNeed._meta.get_field("industry").choices,
                "can_express_interest": permissions.can_express_interest(self.request.user),
            }
        )
        return context


class PortalNeedView(PortalPage):
    """A published need as an institution reads it: what is needed, by when, against what; its own
    products that fit and its own docking, or the button to express interest. Nothing internal."""

    template_name = "cases/financing/portal_need.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        need = labelled([get_object_or_404(white_list(user), pk=self.kwargs["pk"])])[0]
        matches = list(
            NeedMatch.objects.filter(permissions.match_scope(user), need=need)
            .select_related("product", "institution")
            .order_by("-score", "pk")
        )
        for match in matches:
            match.reason_list = matching.reason_texts(match.reasons, need=need, product=match.product)
        context.update(
            {
                "need": need,
                "matches": matches,
                "can_express_interest": permissions.can_express_interest(user),
            }
        )
        return context


class ExpressInterestView(LoginRequiredMixin, generic.View):
    """An institution's person says they are interested in a published need: a docking opens."""

    http_method_names = ["post"]

    def post(self, request, pk):
        if not permissions.can_express_interest(request.user):
            raise PermissionDenied
        need = get_object_or_404(white_list(request.user), pk=pk)
        back = reverse("financing:portal_need", args=[need.pk])
        try:
            docking = services.docking_express_interest(need=need, actor=request.user)
        except services.Conflict as exc:
            messages.warning(request, str(exc.message))
            return HttpResponseRedirect(back)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return HttpResponseRedirect(back)
        messages.success(request, _("Your interest is recorded: the docking is open. Move it forward here."))
        return HttpResponseRedirect(reverse("financing:docking", args=[docking.pk]))
