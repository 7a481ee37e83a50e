"""Celery tasks of the coordination engine: thin, taking ids."""

from celery import shared_task

from . import escalation, lights, services
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
def lights_due():
    """Beat, daily: last month's lights, once, from the sixth working day of this month."""
    return lights.lights_due()
