"""Starting the monthly cycle's flows: the report flows of a batch of reports."""


from django.db import transaction

from workflow.engine import clocks

from .flows import ReportFlow
from .models import MonthlyReport


def start_report_flows(report_ids):
    """Start the report flow of each report in the batch that has none yet, in one transaction:
    a crash rolls the batch back and its redelivery starts it again; a second delivery waits for
    the rows' locks, then finds the flows started and starts nothing twice."""
    with clocks.ladder_cached(), transaction.atomic():
        locked = list(
            MonthlyReport.objects.select_for_update(of=("self",)).filter(pk__in=report_ids).order_by().values_list("pk", flat=True)
        )
        todo = list(MonthlyReport.objects.filter(pk__in=locked, process__isnull=True).select_related("project"))
        for report in todo:
            ReportFlow.start.run(report=report)
    return len(todo)
