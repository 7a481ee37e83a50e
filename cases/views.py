"""Pages: thin views that read through the selectors and write through the services."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import generic
from viewflow.views import CreateModelView, DetailModelView, ListModelView, UpdateModelView
from viewflow.views.search import get_search_results

from . import approvals, excel, permissions, selectors, services
from .filters import PROJECT_SEARCH_FIELDS, ProjectFilter
from .forms import (
    BlockerForm,
    ImportForm,
    PreworkItemForm,
    ProjectForm,
    transition_form_class,
)
from .models import STAGE_PATH, Blocker, KeyProject, PreworkItem, Role, Stage
from .services.transitions import state_field
from .timeline import timeline_entries

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def project_url(project, anchor=""):
    url = reverse("cases:projects:detail", args=[project.pk])
    return f"{url}#{anchor}" if anchor else url


def xlsx_response(content, file_name):
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


# Home


class AllowedPage(LoginRequiredMixin, generic.TemplateView):
    """A page of an application for the people ``allowed`` lets in; anyone else logged in is
    refused (403), anyone not logged in is sent to log in."""

    viewset = None

    def allowed(self, user):
        raise NotImplementedError

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not self.allowed(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class HomeView(LoginRequiredMixin, generic.TemplateView):
    """Where everyone lands: the cases in their scope by stage, and where to go next."""

    template_name = "cases/home.html"

    def dispatch(self, request, *args, **kwargs):
        if permissions.acts_for_an_institution(request.user):
            return redirect("financing:portal")  # an institution's people land on their portal
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        role = permissions.role_of(user)
        works_with_cases = role in permissions.INTERNAL | {Role.OWNER}
        counts = selectors.project_counts_by_stage(user) if works_with_cases else {}
        context.update(
            {
                "person": permissions.person_of(user),
                "role_label": Role(role).label if role else "",
                "works_with_cases": works_with_cases,
                "stage_counts": [(stage, stage.label, counts.get(stage, 0)) for stage in Stage],
                "total": sum(counts.values()),
            }
        )
        return context


# Key projects


def stage_path(project):
    """The lifecycle as the page draws it: each stage done, current or ahead."""
    current = project.stage
    if current == Stage.SUSPENDED:
        current = project.stage_before_suspension
    position = STAGE_PATH.index(current) if current in STAGE_PATH else -1
    steps = []
    for index, stage in enumerate(STAGE_PATH):
        if project.stage == Stage.WITHDRAWN:
            status = "ahead"
        elif index < position or (index == position and stage == Stage.COMPLETED):
            status = "done"
        elif index == position:
            status = "current"
        else:
            status = "ahead"
        steps.append({"stage": stage, "label": stage.label, "status": status})
    return steps


class ProjectListView(ListModelView):
    template_name = "cases/project_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_add"] = permissions.can_create_project(self.request.user)
        context["can_import"] = permissions.can_import_projects(self.request.user)
        return context


# Sections the rooms above add to the case page without subclassing it: (template, context
# function). The function takes the case and the reader and returns the section's context, or
# None to leave the section out; the page includes each template in the order registered.
_case_sections = []


def register_case_section(template_name, context_fn):
    """Add a section to the case page; registering the same template twice adds it once."""
    if all(name != template_name for name, _fn in _case_sections):
        _case_sections.append((template_name, context_fn))


def case_sections(project, user):
    """The registered sections the reader sees, as (template name, context) pairs."""
    sections = []
    for template_name, context_fn in _case_sections:
        context = context_fn(project, user)
        if context is not None:
            sections.append((template_name, context))
    return sections


class ProjectDetailView(DetailModelView):
    """The case page. The layers above add their sections by extending ``get_context_data``
    (financing docking: the dockings and the financing needs), or with ``register_case_section``."""

    template_name = "cases/project_detail.html"

    def get_object(self):
        return selectors.project_detail(self.request.user, self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        project = self.object
        user = self.request.user
        year = timezone.localdate().year
        context.update(
            {
                "project": project,
                "stage_path": stage_path(project),
                "transitions": services.transition_options(project, user),
                "prework_rows": [
                    (item, services.transition_options(item, user)) for item in project.prework_items.all()
                ],
                "blocker_rows": [
                    (blocker, services.transition_options(blocker, user)) for blocker in project.blockers.all()
                ],
                "plans": sorted(project.annual_plans.all(), key=lambda p: p.year),
                "year": year,
                "timeline": timeline_entries(selectors.project_timeline(project)[:200]),
                "can_edit": permissions.can_edit_project(user, project),
                "can_add_prework": permissions.can_add_prework(user, project),
                "can_report_blocker": permissions.can_report_blocker(user, project),
                "case_sections": case_sections(project, user),
            }
        )
        return context


class ProjectFormMixin:
    form_class = ProjectForm

    def get_form_class(self):
        return ProjectForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["secretariat"] = permissions.is_secretariat(self.request.user)
        return kwargs


class ProjectCreateView(ProjectFormMixin, CreateModelView):
    def form_valid(self, form):
        try:
            self.object = services.project_create(
                actor=self.request.user, data=form.service_data(), annual_plans=form.annual_plans()
            )
        except ValidationError as error:
            form.add_service_errors(error)
            return self.form_invalid(form)
        messages.success(self.request, _("The key project %(code)s was added.") % {"code": self.object.code})
        return HttpResponseRedirect(project_url(self.object))


class ProjectUpdateView(ProjectFormMixin, UpdateModelView):
    def get_object(self):
        project = selectors.project_detail(self.request.user, self.kwargs["pk"])
        if not permissions.can_edit_project(self.request.user, project):
            raise PermissionDenied
        return project

    def form_valid(self, form):
        try:
            services.project_update(
                project=self.object,
                actor=self.request.user,
                data=form.service_data(),
                annual_plans=form.annual_plans(),
                expected_version=form.cleaned_data.get("version"),
            )
        except ValidationError as error:
            form.add_service_errors(error)
            return self.form_invalid(form)
        except services.Conflict as conflict:
            form.add_error(None, conflict.message)
            return self.form_invalid(form)
        messages.success(self.request, _("The key project %(code)s was saved.") % {"code": self.object.code})
        return HttpResponseRedirect(project_url(self.object))


class ProjectExportView(LoginRequiredMixin, generic.View):
    """The filtered project list as an Excel file, scoped like the list."""

    def get(self, request):
        if not permissions.can_export_projects(request.user):
            raise PermissionDenied
        projects = ProjectFilter(request.GET or None, queryset=selectors.project_list(request.user)).qs
        search = request.GET.get("_search", "").strip()
        if search:
            projects = get_search_results(projects, PROJECT_SEARCH_FIELDS, search)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return xlsx_response(excel.export_workbook(projects), f"key-projects-{stamp}.xlsx")


class ImportTemplateView(LoginRequiredMixin, generic.View):
    def get(self, request):
        if not permissions.can_import_projects(request.user):
            raise PermissionDenied
        return xlsx_response(excel.template_workbook(), "key-projects-template.xlsx")


class ProjectImportView(LoginRequiredMixin, generic.FormView):
    form_class = ImportForm
    template_name = "cases/project_import.html"
    viewset = None

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not permissions.can_import_projects(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        try:
            created, updated = excel.import_projects(upload, actor=self.request.user, file_name=upload.name)
        except excel.ImportFailed as failure:
            return self.render_to_response(self.get_context_data(form=form, errors=failure.errors), status=422)
        messages.success(
            self.request,
            _("Imported %(created)s new and %(updated)s changed key projects.") % {"created": created, "updated": updated},
        )
        return redirect("cases:projects:list")


class ApprovalsTemplateView(LoginRequiredMixin, generic.View):
    def get(self, request):
        if not permissions.can_import_projects(request.user):
            raise PermissionDenied
        return xlsx_response(approvals.template_workbook(), "approvals-template.xlsx")


class ApprovalsImportView(ProjectImportView):
    """The approvals of the national approval platform's export, done on the cases' pre-work items."""

    template_name = "cases/approvals_import.html"

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        try:
            done, unchanged = approvals.import_approvals(upload, actor=self.request.user, file_name=upload.name)
        except excel.ImportFailed as failure:
            return self.render_to_response(self.get_context_data(form=form, errors=failure.errors), status=422)
        messages.success(
            self.request,
            _("Imported %(done)s approvals; %(unchanged)s were on record already.")
            % {"done": done, "unchanged": unchanged},
        )
        return redirect("cases:projects:list")


# Transitions of any record


class TransitionView(LoginRequiredMixin, generic.FormView):
    """Take one transition on a record: a case, or (the subclasses) a pre-work item, a blocker, a
    docking. A subclass names its ``model``, the ``selector`` that scopes it, the case page's
    ``anchor`` to return to, and ``take`` that calls its service."""

    template_name = "cases/transition.html"
    model = KeyProject
    viewset = None
    anchor = ""

    def selector(self, user):
        return selectors.project_list(user)

    def get_record(self):
        pk = self.kwargs["pk"]
        user = self.request.user
        if self.model is KeyProject:
            return selectors.project_detail(user, pk)
        return get_object_or_404(self.selector(user), pk=pk)

    def project_of(self, record):
        return record if isinstance(record, KeyProject) else record.project

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.record = self.get_record()
        self.project = self.project_of(self.record)
        options = {o.name: o for o in services.transition_options(self.record, request.user)}
        self.option = options.get(self.kwargs["name"])
        if self.option is None:
            messages.error(request, _("This step is not possible from the current state."))
            return HttpResponseRedirect(project_url(self.project))
        if not self.option.permitted:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_class(self):
        return transition_form_class(self.model, self.option.name, reason_required=self.option.reason_required)

    def get_initial(self):
        return {"version": self.record.version}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        state = state_field(self.record)
        context.update(
            {
                "record": self.record,
                "project": self.project,
                "option": self.option,
                "current_label": self.record._get_FIELD_display(state),
            }
        )
        return context

    def take(self, form, common):
        return services.project_transition(project_id=self.record.pk, **common)

    def record_fields(self, form):
        """The record for its service, and the extra fields the transition set."""
        data = form.cleaned_data
        fields = {name: data[name] for name in form.extra_fields if data.get(name) not in (None, "")}
        return type(self.record).objects.select_related("project").get(pk=self.record.pk), fields

    def form_valid(self, form):
        data = form.cleaned_data
        common = {
            "transition": self.option.name,
            "actor": self.request.user,
            "reason": data.get("reason", ""),
            "expected_version": data.get("version"),
        }
        try:
            self.take(form, common)
        except services.TransitionBlocked as blocked:
            for reason in blocked.reasons:
                form.add_error(None, reason)
            return self.form_invalid(form)
        except (services.Conflict, services.TransitionNotAvailable) as error:
            form.add_error(None, error.message)
            return self.form_invalid(form)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Done: %(step)s.") % {"step": self.option.label})
        return HttpResponseRedirect(project_url(self.project, self.anchor))


class PreworkItemTransitionView(TransitionView):
    model = PreworkItem
    anchor = "prework"

    def selector(self, user):
        return selectors.prework_item_list(user)

    def take(self, form, common):
        item, fields = self.record_fields(form)
        return services.prework_item_transition(item=item, fields=fields, **common)


class BlockerTransitionView(TransitionView):
    model = Blocker
    anchor = "blockers"

    def selector(self, user):
        return selectors.blocker_list(user)

    def take(self, form, common):
        blocker, fields = self.record_fields(form)
        return services.blocker_transition(blocker=blocker, fields=fields, **common)


# Records added from a case page


class RecordCreateView(LoginRequiredMixin, generic.FormView):
    """Add a record on one case: a pre-work item, a blocker (or, in financing docking, a docking)."""

    template_name = "cases/record_form.html"
    viewset = None
    title = ""
    anchor = ""

    def allowed(self, user, project):
        raise NotImplementedError

    def create(self, form):
        raise NotImplementedError

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.project = selectors.project_detail(request.user, kwargs["pk"])
        if not self.allowed(request.user, self.project):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update({"project": self.project, "title": self.title})
        return context

    def form_valid(self, form):
        try:
            self.create(form)
        except ValidationError as error:
            if hasattr(form, "add_service_errors"):
                form.add_service_errors(error)
            else:
                form.add_error(None, error)
            return self.form_invalid(form)
        return HttpResponseRedirect(project_url(self.project, self.anchor))


class PreworkItemCreateView(RecordCreateView):
    form_class = PreworkItemForm
    anchor = "prework"

    @property
    def title(self):
        return _("Add a pre-work item")

    def allowed(self, user, project):
        return permissions.can_add_prework(user, project)

    def create(self, form):
        services.prework_item_create(project=self.project, actor=self.request.user, data=form.service_data())
        messages.success(self.request, _("The pre-work item was added."))


class BlockerReportView(RecordCreateView):
    form_class = BlockerForm
    anchor = "blockers"

    @property
    def title(self):
        return _("Report a blocker")

    def allowed(self, user, project):
        return permissions.can_report_blocker(user, project)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "secretariat": permissions.is_secretariat(self.request.user)}

    def create(self, form):
        services.blocker_report(project=self.project, actor=self.request.user, data=form.service_data())
        messages.success(self.request, _("The blocker was reported."))


class RecordUpdateView(UpdateModelView):
    """Change a pre-work item or a blocker through its service."""

    service = None
    may_edit = None
    anchor = ""

    def get_object(self):
        record = super().get_object()
        if not type(self).may_edit(self.request.user, record):
            raise PermissionDenied
        return record

    def form_valid(self, form):
        try:
            type(self).service(
                self.object,
                actor=self.request.user,
                data=form.service_data(),
                expected_version=form.cleaned_data.get("version"),
            )
        except ValidationError as error:
            form.add_service_errors(error)
            return self.form_invalid(form)
        except services.Conflict as conflict:
            form.add_error(None, conflict.message)
            return self.form_invalid(form)
        messages.success(self.request, _("Saved."))
        return HttpResponseRedirect(project_url(self.object.project, self.anchor))


class PreworkItemUpdateView(RecordUpdateView):
    anchor = "prework"

    @staticmethod
    def service(item, **kwargs):
        return services.prework_item_update(item=item, **kwargs)

    may_edit = staticmethod(permissions.can_edit_prework)


class BlockerUpdateView(RecordUpdateView):
    anchor = "blockers"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "secretariat": permissions.is_secretariat(self.request.user)}

    @staticmethod
    def service(blocker, **kwargs):
        return services.blocker_update(blocker=blocker, **kwargs)

    may_edit = staticmethod(permissions.can_edit_blocker)
