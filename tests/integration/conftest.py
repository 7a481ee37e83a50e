"""Fixtures that run real services: a private Redis, a celery worker, a webhook receiver."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from kombu import pools as kombu_pools

from notifications.models import Webhook
from notifications.services import webhook_set_secret
from tests.integration.harness import PrivateRedis, Receiver, Worker


def database_url():
    """The test database, as the worker process must reach it."""
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def redis(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def publishing_to(redis):
    """This process's celery app publishes to the private Redis, for real (not eagerly)."""
    from config.celery import app

    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager", "broker_transport_options")}

    def reset_pool():
        # The app caches a connection pool and a producer pool bound to the old broker.
        if app._pool is not None:
            app._pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None
        kombu_pools.reset()

    reset_pool()
    app.conf.update(
        broker_url=redis.url,
        task_always_eager=False,
        broker_transport_options={"socket_connect_timeout": 2, "socket_timeout": 3},
    )
    yield app
    reset_pool()
    app.conf.update(saved)


@pytest.fixture
def worker(redis, publishing_to, tmp_path):
    process = Worker(broker_url=redis.url, database_url=database_url(), log_dir=tmp_path)
    process.start()
    yield process
    process.stop()


@pytest.fixture
def receiver():
    with Receiver(delay_seconds=0.005) as server:
        yield server


@pytest.fixture
def hook(receiver):
    webhook = Webhook.objects.create(
        name="测试群机器人", kind=Webhook.Kind.GENERIC, url=receiver.url, rate_limit_per_minute=30000
    )
    return webhook_set_secret(webhook=webhook, secret="integration-secret")


@pytest.fixture
def recipient(transactional_db):
    return get_user_model().objects.create_user("recipient", email="recipient@example.gov.cn")
