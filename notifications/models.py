"""The outbox (one notification per recipient), the delivery ledger, webhooks and preferences."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("Messenger webhook")


class Notification(models.Model):
    """One message to one person; also its in-app inbox entry."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    key = models.CharField(_("kind of message"), max_length=60)
    context = models.JSONField(_("context"), default=dict, blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    event = models.JSONField(
        _("calendar event"),
        null=True,
        blank=True,
        help_text=_("uid, summary, start, end, location: sent as an iCalendar attachment."),
    )
    urgent = models.BooleanField(_("urgent"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notif_recipient_unread"),
            models.Index(fields=["recipient", "-created_at"], name="notif_recipient_recent"),
        ]

    def __str__(self):
        return f"{self.key} → {self.recipient_id}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    RETRYING = "retrying", _("Retrying")
    SENT = "sent", _("Sent")
    DIGEST = "digest", _("Waiting for the daily digest")
    DEAD = "dead", _("Dead")


class Webhook(models.Model):
    """An office messenger's group robot (DingTalk, WeCom) or any JSON endpoint."""

    class Kind(models.TextChoices):
        DINGTALK = "dingtalk", _("DingTalk robot")
        WECOM = "wecom", _("WeCom robot")
        GENERIC = "generic", _("Generic JSON POST")

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    url = models.URLField(
        _("address"),
        max_length=500,
        help_text=_("The robot's address; for WeCom it carries the key, for DingTalk the access token."),
    )
    secret_encrypted = models.TextField(_("secret (encrypted)"), blank=True, editable=False)
    rate_limit_per_minute = models.PositiveSmallIntegerField(
        _("messages per minute at most"), default=20, validators=[MinValueValidator(1)]
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def has_secret(self):
        return bool(self.secret_encrypted)


class Delivery(models.Model):
    """The ledger: one row per notification and channel, sent at most once."""

    notification = models.ForeignKey(
        Notification, verbose_name=_("notification"), on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(
        _("channel"), max_length=40, help_text=_("email, or webhook:<id> for a webhook.")
    )
    webhook = models.ForeignKey(
        Webhook, verbose_name=_("webhook"), null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    state = models.CharField(
        _("state"), max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    due_at = models.DateTimeField(_("due at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="uniq_delivery_per_channel"),
        ]
        indexes = [
            models.Index(fields=["state", "due_at"], name="delivery_state_due"),
            models.Index(fields=["webhook", "sent_at"], name="delivery_webhook_sent"),
        ]

    def __str__(self):
        return f"{self.notification_id}/{self.channel} {self.state}"


class Preference(models.Model):
    """How a person wants to be told: language, channels per kind of message, daily digest."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, blank=True)
    daily_digest = models.BooleanField(
        _("daily digest"),
        default=False,
        help_text=_("One email a day instead of single emails; urgent messages still go out at once."),
    )
    channels_off = models.JSONField(
        _("channels switched off"),
        default=dict,
        blank=True,
        help_text=_("For each kind of message, the channels the person does not want."),
    )

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self):
        return str(self.user)
