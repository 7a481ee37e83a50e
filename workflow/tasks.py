"""Celery tasks of the coordination engine: thin, taking ids."""

import datetime

from celery import shared_task

from . import cycle, escalation, reports, services
from .nodes import run_flow_job  # noqa: F401 - registers the flow job task


@shared_task(ignore_result=True)
def sweep():
    """Beat, every minute: hand the clocks with a due rung to batches."""
    return escalation.sweep()


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def escalate_batch(self, clock_ids):
    """Fire the due rungs of at most 500 clocks; safe to run twice."""
    return len(escalation.escalate_batch(clock_ids))


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def start_order_flows(order_ids):
    services.start_order_flows(order_ids)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def start_interview_flows(interview_ids):
    services.start_interview_flows(interview_ids)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def cycle_tick():
    """Beat, daily (a django-celery-beat periodic task, editable in the admin): the steps of this
    month's cycle whose working day has come."""
    return cycle.cycle_tick()


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_cycle_step(kind, month_iso, force=False):
    """One step of a month's cycle, asked for on the cycle page or through the API."""
    run = cycle.run_step(kind, datetime.date.fromisoformat(month_iso), force=force)
    return run.pk if run else None


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=5)
def start_report_flows(self, report_ids):
    """Start the report flows of a batch of at most 200 reports; safe to run twice."""
    return reports.start_report_flows(report_ids)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def sweep_stalled_dockings():
    """Beat, daily (``CELERY_BEAT_SCHEDULE``): the stalled dockings' follow-ups, handed to batches."""
    from . import financing

    return financing.sweep_stalled_dockings()["stalled"]


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def start_docking_follow_ups(docking_ids, reason):
    """Start the follow-ups of a batch of at most 200 dockings; safe to run twice."""
    from . import financing

    return financing.start_follow_ups(docking_ids, reason)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=3)
def accept_reports(self, acceptance_id, report_ids):
    """Accept a batch of at most 50 reports of a bulk acceptance; safe to run twice. A batch
    that keeps failing is retried with a growing pause, then its reports are recorded as skipped
    with the error, so that the acceptance ends."""
    try:
        return reports.reports_accept_batch(acceptance_id=acceptance_id, report_ids=report_ids)
    except Exception as error:
        if self.request.retries < self.max_retries:
            raise self.retry(exc=error, countdown=30 * 2**self.request.retries) from error
        reports.reports_accept_failed(acceptance_id=acceptance_id, report_ids=report_ids, error=error)
        raise
