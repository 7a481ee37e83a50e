"""Reads of the inbox, shared by the bell, the page and the API."""

from .models import Delivery, DeliveryState, Notification


def inbox(user, *, unread_only=False, key=None):
    queryset = Notification.objects.filter(recipient=user).order_by("-created_at", "-id")
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    if key:
        queryset = queryset.filter(key=key)
    return queryset


def unread_count(user):
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def dead_deliveries():
    return Delivery.objects.filter(state=DeliveryState.DEAD).select_related("notification", "webhook")
