"""Celery tasks: thin, idempotent, taking ids. Retries live here; the logic in services."""

from celery import shared_task

from . import services
from .channels import SendFailed


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None, ignore_result=True)
def deliver(self, delivery_id):
    """Send one delivery; on failure count the attempt and retry with backoff, until it is dead."""
    try:
        return services.send_delivery(delivery_id)
    except services.RateLimited as wait:
        raise self.retry(countdown=wait.seconds) from None
    except SendFailed as failure:
        countdown = services.record_failure(delivery_id, failure)
    except Exception as failure:  # anything unforeseen counts as a failed attempt, never a stuck row
        # Only the class name: some exceptions' messages carry a webhook's address and token.
        countdown = services.record_failure(delivery_id, f"{failure.__class__.__name__} (unexpected)")
    if countdown is None:
        return "dead"
    raise self.retry(countdown=countdown)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def dispatch(delivery_ids):
    services.dispatch(delivery_ids)


@shared_task(ignore_result=True)
def relay():
    return services.relay()


@shared_task(ignore_result=True)
def send_digests():
    return services.send_digests()
