"""Celery tasks the monthly cycle's services fan their work out to, after commit: report flows in
batches, many reports accepted in batches. Thin, taking ids, under the names the brokers know."""


from celery import shared_task

from . import acceptance as report_acceptance
from . import launch


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=5)
def start_report_flows(self, report_ids):
    """Start the report flows of a batch of at most ``REPORT_BATCH`` reports, at once; safe to run twice."""
    return launch.start_report_flows(report_ids)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=3)
def accept_reports(self, acceptance_id, report_ids):
    """Accept a batch of at most 50 reports of a bulk acceptance; safe to run twice. A batch
    that keeps failing is retried with a growing pause, then its reports are recorded as skipped
    with the error, so that the acceptance ends."""
    try:
        return report_acceptance.reports_accept_batch(acceptance_id=acceptance_id, report_ids=report_ids)
    except Exception as error:
        if self.request.retries < self.max_retries:
            raise self.retry(exc=error, countdown=30 * 2**self.request.retries) from error
        report_acceptance.reports_accept_failed(acceptance_id=acceptance_id, report_ids=report_ids, error=error)
        raise
