"""Notifications are never lost and never sent twice: a real worker, Redis and PostgreSQL, with faults.

Run alone with ``pytest -m faults`` (PostgreSQL: DATABASE_URL=postgres://...).
"""

import random
import time
from unittest import mock

import pytest
from django.db import transaction

from notifications import services, tasks
from notifications.models import Delivery, DeliveryState, Notification
from tests.integration.harness import wait_for

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def send(recipient, hook, count, *, key="docking_update"):
    """``count`` notifications to one person, each with a webhook delivery, one transaction each."""
    for n in range(count):
        with transaction.atomic():
            services.notify(
                recipients=[recipient],
                key=key,
                context={"case": f"2026-GX-{n:04d}", "institution": "开发银行", "state": "已接洽"},
                link=f"/cases/projects/{n}/detail/",
                channels=["webhook"],
                webhooks={recipient.pk: [hook.pk]},
            )


def sent_count():
    return Delivery.objects.filter(state=DeliveryState.SENT).count()


def test_a_thousand_notifications_survive_a_worker_killed_at_random(recipient, hook, receiver, worker):
    rng = random.Random(2026)
    # The kills fall at five random points of the run measured in deliveries sent, so they
    # land mid-run however fast this machine delivers; the worker waits while we enqueue.
    marks = sorted(rng.sample(range(50, 950), 5))
    worker.stop()
    send(recipient, hook, 1000)
    worker.start()
    deadline = time.monotonic() + 240
    for mark in marks:
        while sent_count() < mark and time.monotonic() < deadline:
            time.sleep(0.02)
        if sent_count() >= 1000:
            break
        worker.kill()
        worker.start()
    wait_for(
        lambda: sent_count() == 1000 or time.monotonic() > deadline,
        timeout=250,
        interval=0.5,
        message="every delivery to be sent",
    )
    assert worker.kills == len(marks), "a kill did not land mid-run"
    assert Notification.objects.count() == 1000
    ledger = Delivery.objects.filter(state=DeliveryState.SENT)
    assert ledger.count() == 1000, worker.output()[-3000:]
    assert ledger.values("notification_id").distinct().count() == 1000
    assert not Delivery.objects.exclude(state=DeliveryState.SENT).exists()
    # The receiver saw every delivery; a post repeated by a kill between the send and the
    # ledger's commit carries the same Idempotency-Key, so the receiver drops it.
    assert receiver.distinct == 1000
    print(f"kills: {worker.kills}; posts: {receiver.total}; repeated keys: {len(receiver.repeated())}")


def test_what_is_sent_while_the_broker_is_down_comes_back_with_it(recipient, hook, receiver, redis, worker):
    send(recipient, hook, 5)
    wait_for(lambda: sent_count() == 5, timeout=60, message="the first five before the outage")

    redis.stop()
    started = time.monotonic()
    send(recipient, hook, 50)  # publishing fails fast; the rows are committed
    assert Delivery.objects.filter(state=DeliveryState.PENDING).count() == 50
    time.sleep(max(0.0, 30 - (time.monotonic() - started)))
    redis.start()

    wait_for(lambda: sent_count() == 55, timeout=120, interval=0.5, message="the outage's deliveries")
    assert receiver.distinct == 55


def test_a_crash_between_commit_and_publish_is_caught_by_the_relay(recipient, hook, receiver, worker):
    with mock.patch.object(tasks, "enqueue") as dropped:
        send(recipient, hook, 20)
    assert dropped.call_count == 20  # the commits happened; the publishes never did
    assert Delivery.objects.filter(state=DeliveryState.PENDING).count() == 20

    wait_for(lambda: sent_count() == 20, timeout=90, interval=0.5, message="the relay to deliver them")
    assert receiver.distinct == 20
    assert receiver.total == 20


def test_the_same_delivery_task_delivered_twice_sends_once(recipient, hook, receiver, worker):
    with mock.patch.object(tasks, "enqueue"):
        send(recipient, hook, 1)
    delivery = Delivery.objects.get()

    tasks.deliver.apply_async((delivery.pk,))
    tasks.deliver.apply_async((delivery.pk,))

    wait_for(lambda: sent_count() == 1, timeout=60, message="the delivery to be sent")
    time.sleep(2)  # time for the second task to run, and to skip
    assert receiver.total == 1
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SENT, 1)
