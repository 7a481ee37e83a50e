"""What the monthly cycle adds to "my work": a project owner's monthly reports to write (the
report step its cases' lead unit holds, which the owner may take: ``engine.nodes.CaseOwnerMayTake``)."""

from django.db.models import Q
from viewflow.workflow.status import STATUS

from cases.models import Role

from .flows import ReportFlow
from .models import ReportProcess


def owner_reports(user, person):
    """A filter on viewflow's Task: the report steps of the owner's cases waiting to be taken."""
    if person is None or person.role != Role.OWNER or person.unit_id is None:
        return None
    return Q(
        flow_task=ReportFlow.write,
        status=STATUS.NEW,
        owner__isnull=True,
        process__in=ReportProcess.objects.filter(project__owner_id=person.unit_id).values("pk"),
    )
