"""The factor ledgers' pages: the ledgers, a ledger's cash book with its forms and Excel export,
the requests awaiting the bureaus, a request's steps, a case's request, and the case page's
"Factor guarantee" section (registered with the core at start-up)."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from django.views import generic
from openpyxl import Workbook

from cases import views as case_views
from cases.excel import save_workbook

from . import permissions, selectors, services
from .forms import LedgerFilterForm, LedgerOpenForm, LineForm, RequestForm, ReturnForm, StepForm
from .models import FACTORS_OF_PREWORK_KIND, LineKind, RequestState, format_quantity, unit_of

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE = 50
STEPS = {
    "reserve": (services.request_reserve, pgettext_lazy("factor request", "Reserve"), (RequestState.REQUESTED,)),
    "release": (services.request_release, gettext_lazy("Release the reservation"), (RequestState.RESERVED,)),
    "allocate": (
        services.request_allocate,
        gettext_lazy("Allocate"),
        (RequestState.REQUESTED, RequestState.RESERVED, RequestState.RELEASED),
    ),
}


def ledger_url(ledger):
    return reverse("factors:ledger", args=[ledger.pk])


def _form_errors(form, error):
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def step_options(request, user, ledger_writable):
    """The steps a reader may take on ``request`` now: (name, label)."""
    if not ledger_writable:
        return []
    return [(name, str(label)) for name, (_fn, label, sources) in STEPS.items() if request.state in sources]


class FactorsPage(case_views.AllowedPage):
    def allowed(self, user):
        return permissions.can_read_ledgers(user)


class LedgerListView(FactorsPage):
    template_name = "factors/ledger_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        form = LedgerFilterForm(self.request.GET or None)
        ledgers = list(selectors.ledger_list(user, **form.params()))
        context.update(
            {
                "form": form,
                "ledgers": ledgers,
                "can_open": permissions.can_open_ledgers(user),
                "awaiting": selectors.requests_awaiting(user).count(),
            }
        )
        return context


class LedgerOpenView(FactorsPage, generic.FormView):
    template_name = "factors/ledger_open.html"
    form_class = LedgerOpenForm

    def allowed(self, user):
        return permissions.can_open_ledgers(user)

    def form_valid(self, form):
        try:
            ledger = services.ledger_open(actor=self.request.user, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("The ledger is open."))
        return HttpResponseRedirect(ledger_url(ledger))


class LedgerDetailView(FactorsPage):
    """A ledger's cash book: every line with its running balance, the forms to add lines, and the
    requests it answers."""

    template_name = "factors/ledger_detail.html"

    def get_ledger(self):
        return selectors.ledger_detail(self.request.user, self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        ledger = kwargs.get("ledger") or self.get_ledger()
        writable = permissions.can_write_ledger(user, ledger)
        lines = Paginator(selectors.ledger_lines(ledger), PAGE_SIZE).get_page(self.request.GET.get("page"))
        # A line about a case the reader may not open names no case.
        visible = selectors.visible_project_ids(user, {line.project_id for line in lines if line.project_id})
        for line in lines:
            line.project_shown = line.project if line.project_id in visible else None
        requests = list(selectors.request_list(user).filter(ledger=ledger).exclude(state=RequestState.ALLOCATED))
        context.update(
            {
                "ledger": ledger,
                "unit": unit_of(ledger.factor),
                "lines": lines,
                "can_write": writable,
                "receive_form": kwargs.get("receive_form") or LineForm(prefix="receive"),
                "return_form": kwargs.get("return_form") or ReturnForm(prefix="return", projects=self._projects()),
                "request_rows": [
                    (request, selectors.shortfall(request), step_options(request, user, writable))
                    for request in requests
                ],
            }
        )
        return context

    def _projects(self):
        return selectors.visible_projects(self.request.user)

    def post(self, request, *args, **kwargs):
        ledger = self.get_ledger()
        if not permissions.can_write_ledger(request.user, ledger):
            raise PermissionDenied
        kind = request.POST.get("line")
        forms_ = {}
        if kind == LineKind.RECEIVED:
            form = forms_["receive_form"] = LineForm(request.POST, prefix="receive")
        elif kind == LineKind.RETURNED:
            form = forms_["return_form"] = ReturnForm(request.POST, prefix="return", projects=self._projects())
        else:
            raise Http404
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                if kind == LineKind.RECEIVED:
                    services.ledger_receive(ledger=ledger, actor=request.user, **data)
                else:
                    services.ledger_return(ledger=ledger, actor=request.user, **data)
            except ValidationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, _("The line is written in the ledger."))
                return HttpResponseRedirect(ledger_url(ledger))
        return self.render_to_response(self.get_context_data(ledger=ledger, **forms_), status=400)


class LedgerExcelView(LedgerDetailView):
    """The cash book as an Excel sheet, every line with its running balance."""

    def get(self, request, *args, **kwargs):
        ledger = self.get_ledger()
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = str(ledger.year)
        unit = str(unit_of(ledger.factor))
        sheet.append([f"{ledger.year} {ledger.get_factor_display()} ({unit}) · {ledger.bureau.name}"])
        sheet.append(
            [
                _("line number"), _("time"), _("kind"), _("key project"), _("quantity"), _("balance after"),
                _("reason"), pgettext("ledger", "document number"), _("actor"),
            ]
        )
        lines = list(selectors.ledger_lines(ledger))
        visible = selectors.visible_project_ids(request.user, {line.project_id for line in lines if line.project_id})
        for line in lines:
            shown = line.project if line.project_id in visible else None
            sheet.append(
                [
                    line.position,
                    timezone.localtime(line.at).strftime("%Y-%m-%d %H:%M"),
                    line.get_kind_display(),
                    f"{shown.code} {shown.name}" if shown else ("…" if line.project_id else ""),
                    float(line.signed_quantity),
                    float(line.balance_after),
                    line.reason,
                    line.document_number,
                    line.actor_name,
                ]
            )
        response = HttpResponse(save_workbook(workbook), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="ledger-{ledger.year}-{ledger.factor}.xlsx"'
        return response

    def post(self, request, *args, **kwargs):
        raise Http404


class RequestListView(FactorsPage):
    """The requests awaiting the reader's bureau (all bureaus' for the secretariat and readers)."""

    template_name = "factors/request_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        page = Paginator(selectors.requests_awaiting(user), PAGE_SIZE).get_page(self.request.GET.get("page"))
        context["page"] = page
        context["rows"] = [
            (
                request,
                selectors.shortfall(request),
                step_options(request, user, permissions.can_write_ledger(user, request.ledger)),
            )
            for request in page
        ]
        return context


class RequestStepView(LoginRequiredMixin, generic.FormView):
    """Reserve, release or allocate one request, with a reason."""

    template_name = "factors/request_step.html"
    form_class = StepForm
    viewset = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.kwargs["name"] not in STEPS:
            raise Http404
        self.factor_request = selectors.request_detail(request.user, self.kwargs["pk"])
        if not permissions.can_write_ledger(request.user, self.factor_request.ledger):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request = self.factor_request
        context.update(
            {
                "factor_request": request,
                "ledger": request.ledger,
                "step_label": STEPS[self.kwargs["name"]][1],
                "shortfall": selectors.shortfall(request),
                "unit": unit_of(request.ledger.factor),
            }
        )
        return context

    def form_valid(self, form):
        step = STEPS[self.kwargs["name"]][0]
        try:
            step(request=self.factor_request, actor=self.request.user, **form.cleaned_data)
        except ValidationError as error:
            _form_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("The ledger is written."))
        return HttpResponseRedirect(ledger_url(self.factor_request.ledger))


class RaiseShortfallView(LoginRequiredMixin, generic.View):
    """Raise a request's shortfall as a blocker on its case, in one click."""

    viewset = None

    def post(self, request, *args, **kwargs):
        factor_request = selectors.request_detail(request.user, kwargs["pk"])
        try:
            blocker = services.shortfall_raise(request=factor_request, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The shortfall is reported as a blocker: %(title)s") % {"title": blocker.title})
        return HttpResponseRedirect(case_views.project_url(factor_request.project, "factors"))


class RequestCreateView(LoginRequiredMixin, generic.FormView):
    """Ask the ledgers on a pre-work item of a case (land, energy review, EIA)."""

    template_name = "factors/request_form.html"
    form_class = RequestForm
    viewset = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.project = selectors.visible_project(request.user, kwargs["project_pk"])
        if self.project is None:
            raise Http404
        self.items = selectors.requestable_items(request.user, self.project.pk)
        if not self.items:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "items": self.items}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "project": self.project}

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        item = next(item for item in self.items if item.pk == data.pop("item"))
        try:
            services.factor_request(item=item, actor=self.request.user, **data)
        except ValidationError as error:
            _form_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("The ledger is asked."))
        return HttpResponseRedirect(case_views.project_url(self.project, "factors"))


# The case page's section


def case_section(project, user):
    """The "Factor guarantee" section of a case page: its requests, their state and shortfall."""
    if not permissions.can_see_requests_of(user, project):
        return None
    rows = []
    for request in selectors.project_requests(project):
        missing = selectors.shortfall(request)
        rows.append(
            {
                "request": request,
                "unit": unit_of(request.ledger.factor),
                "shortfall": missing,
                "shortfall_text": _("%(missing)s %(unit)s short: the ledger has %(balance)s %(unit)s left.")
                % {
                    "missing": format_quantity(missing),
                    "unit": unit_of(request.ledger.factor),
                    "balance": format_quantity(request.ledger.balance),
                }
                if missing
                else "",
                "can_raise": bool(missing) and permissions.can_raise_shortfall(user, request),
                "can_step": permissions.can_write_ledger(user, request.ledger),
            }
        )
    can_request = any(
        item.kind in FACTORS_OF_PREWORK_KIND and permissions.can_request(user, item)
        for item in project.prework_items.all()
    )
    if not rows and not can_request:
        return None
    return {"rows": rows, "project": project, "can_request": can_request}


def register_the_case_section():
    case_views.register_case_section("factors/case_section.html", case_section)
