"""Starting the monthly cycle's flows: the report flows of a batch of reports."""


from workflow.engine import bulk

from .flows import ReportFlow
from .models import MonthlyReport


def start_report_flows(report_ids):
    """Start the report flow of each report in the batch that has none yet, at once
    (``workflow.engine.bulk``), in one transaction: a crash rolls the batch back and its
    redelivery starts it again; a second delivery waits for the rows' locks, then finds the flows
    started and starts nothing twice."""
    reports = MonthlyReport.objects.filter(pk__in=report_ids, process__isnull=True).select_related("project")
    return len(bulk.start_many(ReportFlow.start, "report", reports))
