"""What financing docking adds to the case pages: the dockings and the financing needs on a case's
page, recommending the case to an institution, and taking a docking's steps from there."""

from django.contrib import messages
from django.utils.translation import gettext as _

from cases import views as case_views
from cases.models import Stage

from .. import permissions, selectors, services
from ..forms import DockingForm
from ..models import Docking


class ProjectDetailView(case_views.ProjectDetailView):
    """The case page with its dockings, each with the steps the reader may take, and whether the
    reader may add a financing need."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        project = self.object
        user = self.request.user
        context.update(
            {
                "docking_rows": [
                    (docking, services.transition_options(docking, user)) for docking in project.dockings.all()
                ],
                "can_manage_dockings": permissions.can_manage_dockings(user, project),
                # The lead unit, the owner enterprise or the secretariat, while the case seeks financing.
                "can_add_need": project.stage in (Stage.DOCKING, Stage.FINANCING)
                and permissions.can_edit_need(user, project),
            }
        )
        return context


class DockingCreateView(case_views.RecordCreateView):
    form_class = DockingForm
    anchor = "dockings"

    @property
    def title(self):
        return _("Recommend to a financial institution")

    def allowed(self, user, project):
        return permissions.can_manage_dockings(user, project)

    def create(self, form):
        services.docking_create(
            project=self.project, institution=form.cleaned_data["institution"], actor=self.request.user
        )
        messages.success(self.request, _("The docking was started."))


class DockingTransitionView(case_views.TransitionView):
    model = Docking
    anchor = "dockings"

    def selector(self, user):
        return selectors.case_dockings(user)

    def take(self, form, common):
        docking, fields = self.record_fields(form)
        return services.docking_transition(docking=docking, fields=fields, **common)
