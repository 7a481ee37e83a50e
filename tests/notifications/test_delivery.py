"""Sending one delivery: once, to the messengers' formats, retried with backoff, then dead."""

import base64
import hashlib
import hmac
import json
import logging
import random
import smtplib
import socket
from datetime import timedelta
from urllib.parse import quote_plus

import pytest
from celery.exceptions import Retry
from django.conf import settings
from django.contrib.auth.models import User
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse
from django.utils import timezone

from notifications import channels, services, tasks
from notifications import delivery as sending
from notifications.models import Delivery, DeliveryState, Webhook
from tests.notifications.factories import RecipientFactory, WebhookFactory

TOKEN = "tok-8f3a2c9e1b7d4a65"
SECRET = "SECd41d8cd98f00b204e9800998ecf8427e+/="
DOCKING = {"case": "CASE-6", "institution": "BANK-B", "state": "STATE-S"}
LINK = "/cases/projects/3/"


def hook_for(receiver, kind=Webhook.Kind.GENERIC, secret=SECRET, **fields):
    hook = WebhookFactory(kind=kind, url=f"{receiver.url}/robot/send?access_token={TOKEN}", **fields)
    if secret:
        services.webhook_set_secret(webhook=hook, secret=secret)
    return hook


def webhook_delivery(person, hook):
    (notification,) = services.notify(
        recipients=[person],
        key="docking_update",
        context=DOCKING,
        link=LINK,
        channels=["webhook"],
        webhooks={person.pk: [hook.pk]},
    )
    return Delivery.objects.get(notification=notification)


def email_delivery(person, key="docking_update"):
    (notification,) = services.notify(recipients=[person], key=key, context=DOCKING, channels=["email"])
    return Delivery.objects.get(notification=notification)


def stored(delivery):
    return Delivery.objects.get(pk=delivery.pk)


def absolute(link):
    return settings.SITE_URL.rstrip("/") + link


TITLE = "Financing docking: CASE-6 with BANK-B"
BODY = "The docking of CASE-6 with BANK-B is now: STATE-S."


# Once


def test_a_delivery_sent_twice_is_sent_once(person):
    delivery = email_delivery(person)

    first = sending.send_delivery(delivery.pk)
    second = sending.send_delivery(delivery.pk)

    assert (first, second) == ("sent", "skipped")
    assert len(mail.outbox) == 1
    assert stored(delivery).attempts == 1


def test_the_delivery_task_run_twice_posts_once(person, receiver):
    delivery = webhook_delivery(person, hook_for(receiver))

    tasks.deliver.apply((delivery.pk,))
    tasks.deliver.apply((delivery.pk,))

    assert len(receiver.posts) == 1
    assert stored(delivery).state == DeliveryState.SENT


def test_a_delivery_that_no_longer_exists_is_gone(db):
    assert sending.send_delivery(987654) == "gone"


# The messengers' formats


def test_a_dingtalk_robot_gets_markdown(person, receiver):
    delivery = webhook_delivery(person, hook_for(receiver, Webhook.Kind.DINGTALK))

    assert sending.send_delivery(delivery.pk) == "sent"

    (posted,) = receiver.posts
    assert posted.headers["content-type"].startswith("application/json")
    payload = posted.json
    assert payload["msgtype"] == "markdown"
    assert payload["markdown"]["title"] == TITLE
    assert payload["markdown"]["text"].startswith(f"### {TITLE}")
    assert BODY in payload["markdown"]["text"]
    assert absolute(LINK) in payload["markdown"]["text"]


def test_a_dingtalk_robot_is_called_at_its_signed_address(person, receiver):
    delivery = webhook_delivery(person, hook_for(receiver, Webhook.Kind.DINGTALK))
    before_ms = int(timezone.now().timestamp() * 1000)

    sending.send_delivery(delivery.pk)

    after_ms = int(timezone.now().timestamp() * 1000)
    (posted,) = receiver.posts
    assert posted.path == "/robot/send"
    assert posted.query["access_token"] == TOKEN
    timestamp = posted.query["timestamp"]
    assert before_ms <= int(timestamp) <= after_ms
    digest = hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    assert posted.query["sign"] == base64.b64encode(digest).decode()
    assert f"sign={quote_plus(base64.b64encode(digest).decode())}" in posted.raw_query


