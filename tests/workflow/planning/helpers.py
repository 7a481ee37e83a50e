"""Steps of the annual plan's tests: open the compilation, propose, submit through the unit's task."""

from decimal import Decimal

from viewflow.workflow.status import STATUS

from workflow.planning import services
from workflow.planning.flows import ProposeFlow
from workflow.planning.models import PlanTarget, ProposeProcess

from .conftest import WAN, YEAR, figures


def open_compilation(org, year=YEAR, **kwargs):
    kwargs.setdefault("target_total", Decimal(10000) * WAN)
    kwargs.setdefault("targets", {(PlanTarget.Kind.GROUP, "territorial"): Decimal(6000) * WAN,
                                  (PlanTarget.Kind.INDUSTRY, "new_materials"): Decimal(5000) * WAN})
    return services.compilation_open(actor=org.secretariat.user, year=year, **kwargs)


def propose(org, compilation, project, person=None, **kwargs):
    person = person or org.head
    return services.proposal_save(actor=person.user, compilation_id=compilation.pk, project_id=project.pk,
                                  data=figures(**kwargs))


def open_task(compilation, unit):
    process = ProposeProcess.objects.filter(compilation=compilation, unit=unit, finished__isnull=True).get()
    return process.task_set.get(flow_task=ProposeFlow.propose, status__in=[STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED])


def submit(org, compilation, person=None):
    person = person or org.head
    return services.proposals_submit(task=open_task(compilation, person.unit), user=person.user)
