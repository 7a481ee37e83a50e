"""The one way in (``notify``), and everything that moves a notification to its reader.

``notify`` writes the outbox rows and their deliveries in the caller's transaction with
a constant number of queries, and enqueues the deliveries after commit. A delivery is sent
at most once: the task locks its ledger row and skips it once sent. The relay enqueues
again what should have gone out by now and did not (a crash between commit and publish,
a broker that was down, a lost message).
"""

import logging
import random
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from . import channels, messages, secrets
from .models import Channel, Delivery, DeliveryState, Notification, Preference, Webhook

log = logging.getLogger("notifications")

ALL_CHANNELS = (Channel.EMAIL, Channel.WEBHOOK)
DIRECT_ENQUEUE_LIMIT = 20  # more deliveries than this are handed to a dispatch task in batches
DISPATCH_BATCH = 200
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


# Writing the outbox


def _user_ids(recipients):
    ids = []
    for recipient in recipients:
        ids.append(recipient if isinstance(recipient, int) else recipient.pk)
    return list(dict.fromkeys(ids))


def notify(*, recipients, key, context=None, link="", channels=None, event=None, webhooks=None):
    """Tell each recipient (users or user ids) a message of kind ``key``.

    ``channels`` limits the channels besides the in-app inbox (default: email and
    webhook); ``webhooks`` maps a recipient's id to the ids of the webhooks that post for
    them; ``event`` (uid, summary, start, end, location) rides along as an iCalendar
    invitation. Call it inside the transaction of the change it reports: the rows are
    written there, and delivery starts after commit. Returns the notifications.
    """
    return notify_each(
        [
            Message(
                recipients=recipients,
                key=key,
                context=context or {},
                link=link,
                channels=channels,
                event=event,
                webhooks=webhooks or {},
            )
        ]
    )


@dataclass
class Message:
    """One message for ``notify_each``: what ``notify`` takes, as a value."""

    recipients: list
    key: str
    context: dict = field(default_factory=dict)
    link: str = ""
    channels: list | None = None
    event: dict | None = None
    webhooks: dict = field(default_factory=dict)


def notify_each(messages_to_send):
    """Many different messages (each to its recipients) with the same constant number of
    queries as one: for a sweep that escalates five hundred tasks at once."""
    items = []
    for message in messages_to_send:
        kind = messages.get(message.key)
        for uid in _user_ids(message.recipients):
            items.append((message, kind, uid))
    if not items:
        return []
    ids = {uid for _m, _k, uid in items}
    User = get_user_model()
    emails = dict(User.objects.filter(pk__in=ids, is_active=True).values_list("pk", "email"))
    preferences = {p.user_id: p for p in Preference.objects.filter(user_id__in=ids)}
    now = timezone.now()
    kept = [(message, kind, uid) for message, kind, uid in items if uid in emails]
    notifications = Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=uid,
                key=message.key,
                context=message.context,
                link=message.link,
                event=message.event,
                urgent=kind.urgent,
                created_at=now,
            )
            for message, kind, uid in kept
        ]
    )
    deliveries = []
    for notification, (message, kind, uid) in zip(notifications, kept, strict=True):
        wanted = set(message.channels) if message.channels is not None else set(ALL_CHANNELS)
        preference = preferences.get(uid)
        switched_off = set(preference.channels_off.get(message.key, [])) if preference else set()
        if Channel.EMAIL in wanted and Channel.EMAIL not in switched_off and emails[uid]:
            digest = bool(preference and preference.daily_digest and not kind.urgent)
            deliveries.append(
                Delivery(
                    notification=notification,
                    channel=Channel.EMAIL,
                    state=DeliveryState.DIGEST if digest else DeliveryState.PENDING,
                    due_at=now,
                    created_at=now,
                )
            )
        if Channel.WEBHOOK in wanted and Channel.WEBHOOK not in switched_off:
            for webhook_id in dict.fromkeys(message.webhooks.get(uid, ())):
                deliveries.append(
                    Delivery(
                        notification=notification,
                        channel=f"webhook:{webhook_id}",
                        webhook_id=webhook_id,
                        due_at=now,
                        created_at=now,
                    )
                )
    Delivery.objects.bulk_create(deliveries)
    pending = [d.pk for d in deliveries if d.state == DeliveryState.PENDING]
    if pending:
        transaction.on_commit(lambda: enqueue(pending))
    return notifications


def enqueue(delivery_ids):
    """Publish delivery tasks; a failure is logged and left to the relay."""
    from . import tasks

    delivery_ids = list(delivery_ids)
    try:
        if len(delivery_ids) <= DIRECT_ENQUEUE_LIMIT:
            for delivery_id in delivery_ids:
                tasks.deliver.apply_async((delivery_id,))
        else:
            for start in range(0, len(delivery_ids), DISPATCH_BATCH):
                tasks.dispatch.apply_async((delivery_ids[start : start + DISPATCH_BATCH],))
    except Exception as exc:  # the broker is down: the rows are safe, the relay publishes them later
        log.warning(
            "could not publish %s deliveries (%s); the relay will", len(delivery_ids), exc.__class__.__name__
        )


def dispatch(delivery_ids):
    """Publish one task per delivery (run in a worker for large fan-outs)."""
    from . import tasks

    for delivery_id in delivery_ids:
        tasks.deliver.apply_async((delivery_id,))


# Sending


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


def relay(*, limit=1000):
    """Enqueue again the deliveries that are due since longer than the grace period."""
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
        enqueue(overdue)
    return len(overdue)


def retry_deliveries(queryset):
    """Give dead or failing deliveries a fresh start (the admin's retry action)."""
    now = timezone.now()
    ids = list(
        queryset.exclude(state__in=[DeliveryState.SENT, DeliveryState.DIGEST]).values_list("pk", flat=True)
    )
    Delivery.objects.filter(pk__in=ids).update(state=DeliveryState.PENDING, attempts=0, due_at=now, last_error="")
    transaction.on_commit(lambda: enqueue(ids))
    return len(ids)


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


# The inbox


def mark_read(*, user, notification_id):
    """Mark one of ``user``'s notifications read; returns it (404 for anyone else's)."""
    notification = Notification.objects.get(pk=notification_id, recipient=user)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(*, user):
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


# Preferences and webhooks


def preference_for(user):
    preference, _created = Preference.objects.get_or_create(user=user)
    return preference


def set_preferences(*, user, language=None, daily_digest=None, channels_off=None):
    preference = preference_for(user)
    if language is not None:
        preference.language = language
    if daily_digest is not None:
        preference.daily_digest = daily_digest
    if channels_off is not None:
        cleaned = {}
        for key, switched in channels_off.items():
            messages.get(key)
            off = sorted(set(switched) & {c.value for c in ALL_CHANNELS})
            if off:
                cleaned[key] = off
        preference.channels_off = cleaned
    preference.full_clean()
    preference.save()
    return preference


def webhook_set_secret(*, webhook, secret):
    """Store a webhook's secret encrypted; it is never shown again."""
    webhook.secret_encrypted = secrets.encrypt(secret)
    webhook.save(update_fields=["secret_encrypted"])
    return webhook
