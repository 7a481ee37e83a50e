"""Sending one delivery: email (text, HTML, iCalendar) and the messengers' webhooks.

Each sender raises ``SendFailed`` when the other side refuses; the task retries it.
Logs name the webhook and the host, never its address or secret.
"""

import base64
import hashlib
import hmac
import json
import logging
import time
import urllib.parse
from datetime import UTC, datetime
from email.utils import parseaddr

import requests
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from . import messages, secrets, work
from .models import Webhook

log = logging.getLogger("notifications")
TIMEOUT_SECONDS = 10


class SendFailed(Exception):
    pass


def absolute(link):
    if not link or link.startswith(("http://", "https://")):
        return link
    return settings.SITE_URL.rstrip("/") + "/" + link.lstrip("/")


def recipient_name(user):
    return user.get_full_name() or user.get_username()


# Email


def _instant(value):
    """An ISO 8601 time as UTC; a time without an offset is in the site's TIME_ZONE."""
    moment = datetime.fromisoformat(value)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment.astimezone(UTC)


def calendar_attachment(event, *, attendee=None):
    """An iCalendar (.ics) request for a meeting: uid, sequence, summary, start, end, location,
    description; organised by the system's sender, addressed to ``attendee`` (an email address).

    A changed meeting is sent again with the same uid and a higher sequence: calendar clients
    replace the entry they hold only when the sequence has grown (RFC 5545, 3.8.7.4)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Key projects//notifications//")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    entry = Event()
    entry.add("uid", event["uid"])
    entry.add("sequence", int(event.get("sequence") or 0))
    entry.add("summary", event.get("summary", ""))
    entry.add("dtstart", _instant(event["start"]))
    entry.add("dtend", _instant(event["end"]))
    entry.add("dtstamp", datetime.now(UTC))
    if event.get("location"):
        entry.add("location", event["location"])
    if event.get("description"):
        entry.add("description", event["description"])
    entry.add("organizer", vCalAddress(f"mailto:{parseaddr(settings.DEFAULT_FROM_EMAIL)[1]}"))
    if attendee:
        address = vCalAddress(f"mailto:{attendee}")
        address.params["ROLE"] = vText("REQ-PARTICIPANT")
        address.params["RSVP"] = vText("TRUE")
        entry.add("attendee", address, encode=0)
    calendar.add_component(entry)
    return calendar.to_ical()


def build_email(notifications, language, *, subject=None):
    """One email for one or more notifications to the same person (more than one: a digest)."""
    recipient = notifications[0].recipient
    items = []
    for notification in notifications:
        title, body = messages.render(notification.key, notification.context, language)
        items.append({"title": title, "body": body, "link": absolute(notification.link), "at": notification.created_at})
    with translation.override(language):
        figures = work.counts(recipient) if len(items) > 1 else None
        context = {
            "items": items, "recipient": recipient_name(recipient), "digest": len(items) > 1,
            "work": figures, "work_link": absolute(figures.link) if figures else "",
        }
        subject = "[{}] {}".format(_("Key projects"), subject or items[0]["title"])
        subject = " ".join(subject.split())  # a header may not hold a line break
        text = render_to_string("notifications/email.txt", context)
        html = render_to_string("notifications/email.html", context)
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[recipient.email],
    )
    email.attach_alternative(html, "text/html")
    for notification in notifications:
        if notification.event:
            email.attach(
                "invite.ics",
                calendar_attachment(notification.event, attendee=recipient.email),
                "text/calendar; method=REQUEST",
            )
    return email


def send_email(delivery, language):
    notification = delivery.notification
    if not notification.recipient.email:
        raise SendFailed("the recipient has no email address")
    try:
        build_email([notification], language).send()
    except Exception as exc:  # SMTP refusals, timeouts, bad addresses: all worth a retry
        raise SendFailed(f"email: {exc.__class__.__name__}: {exc}") from exc
    log.info("sent %s notification %s by email to user %s", notification.key, notification.pk, notification.recipient_id)


# Webhooks


def dingtalk_signed_url(url, secret, timestamp_ms=None):
    """DingTalk's signature: HMAC-SHA256 of "timestamp\\nsecret" keyed by the secret, base64, URL-quoted."""
    timestamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={timestamp}&sign={sign}"


def webhook_payload(webhook, delivery, title, body, link):
    name = recipient_name(delivery.notification.recipient)
    text = f"{title}\n{name}：{body}" + (f"\n{link}" if link else "")
    if webhook.kind == Webhook.Kind.DINGTALK:
        return {"msgtype": "markdown", "markdown": {"title": title, "text": f"### {title}\n\n{name}：{body}\n\n{link}"}}
    if webhook.kind == Webhook.Kind.WECOM:
        return {"msgtype": "text", "text": {"content": text}}
    return {
        "id": f"{delivery.notification_id}:{delivery.channel}",
        "key": delivery.notification.key,
        "title": title,
        "body": body,
        "link": link,
        "recipient": delivery.notification.recipient.get_username(),
        "created_at": delivery.notification.created_at.isoformat(),
    }


def send_webhook(delivery, language):
    webhook = delivery.webhook
    notification = delivery.notification
    title, body = messages.render(notification.key, notification.context, language)
    payload = webhook_payload(webhook, delivery, title, body, absolute(notification.link))
    data = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    url = webhook.url
    try:
        secret = secrets.decrypt(webhook.secret_encrypted)
    except ValueError as exc:
        raise SendFailed(f"webhook {webhook.name}: its secret cannot be read with the current SECRET_KEY") from exc
    if webhook.kind == Webhook.Kind.DINGTALK and secret:
        url = dingtalk_signed_url(url, secret)
    if webhook.kind == Webhook.Kind.GENERIC:
        headers["Idempotency-Key"] = payload["id"]
        if secret:
            headers["X-Signature-SHA256"] = hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()
    host = urllib.parse.urlsplit(webhook.url).hostname
    try:
        response = requests.post(url, data=data, headers=headers, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise SendFailed(f"webhook {webhook.name} ({host}): {exc.__class__.__name__}") from exc
    if response.status_code >= 300:
        raise SendFailed(f"webhook {webhook.name} ({host}) answered {response.status_code}")
    if webhook.kind in (Webhook.Kind.DINGTALK, Webhook.Kind.WECOM):
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if answer.get("errcode", 0) != 0:
            raise SendFailed(f"webhook {webhook.name} ({host}) refused: errcode {answer.get('errcode')}")
    log.info("sent %s notification %s to webhook %s (%s)", notification.key, notification.pk, webhook.name, host)
