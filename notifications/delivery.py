"""Sending: one delivery at most once, a failed attempt counted with backoff until it is dead,
the deliveries the relay must publish again, and the daily digest.

The celery tasks (``tasks``) call these; ``services`` writes the outbox and has the tasks
publish it. A delivery's ledger row is locked for its send, so a second task for the same
delivery waits and then skips it.
"""

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from . import channels
from .models import Delivery, DeliveryState, Preference, Webhook

log = logging.getLogger("notifications")

SETTLED = (DeliveryState.SENT, DeliveryState.DEAD, DeliveryState.DIGEST)


class RateLimited(Exception):
    def __init__(self, seconds):
        self.seconds = seconds
        super().__init__(f"webhook rate limit: try again in {seconds} s")


def max_attempts():
    return getattr(settings, "NOTIFICATIONS_MAX_ATTEMPTS", 8)


def relay_grace():
    return timedelta(seconds=getattr(settings, "NOTIFICATIONS_RELAY_GRACE_SECONDS", 120))


def backoff_seconds(attempt, *, base=None, cap=None, rng=random):
    """Seconds before retry number ``attempt`` (1, 2, ...): doubling from ``base`` up to ``cap``,
    half of it fixed and half random, so that failed deliveries do not come back in step."""
    base = base if base is not None else getattr(settings, "NOTIFICATIONS_BACKOFF_BASE_SECONDS", 30)
    cap = cap if cap is not None else getattr(settings, "NOTIFICATIONS_BACKOFF_CAP_SECONDS", 3600)
    delay = min(cap, base * 2 ** max(attempt - 1, 0))
    return delay / 2 + rng.uniform(0, delay / 2)


def _language_of(user_id):
    preference = Preference.objects.filter(user_id=user_id).only("language").first()
    return (preference.language if preference else "") or settings.LANGUAGE_CODE


def _preferred_language(user):
    """The language a user reads, from a user fetched with select_related(notification_preference)."""
    try:
        return user.notification_preference.language or settings.LANGUAGE_CODE
    except Preference.DoesNotExist:
        return settings.LANGUAGE_CODE


def _check_rate(webhook, now):
    """Lock the webhook and refuse when it sent its quota in the last minute."""
    Webhook.objects.select_for_update().filter(pk=webhook.pk).first()
    window = now - timedelta(seconds=60)
    recent = Delivery.objects.filter(webhook_id=webhook.pk, state=DeliveryState.SENT, sent_at__gte=window)
    if recent.count() >= webhook.rate_limit_per_minute:
        oldest = recent.order_by("sent_at").values_list("sent_at", flat=True).first()
        raise RateLimited(max(1, int((oldest - window).total_seconds()) + 1))


def send_delivery(delivery_id):
    """Send one delivery unless it is settled; returns "sent", "skipped" or "gone".

    The ledger row is locked for the send, so a second task for the same delivery waits
    and then skips it: it is sent once. Raises channels.SendFailed or RateLimited.
    """
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("notification__recipient__notification_preference", "webhook")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return "gone"
        if delivery.state in SETTLED:
            return "skipped"
        now = timezone.now()
        language = _preferred_language(delivery.notification.recipient)
        if delivery.webhook_id:
            if not delivery.webhook.is_active:
                raise channels.SendFailed(f"webhook {delivery.webhook.name} is switched off")
            _check_rate(delivery.webhook, now)
            channels.send_webhook(delivery, language)
        else:
            channels.send_email(delivery, language)
        delivery.state = DeliveryState.SENT
        delivery.sent_at = timezone.now()
        delivery.attempts += 1
        delivery.last_error = ""
        delivery.save(update_fields=["state", "sent_at", "attempts", "last_error"])
    return "sent"


def record_failure(delivery_id, error):
    """Count a failed attempt. Returns the seconds until the next one, or None when it is dead."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.state in SETTLED:
            return None
        delivery.attempts += 1
        delivery.last_error = str(error)[:2000]
        if delivery.attempts >= max_attempts():
            delivery.state = DeliveryState.DEAD
            delivery.save(update_fields=["attempts", "last_error", "state"])
            log.warning("delivery %s is dead after %s attempts: %s", delivery.pk, delivery.attempts, error)
            return None
        countdown = backoff_seconds(delivery.attempts)
        delivery.state = DeliveryState.RETRYING
        delivery.due_at = timezone.now() + timedelta(seconds=countdown)
        delivery.save(update_fields=["attempts", "last_error", "state", "due_at"])
    log.info("delivery %s failed (attempt %s), retrying in %.0f s", delivery_id, delivery.attempts, countdown)
    return countdown


def due_for_relay(*, limit=1000):
    """The deliveries due since longer than the grace period (a crash between commit and
    publish, a broker that was down, a lost message), made due now; their ids, for the relay
    task to publish again."""
    now = timezone.now()
    overdue = list(
        Delivery.objects.filter(
            state__in=[DeliveryState.PENDING, DeliveryState.RETRYING], due_at__lte=now - relay_grace()
        )
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    )
    if overdue:
        Delivery.objects.filter(pk__in=overdue).update(due_at=now)
        log.info("relay: enqueuing %s deliveries that never went out", len(overdue))
    return overdue


def send_digests():
    """One email per person with everything waiting for their digest. Returns emails sent."""
    sent = 0
    users = (
        Delivery.objects.filter(state=DeliveryState.DIGEST)
        .values_list("notification__recipient_id", flat=True)
        .distinct()
    )
    for user_id in list(users):
        with transaction.atomic():
            waiting = list(
                Delivery.objects.select_for_update(of=("self",))
                .filter(state=DeliveryState.DIGEST, notification__recipient_id=user_id)
                .select_related("notification__recipient")
                .order_by("notification__created_at")
            )
            if not waiting:
                continue
            recipient = waiting[0].notification.recipient
            if not recipient.email:
                continue
            language = _language_of(user_id)
            with translation.override(language):
                subject = gettext("Your daily digest of %(date)s") % {"date": timezone.localdate().isoformat()}
            try:
                channels.build_email([d.notification for d in waiting], language, subject=subject).send()
            except Exception as exc:
                log.warning("digest for user %s not sent (%s); tomorrow's run tries again", user_id, exc)
                continue
            Delivery.objects.filter(pk__in=[d.pk for d in waiting]).update(
                state=DeliveryState.SENT, sent_at=timezone.now(), attempts=1
            )
            sent += 1
    return sent
