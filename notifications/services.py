"""The one way in (``notify``), the inbox, preferences and webhooks' secrets.

``notify`` writes the outbox rows and their deliveries in the caller's transaction with
a constant number of queries, and has ``tasks`` publish the deliveries after commit;
``delivery`` sends them, each at most once, and the relay task publishes again what should
have gone out by now and did not.
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from . import messages, secrets, tasks
from .models import Channel, Delivery, DeliveryState, Notification, Preference

ALL_CHANNELS = (Channel.EMAIL, Channel.WEBHOOK)


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
        transaction.on_commit(lambda: tasks.enqueue(pending))
    return notifications


def retry_deliveries(queryset):
    """Give dead or failing deliveries a fresh start (the admin's retry action)."""
    now = timezone.now()
    ids = list(
        queryset.exclude(state__in=[DeliveryState.SENT, DeliveryState.DIGEST]).values_list("pk", flat=True)
    )
    Delivery.objects.filter(pk__in=ids).update(state=DeliveryState.PENDING, attempts=0, due_at=now, last_error="")
    transaction.on_commit(lambda: tasks.enqueue(ids))
    return len(ids)


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