def test_the_dingtalk_signature_is_the_base64_hmac_of_timestamp_and_secret_url_quoted():
    secret = "SEC000example+/secret"
    timestamp = 1767225600000
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()

    signed = channels.dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=abc", secret, timestamp)

    expected = quote_plus(base64.b64encode(digest).decode())
    assert signed == (
        f"https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp={timestamp}&sign={expected}"
    )


def test_a_dingtalk_address_without_a_query_gets_one():
    signed = channels.dingtalk_signed_url("https://oapi.dingtalk.com/robot/send", "SECx", 1)

    assert signed.startswith("https://oapi.dingtalk.com/robot/send?timestamp=1&sign=")


def test_a_wecom_robot_gets_text(person, receiver):
    delivery = webhook_delivery(person, hook_for(receiver, Webhook.Kind.WECOM, secret=""))

    sending.send_delivery(delivery.pk)

    (posted,) = receiver.posts
    assert posted.query == {"access_token": TOKEN}
    payload = posted.json
    assert payload["msgtype"] == "text"
    content = payload["text"]["content"]
    assert content.startswith(TITLE)
    assert BODY in content
    assert content.endswith(absolute(LINK))


def test_a_generic_webhook_gets_json_with_an_idempotency_key_and_a_signature(person, receiver):
    hook = hook_for(receiver, Webhook.Kind.GENERIC)
    delivery = webhook_delivery(person, hook)

    sending.send_delivery(delivery.pk)

    (posted,) = receiver.posts
    payload = posted.json
    assert payload["id"] == f"{delivery.notification_id}:webhook:{hook.pk}"
    assert (payload["key"], payload["title"], payload["body"]) == ("docking_update", TITLE, BODY)
    assert payload["link"] == absolute(LINK)
    assert payload["recipient"] == person.username
    assert posted.headers["idempotency-key"] == payload["id"]
    expected = hmac.new(SECRET.encode(), posted.body, hashlib.sha256).hexdigest()
    assert posted.headers["x-signature-sha256"] == expected


def test_a_generic_webhook_without_a_secret_is_not_signed(person, receiver):
    delivery = webhook_delivery(person, hook_for(receiver, Webhook.Kind.GENERIC, secret=""))

    sending.send_delivery(delivery.pk)

    (posted,) = receiver.posts
    assert "x-signature-sha256" not in posted.headers
    assert posted.headers["idempotency-key"] == posted.json["id"]


def test_a_webhook_message_is_in_the_recipients_language(person, receiver):
    services.set_preferences(user=person, language="zh-hans")
    delivery = webhook_delivery(person, hook_for(receiver, Webhook.Kind.GENERIC))

    sending.send_delivery(delivery.pk)

    assert receiver.posts[0].json["title"] == "融资对接：CASE-6 与 BANK-B"


# Failures


def fail_once(delivery):
    """Run the task as a worker would once: a failure is counted and a retry is asked for."""
    with pytest.raises(Retry):
        tasks.deliver(delivery.pk)
    return stored(delivery)


def test_a_webhook_answering_500_counts_a_failed_attempt_and_is_retried_later(person, receiver):
    receiver.status = 500
    delivery = webhook_delivery(person, hook_for(receiver))
    before = timezone.now()

    failed = fail_once(delivery)

    after = timezone.now()
    assert (failed.state, failed.attempts, failed.sent_at) == (DeliveryState.RETRYING, 1, None)
    base = settings.NOTIFICATIONS_BACKOFF_BASE_SECONDS
    assert before + timedelta(seconds=base / 2) <= failed.due_at <= after + timedelta(seconds=base)
    assert "500" in failed.last_error
    assert len(receiver.posts) == 1


def test_a_dingtalk_error_code_in_a_200_answer_counts_a_failed_attempt(person, receiver):
    receiver.answer = {"errcode": 310000, "errmsg": "sign not match"}
    delivery = webhook_delivery(person, hook_for(receiver, Webhook.Kind.DINGTALK))

    failed = fail_once(delivery)

    assert (failed.state, failed.attempts) == (DeliveryState.RETRYING, 1)
    assert "310000" in failed.last_error


def test_a_wecom_error_code_counts_a_failed_attempt(person, receiver):
    receiver.answer = {"errcode": 93000, "errmsg": "invalid webhook url"}
    delivery = webhook_delivery(person, hook_for(receiver, Webhook.Kind.WECOM, secret=""))

    failed = fail_once(delivery)

    assert (failed.state, failed.attempts) == (DeliveryState.RETRYING, 1)


