"""Celery tasks of the coordination flows: starting the ladder's orders and interviews, and the
stalled dockings' follow-ups (beat, daily); thin, taking ids, under the names the beat schedule
and the brokers know."""

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from . import launch
from .followups import BATCH, STALLED, stalled_dockings


def sweep_stalled(*, now=None, enqueue=True):
    """Hand the stalled dockings to batches that start their follow-ups (after commit, by default
    in celery workers; ``enqueue=False`` runs the batches here). Safe to run again."""
    now = now or timezone.now()
    ids = list(stalled_dockings(now))
    batches = [ids[start : start + BATCH] for start in range(0, len(ids), BATCH)]
    for batch in batches:
        if enqueue:
            transaction.on_commit(lambda batch=batch: start_docking_follow_ups.delay(batch, STALLED))
        else:
            launch.start_follow_ups(batch, STALLED, now=now)
    return {"stalled": len(ids), "batches": len(batches)}


@shared_task(name="workflow.tasks.start_order_flows", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def start_order_flows(order_ids):
    launch.start_order_flows(order_ids)


@shared_task(name="workflow.tasks.start_interview_flows", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def start_interview_flows(interview_ids):
    launch.start_interview_flows(interview_ids)


@shared_task(name="workflow.tasks.sweep_stalled_dockings", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def sweep_stalled_dockings():
    """Beat, daily (``CELERY_BEAT_SCHEDULE``): the stalled dockings' follow-ups, handed to batches."""
    return sweep_stalled()["stalled"]


@shared_task(name="workflow.tasks.start_docking_follow_ups", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def start_docking_follow_ups(docking_ids, reason):
    """Start the follow-ups of a batch of at most 200 dockings; safe to run twice."""
    return launch.start_follow_ups(docking_ids, reason)
