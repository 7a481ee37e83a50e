"""Celery tasks of the engine: the escalation sweep (beat, every minute) and its batches; thin,
taking ids, under the names the beat schedule and the brokers know."""

from celery import shared_task
from django.db import transaction

from . import ladder
from .nodes import run_flow_job  # noqa: F401 - registers the flow job task


@shared_task(name="workflow.tasks.sweep", ignore_result=True)
def sweep(*, now=None, limit=None):
    """Beat, every minute: hand the clocks with a due rung to batches, published after commit."""

    def publish(batch):
        transaction.on_commit(lambda: escalate_batch.apply_async((batch,)))

    return ladder.sweep(enqueue=publish, now=now, limit=limit)


@shared_task(name="workflow.tasks.escalate_batch", bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def escalate_batch(self, clock_ids):
    """Fire the due rungs of at most ``ladder.BATCH_SIZE`` clocks; safe to run twice."""
    return len(ladder.escalate_batch(clock_ids))
