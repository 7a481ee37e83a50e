"""The annual plan's pages: the compilations (and opening one), a year's check page with its
proposals, totals against targets, publishing and adjusting; a unit's proposals; the versions
and the difference of two. Thin: forms collect, ``services``/``adjustments`` write, ``selectors`` read."""


from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import generic

from cases.formatting import in_wan
from cases.models import KeyProject

from . import adjustments, permissions, selectors, services
from .forms import AdjustForm, DecideForm, OpenCompilationForm, ProposalForm, WindowForm
from .models import PlanProposal

PAGE_SIZE = 50


def _number(raw, default):
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else default


def page_of(name, year, **query):
    """The URL of a page of the year's compilation."""
    return reverse(f"planning:{name}") + "?" + urlencode({"year": year, **query})


def put_errors(form, error):
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for name, found in error.message_dict.items():
            form.add_error(name if name in form.fields else None, found)
    elif isinstance(error, ValidationError):
        form.add_error(None, error.messages)
    else:
        form.add_error(None, str(error) or _("You may not do this."))


class ReadMixin(LoginRequiredMixin):
    viewset = None

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not permissions.can_read(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def compilation(self):
        if not hasattr(self, "_compilation"):
            year = _number(self.request.POST.get("year") or self.request.GET.get("year"), None)
            self._compilation = selectors.compilation_of(self.request.user, year) if year else None
            if self._compilation is None:
                raise Http404
        return self._compilation


class IndexView(ReadMixin, generic.TemplateView):
    template_name = "workflow/planning/index.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["compilations"] = list(selectors.compilations(self.request.user))
        context["may_manage"] = permissions.can_manage(self.request.user)
        if context["may_manage"]:
            year = timezone.localdate().year + 1
            context.setdefault("form", OpenCompilationForm(initial={"year": year, "deadline": services.default_deadline(year)}))
        return context

    def post(self, request, *args, **kwargs):
        if not permissions.can_manage(request.user):
            raise PermissionDenied
        form = OpenCompilationForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                compilation = services.compilation_open(
                    actor=request.user, year=data["year"], deadline=data["deadline"],
                    target_total=data["target_total"], targets=form.targets(),
                )
            except (ValidationError, PermissionDenied) as error:
                put_errors(form, error)
            else:
                messages.success(request, _("The compilation of %(year)s is open.") % {"year": compilation.year})
                return HttpResponseRedirect(page_of("compilation", compilation.year))
        return self.render_to_response(self.get_context_data(form=form))


class CompilationView(ReadMixin, generic.TemplateView):
    """The check page: totals against targets, the proposals with their units and decisions; publish; the versions."""

    template_name = "workflow/planning/compilation.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        compilation = self.compilation()
        user = self.request.user
        context["compilation"] = compilation
        context["check"] = selectors.check(compilation)
        page = Paginator(selectors.proposals(user, compilation), PAGE_SIZE).get_page(self.request.GET.get("page"))
        context["page"] = page
        context["may_manage"] = permissions.can_manage(user)
        context["may_propose"] = permissions.proposing_unit_id(user) is not None
        context["versions"] = list(selectors.versions(compilation))
        context["adjustable"] = compilation.adjustable_on(timezone.localdate())
        context.setdefault("window_form", WindowForm(initial={"adjust_from": compilation.adjust_from, "adjust_to": compilation.adjust_to}))
        context.setdefault("errors", [])
        return context


class ManageMixin(ReadMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not permissions.can_manage(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class DecideView(ManageMixin, generic.View):
    http_method_names = ["post"]

    def post(self, request):
        pk = _number(request.POST.get("proposal"), None)
        proposal = PlanProposal.objects.select_related("compilation", "project").filter(pk=pk).first() if pk else None
        if proposal is None:
            raise Http404
        form = DecideForm(request.POST)
        year = proposal.compilation.year
        try:
            if not form.is_valid():
                raise ValidationError(form.errors.get("decision") or _("Choose accept or send back."))
            if form.cleaned_data["decision"] == "accept":
                services.proposal_accept(actor=request.user, proposal_id=pk)
                messages.success(request, _("The proposal of %(code)s is accepted.") % {"code": proposal.project.code})
            else:
                services.proposal_return(actor=request.user, proposal_id=pk, reason=form.cleaned_data.get("reason"))
                messages.success(request, _("The proposal of %(code)s went back to its unit.") % {"code": proposal.project.code})
        except ValidationError as error:
            for text in error.messages:
                messages.error(request, text)
        return HttpResponseRedirect(page_of("compilation", year))


class PublishView(ManageMixin, generic.View):
    http_method_names = ["post"]

    def post(self, request):
        compilation = self.compilation()
        year = compilation.year
        try:
            services.compilation_publish(actor=request.user, compilation_id=compilation.pk)
            messages.success(request, _("The plan of %(year)s is published as version 1.") % {"year": year})
        except ValidationError as error:
            for text in error.messages:
                messages.error(request, text)
        return HttpResponseRedirect(page_of("compilation", year))


class WindowView(ManageMixin, generic.View):
    http_method_names = ["post"]

    def post(self, request):
        compilation = self.compilation()
        year = compilation.year
        form = WindowForm(request.POST)
        try:
            if not form.is_valid():
                raise ValidationError([e for errors in form.errors.values() for e in errors])
            adjustments.adjustment_window_set(
                actor=request.user, compilation_id=compilation.pk,
                start=form.cleaned_data["adjust_from"], end=form.cleaned_data["adjust_to"],
            )
            messages.success(request, _("The adjustment window is set."))
        except ValidationError as error:
            for text in error.messages:
                messages.error(request, text)
        return HttpResponseRedirect(page_of("compilation", year))


class AdjustView(ManageMixin, generic.FormView):
    template_name = "workflow/planning/adjust.html"
    form_class = AdjustForm

    def get_initial(self):
        return {"project": self.request.GET.get("project"), "change": self.request.GET.get("change")}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["compilation"] = self.compilation()
        return context

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            version = adjustments.plan_adjust(
                actor=self.request.user, compilation_id=self.compilation().pk, change=data["change"],
                project_id=data["project"].pk, data=data, reason=data["reason"],
            )
        except (ValidationError, PermissionDenied) as error:
            put_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Version %(number)s of the plan is made.") % {"number": version.number})
        return HttpResponseRedirect(
            page_of("diff", self.compilation().year, **{"from": version.number - 1, "to": version.number})
        )


class ProposeView(ReadMixin, generic.FormView):
    """A unit's proposals for the year and the form to propose (or, with ``?proposal=``, correct) one."""

    template_name = "workflow/planning/propose.html"
    form_class = ProposalForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and permissions.proposing_unit_id(request.user) is None:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def editing(self):
        raw = self.request.GET.get("proposal") or ""
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            return None
        return selectors.proposals(self.request.user, self.compilation()).filter(pk=int(raw)).first()

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        compilation = self.compilation()
        projects = selectors.proposable_projects(self.request.user, compilation)
        proposal = self.editing()
        if proposal is not None:
            projects = KeyProject.objects.filter(Q(pk__in=projects.values("pk")) | Q(pk=proposal.project_id)).order_by("code")
            kwargs.setdefault("initial", {})
            # The amounts are stored in yuan and typed in 万元.
            kwargs["initial"] = {
                "project": proposal.project_id, "planned_year": in_wan(proposal.planned_year),
                "planned_next": in_wan(proposal.planned_next), "planned_after": in_wan(proposal.planned_after),
                "planned_start": proposal.planned_start,
            }
        kwargs["projects"] = projects
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        compilation = self.compilation()
        context["compilation"] = compilation
        context["proposals"] = list(selectors.proposals(self.request.user, compilation))
        context["editing"] = self.editing()
        return context

    def post(self, request, *args, **kwargs):
        withdraw = request.POST.get("withdraw")
        if withdraw:
            try:
                proposal = self.editing()
                if proposal is None:
                    raise Http404
                services.proposal_withdraw(actor=request.user, proposal_id=proposal.pk)
                messages.success(request, _("The proposal is withdrawn."))
            except (ValidationError, PermissionDenied) as error:
                messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
            return HttpResponseRedirect(page_of("propose", self.compilation().year))
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        editing = self.editing()
        try:
            services.proposal_save(
                actor=self.request.user, compilation_id=self.compilation().pk, project_id=data["project"].pk,
                data=data, proposal_id=editing.pk if editing else None,
            )
        except (ValidationError, PermissionDenied) as error:
            put_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("The proposal of %(code)s is saved.") % {"code": data["project"].code})
        return HttpResponseRedirect(page_of("propose", self.compilation().year))


class VersionView(ReadMixin, generic.TemplateView):
    template_name = "workflow/planning/version.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        compilation = self.compilation()
        number = _number(self.request.GET.get("number"), None)
        version = compilation.versions.filter(number=number).first() if number else None
        if version is None:
            raise Http404
        context.update(compilation=compilation, version=version, entries=list(selectors.entries(version)))
        return context


class DiffView(ReadMixin, generic.TemplateView):
    template_name = "workflow/planning/diff.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        compilation = self.compilation()
        versions = {v.number: v for v in compilation.versions.all()}
        if not versions:
            raise Http404
        last = max(versions)
        newer = versions.get(_number(self.request.GET.get("to"), last)) or versions[last]
        older = versions.get(_number(self.request.GET.get("from"), max(newer.number - 1, 1))) or versions[min(versions)]
        context.update(compilation=compilation, older=older, newer=newer, numbers=sorted(versions),
                       diff=selectors.difference(older, newer))
        return context