@pytest.mark.parametrize("kind", [Webhook.Kind.DINGTALK, Webhook.Kind.GENERIC])
def test_the_last_error_names_neither_the_secret_nor_the_access_token(person, receiver, kind):
    receiver.status = 500
    delivery = webhook_delivery(person, hook_for(receiver, kind))

    failed = fail_once(delivery)

    assert failed.last_error
    assert SECRET not in failed.last_error
    assert TOKEN not in failed.last_error


def test_an_unreachable_webhook_counts_a_failed_attempt_without_its_address(person):
    with socket.socket() as probe:  # a free port that nothing listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hook = WebhookFactory(url=f"http://127.0.0.1:{port}/robot/send?access_token={TOKEN}")
    delivery = webhook_delivery(person, hook)

    failed = fail_once(delivery)

    assert (failed.state, failed.attempts) == (DeliveryState.RETRYING, 1)
    assert TOKEN not in failed.last_error
    assert hook.name in failed.last_error


def test_after_the_last_attempt_the_delivery_is_dead(person, receiver, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    receiver.status = 500
    delivery = webhook_delivery(person, hook_for(receiver))

    tasks.deliver.apply((delivery.pk,))  # eagerly, each retry runs at once

    dead = stored(delivery)
    assert (dead.state, dead.attempts) == (DeliveryState.DEAD, 3)
    assert len(receiver.posts) == 3
    assert sending.send_delivery(delivery.pk) == "skipped"
    assert len(receiver.posts) == 3


def test_a_switched_off_webhook_fails_the_delivery_without_posting(person, receiver):
    hook = hook_for(receiver, is_active=False)
    delivery = webhook_delivery(person, hook)

    with pytest.raises(channels.SendFailed):
        sending.send_delivery(delivery.pk)

    failed = fail_once(delivery)
    assert (failed.state, failed.attempts) == (DeliveryState.RETRYING, 1)
    assert "switched off" in failed.last_error
    assert receiver.posts == []


class RefusingBackend(BaseEmailBackend):
    """An SMTP server that hangs up."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def test_a_failing_email_counts_a_failed_attempt(person, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    delivery = email_delivery(person)

    failed = fail_once(delivery)

    assert (failed.state, failed.attempts) == (DeliveryState.RETRYING, 1)
    assert failed.last_error == "email: SMTPServerDisconnected: Connection unexpectedly closed"
    assert mail.outbox == []


def test_a_webhook_whose_secret_cannot_be_read_counts_a_failed_attempt(person, receiver, settings):
    """After a SECRET_KEY rotation without the old key in SECRET_KEY_FALLBACKS: retried, then dead,
    never left pending for the relay to pick up forever."""
    delivery = webhook_delivery(person, hook_for(receiver, Webhook.Kind.DINGTALK))
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-rotated-key-without-its-fallback-0123456789", []

    failed = fail_once(delivery)

    assert (failed.state, failed.attempts) == (DeliveryState.RETRYING, 1)
    assert SECRET not in failed.last_error
    assert receiver.posts == []


# Dead letters and the admin's retry


def dead_delivery(person, receiver, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    receiver.status = 500
    delivery = webhook_delivery(person, hook_for(receiver))
    tasks.deliver.apply((delivery.pk,))
    assert stored(delivery).state == DeliveryState.DEAD
    receiver.status = 200
    return delivery


def test_retrying_a_dead_delivery_puts_it_back_to_pending_before_commit(
    person, receiver, settings, django_capture_on_commit_callbacks
):
    delivery = dead_delivery(person, receiver, settings)
    posts = len(receiver.posts)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert services.retry_deliveries(Delivery.objects.filter(pk=delivery.pk)) == 1

    fresh = stored(delivery)
    assert (fresh.state, fresh.attempts, fresh.last_error) == (DeliveryState.PENDING, 0, "")
    assert len(callbacks) == 1
    assert len(receiver.posts) == posts


def test_a_retried_delivery_is_sent_after_commit(person, receiver, settings, django_capture_on_commit_callbacks):
    delivery = dead_delivery(person, receiver, settings)

    with django_capture_on_commit_callbacks(execute=True):
        services.retry_deliveries(Delivery.objects.filter(pk=delivery.pk))

    assert stored(delivery).state == DeliveryState.SENT
    assert receiver.posts[-1].json["key"] == "docking_update"


def test_retrying_leaves_sent_deliveries_alone(person, django_capture_on_commit_callbacks):
    delivery = email_delivery(person)
    sending.send_delivery(delivery.pk)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.retry_deliveries(Delivery.objects.filter(pk=delivery.pk)) == 0

    assert stored(delivery).state == DeliveryState.SENT
    assert len(mail.outbox) == 1


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@example.org", "a-Long-test-passw0rd")


def test_dead_deliveries_are_listed_in_the_admin(person, receiver, settings, client, superuser):
    delivery = dead_delivery(person, receiver, settings)
    client.force_login(superuser)

    response = client.get(reverse("admin:notifications_delivery_changelist"), {"state__exact": "dead"})

    assert response.status_code == 200
    assert f'value="{delivery.pk}"' in response.content.decode()


def test_the_admins_retry_action_sends_a_dead_delivery_again(
    person, receiver, settings, client, superuser, django_capture_on_commit_callbacks
):
    delivery = dead_delivery(person, receiver, settings)
    client.force_login(superuser)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:notifications_delivery_changelist"),
            {"action": "retry", "_selected_action": [delivery.pk]},
        )

    assert response.status_code == 302
    assert stored(delivery).state == DeliveryState.SENT


# Backoff


def test_backoff_stays_between_half_and_all_of_a_doubling_delay():
    rng = random.Random(2026)
    for attempt in range(1, 8):
        delay = 30 * 2 ** (attempt - 1)
        for _ in range(50):
            assert delay / 2 <= sending.backoff_seconds(attempt, base=30, cap=3600, rng=rng) <= delay


def test_backoff_grows_exponentially_from_attempt_to_attempt():
    rng = random.Random(2026)
    samples = {a: [sending.backoff_seconds(a, base=30, cap=3600, rng=rng) for _ in range(50)] for a in range(1, 8)}

    for attempt in range(1, 7):
        assert min(samples[attempt + 1]) >= max(samples[attempt])
        assert max(samples[attempt + 1]) > 1.5 * max(samples[attempt])


def test_backoff_is_jittered():
    rng = random.Random(2026)

    values = {sending.backoff_seconds(4, base=30, cap=3600, rng=rng) for _ in range(20)}

    assert len(values) == 20


def test_backoff_stops_at_the_cap():
    rng = random.Random(2026)

    for attempt in (8, 9, 12, 30, 200):
        assert 1800 <= sending.backoff_seconds(attempt, base=30, cap=3600, rng=rng) <= 3600


def test_backoff_takes_its_base_and_cap_from_the_settings(settings):
    settings.NOTIFICATIONS_BACKOFF_BASE_SECONDS = 10
    settings.NOTIFICATIONS_BACKOFF_CAP_SECONDS = 40
    rng = random.Random(2026)

    assert 5 <= sending.backoff_seconds(1, rng=rng) <= 10
    assert 20 <= sending.backoff_seconds(10, rng=rng) <= 40


# The rate limit


def sent_to(hook, person, seconds_ago):
    delivery = webhook_delivery(person, hook)
    Delivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.SENT, sent_at=timezone.now() - timedelta(seconds=seconds_ago), attempts=1
    )
    return delivery


def test_a_webhook_that_sent_its_quota_in_the_last_minute_refuses_a_third(person, receiver):
    hook = hook_for(receiver, rate_limit_per_minute=2)
    sent_to(hook, person, 40)
    sent_to(hook, person, 10)
    third = webhook_delivery(person, hook)

    with pytest.raises(sending.RateLimited) as limited:
        sending.send_delivery(third.pk)

    assert 1 <= limited.value.seconds <= 60
    assert receiver.posts == []
    assert (stored(third).state, stored(third).attempts) == (DeliveryState.PENDING, 0)


def test_sends_older_than_a_minute_do_not_count_against_the_rate_limit(person, receiver):
    hook = hook_for(receiver, rate_limit_per_minute=2)
    sent_to(hook, person, 90)
    sent_to(hook, person, 75)
    third = webhook_delivery(person, hook)

    assert sending.send_delivery(third.pk) == "sent"
    assert len(receiver.posts) == 1


def test_a_rate_limited_delivery_is_retried_without_counting_an_attempt(person, receiver):
    hook = hook_for(receiver, rate_limit_per_minute=1)
    sent_to(hook, person, 5)
    waiting = webhook_delivery(person, hook)

    with pytest.raises(Retry):
        tasks.deliver(waiting.pk)

    assert (stored(waiting).state, stored(waiting).attempts) == (DeliveryState.PENDING, 0)


def test_the_rate_limit_is_per_webhook(person, receiver):
    busy = hook_for(receiver, rate_limit_per_minute=1)
    sent_to(busy, person, 5)
    quiet = hook_for(receiver, rate_limit_per_minute=1)

    assert sending.send_delivery(webhook_delivery(person, quiet).pk) == "sent"


# The relay


@pytest.fixture
def ledger(db):
    """One email delivery in each situation the relay must tell apart, each to its own person."""
    grace = sending.relay_grace()
    now = timezone.now()
    situations = {
        "pending_overdue": (DeliveryState.PENDING, now - grace - timedelta(seconds=60)),
        "retrying_overdue": (DeliveryState.RETRYING, now - grace - timedelta(seconds=60)),
        "pending_within_grace": (DeliveryState.PENDING, now - grace + timedelta(seconds=30)),
        "retrying_not_yet_due": (DeliveryState.RETRYING, now + timedelta(seconds=300)),
        "sent": (DeliveryState.SENT, now - grace - timedelta(seconds=60)),
        "dead": (DeliveryState.DEAD, now - grace - timedelta(seconds=60)),
        "digest": (DeliveryState.DIGEST, now - grace - timedelta(seconds=60)),
    }
    rows = {}
    for name, (state, due_at) in situations.items():
        delivery = email_delivery(RecipientFactory(username=f"relay-{name}"))
        Delivery.objects.filter(pk=delivery.pk).update(state=state, due_at=due_at)
        rows[name] = delivery
    return rows


def test_the_relay_sends_the_deliveries_overdue_by_more_than_the_grace_period(ledger):
    assert tasks.relay() == 2

    assert sorted(m.to[0] for m in mail.outbox) == [
        "relay-pending_overdue@example.org",
        "relay-retrying_overdue@example.org",
    ]
    assert stored(ledger["pending_overdue"]).state == DeliveryState.SENT
    assert stored(ledger["retrying_overdue"]).state == DeliveryState.SENT


def test_the_relay_leaves_fresh_and_settled_deliveries_alone(ledger):
    tasks.relay()

    states = {name: stored(delivery).state for name, delivery in ledger.items()}
    assert states == {
        "pending_overdue": DeliveryState.SENT,
        "retrying_overdue": DeliveryState.SENT,
        "pending_within_grace": DeliveryState.PENDING,
        "retrying_not_yet_due": DeliveryState.RETRYING,
        "sent": DeliveryState.SENT,
        "dead": DeliveryState.DEAD,
        "digest": DeliveryState.DIGEST,
    }


def test_the_relay_task_finds_nothing_the_second_time(ledger):
    tasks.relay.apply()

    assert tasks.relay() == 0
    assert len(mail.outbox) == 2


# Logs


def notification_logs(caplog):
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("notifications"))


@pytest.mark.parametrize("kind", [Webhook.Kind.DINGTALK, Webhook.Kind.WECOM, Webhook.Kind.GENERIC])
def test_the_log_says_where_a_message_went_but_not_the_secret_or_the_address(person, receiver, caplog, kind):
    caplog.set_level(logging.DEBUG, logger="notifications")
    hook = hook_for(receiver, kind)

    sending.send_delivery(webhook_delivery(person, hook).pk)

    logged = notification_logs(caplog)
    assert f"to webhook {hook.name} (127.0.0.1)" in logged
    assert SECRET not in logged
    assert TOKEN not in logged
    assert hook.url not in logged


def test_the_logs_of_failures_and_dead_letters_carry_neither_the_secret_nor_the_address(
    person, receiver, caplog, settings
):
    caplog.set_level(logging.DEBUG, logger="notifications")
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    receiver.status = 500
    hook = hook_for(receiver, Webhook.Kind.DINGTALK)

    tasks.deliver.apply((webhook_delivery(person, hook).pk,))

    logged = notification_logs(caplog)
    assert "is dead after 2 attempts" in logged
    assert SECRET not in logged
    assert TOKEN not in logged
    assert json.dumps(SECRET)[1:-1] not in logged
