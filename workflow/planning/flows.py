"""The annual plan's flow: graph only. A unit proposes its reserve cases for the year by the
deadline; a proposal sent back opens the unit's task again."""

from django.utils.translation import gettext_lazy as _
from viewflow import this
from viewflow.workflow import flow

from cases import permissions as case_permissions
from workflow.engine.nodes import waiting_lock
from workflow.engine.permissions import ScopedFlow, may_view_process, unit_task

from . import tasks
from .models import ProposeProcess
from .views import ProposeStepView


def proposing_unit(activation):
    return unit_task(activation.process.unit_id)


class ProposeFlow(ScopedFlow):
    process_class = ProposeProcess
    lock_impl = waiting_lock
    process_title = _("Annual plan proposal")
    process_description = _("A unit proposes its reserve cases for next year's investment plan by the deadline.")

    start = flow.StartHandle(this.begin).Next(this.propose)
    propose = (
        flow.View(ProposeStepView.as_view())
        .Annotation(title=_("Propose projects for the annual plan"))
        .Permission(proposing_unit)
        .onCreate(this.start_clock)
        .Next(this.done)
    )
    done = flow.End()

    def begin(self, activation, compilation, unit):
        activation.process.compilation = compilation
        activation.process.unit = unit
        return activation.process

    def start_clock(self, activation):
        return tasks.start_clock(activation)

    def has_view_permission(self, user, obj=None):
        # Its process model's view permission is not among the engine's grants: the internal
        # roles see the flow, and a process only within their scope (their unit's task).
        if case_permissions.role_of(user) not in case_permissions.INTERNAL:
            return False
        return obj is None or may_view_process(user, obj)
