"""Celery tasks: thin, idempotent, taking ids, and the one place that publishes them.

Retries live here; sending lives in ``delivery``. ``services`` writes the outbox rows and
calls ``enqueue`` after commit; these tasks never call back into ``services``.
"""

import logging

from celery import shared_task

from . import delivery
from .channels import SendFailed

log = logging.getLogger("notifications")

DIRECT_ENQUEUE_LIMIT = 20  # more deliveries than this are handed to a dispatch task in batches
DISPATCH_BATCH = 200


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None, ignore_result=True)
def deliver(self, delivery_id):
    """Send one delivery; on failure count the attempt and retry with backoff, until it is dead."""
    try:
        return delivery.send_delivery(delivery_id)
    except delivery.RateLimited as wait:
        raise self.retry(countdown=wait.seconds) from None
    except SendFailed as failure:
        countdown = delivery.record_failure(delivery_id, failure)
    except Exception as failure:  # anything unforeseen counts as a failed attempt, never a stuck row
        # Only the class name: some exceptions' messages carry a webhook's address and token.
        countdown = delivery.record_failure(delivery_id, f"{failure.__class__.__name__} (unexpected)")
    if countdown is None:
        return "dead"
    raise self.retry(countdown=countdown)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def dispatch(delivery_ids):
    """Publish one task per delivery (run in a worker for large fan-outs)."""
    for delivery_id in delivery_ids:
        deliver.apply_async((delivery_id,))


@shared_task(ignore_result=True)
def relay():
    """Beat: publish again the deliveries that should have gone out by now and did not."""
    overdue = delivery.due_for_relay()
    if overdue:
        enqueue(overdue)
    return len(overdue)


@shared_task(ignore_result=True)
def send_digests():
    return delivery.send_digests()


def enqueue(delivery_ids):
    """Publish delivery tasks; a failure is logged and left to the relay."""
    delivery_ids = list(delivery_ids)
    try:
        if len(delivery_ids) <= DIRECT_ENQUEUE_LIMIT:
            for delivery_id in delivery_ids:
                deliver.apply_async((delivery_id,))
        else:
            for start in range(0, len(delivery_ids), DISPATCH_BATCH):
                dispatch.apply_async((delivery_ids[start : start + DISPATCH_BATCH],))
    except Exception as exc:  # the broker is down: the rows are safe, the relay publishes them later
        log.warning(
            "could not publish %s deliveries (%s); the relay will", len(delivery_ids), exc.__class__.__name__
        )
