"""Notifications end to end: notify to ledger through Redis, two worker processes and PostgreSQL.

Reports ``notifications``, ``seconds``, ``per_second`` (from the first notify until every
delivery is in the ledger as sent) and ``notify_queries_per_recipient`` (queries inside the
caller's transaction for a fan-out to 500 recipients). The workers send email through
Django's dummy backend, so the figures are ours, the broker's and the database's.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from .environment import log, throwaway_database

NAME = "notifications"
HELP = "notify to ledger, end to end, with Redis, two celery worker processes and PostgreSQL"
ROOT = Path(__file__).resolve().parent.parent
FAN_OUT = 500


class NotMeasurable(RuntimeError):
    pass


def add_arguments(parser):
    parser.add_argument("--notifications", type=int, default=5000, help="how many to send (default 5000)")
    parser.add_argument("--workers", type=int, default=2, help="celery worker processes (default 2)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the ledger")


def _purge_broker():
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")


def _start_workers(count):
    s = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "WARNING",
    }
    workers = []
    for n in range(count):
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--concurrency=1",
                    "--prefetch-multiplier=4",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--loglevel=WARNING",
                    "-n",
                    f"bench{n}@%h",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    return workers


def _stop(workers):
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


def _users(count):
    User = get_user_model()
    password = make_password(None)
    User.objects.bulk_create(
        [User(username=f"reader{n:06d}", email=f"reader{n:06d}@example.gov.cn", password=password) for n in range(count)],
        batch_size=2000,
    )
    return list(User.objects.order_by("pk").values_list("pk", flat=True))


def _queries_per_recipient(user_ids):
    """Queries inside the caller's transaction for one fan-out, rolled back afterwards."""
    from notifications.services import notify

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            with CaptureQueriesContext(connection) as queries:
                notify(recipients=user_ids[:FAN_OUT], key="bulletin_issued", context={"title": "测试", "rank": 1})
            raise Rollback
    except Rollback:
        pass
    return len(queries) / FAN_OUT, len(queries)


def run(options):
    from notifications.models import Delivery, DeliveryState
    from notifications.services import notify

    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        raise NotMeasurable("this benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        raise NotMeasurable("this benchmark needs Redis: set CELERY_BROKER_URL=redis://...")
    from config.celery import app

    app.conf.task_always_eager = False
    total = options.notifications
    with throwaway_database():
        user_ids = _users(max(total, FAN_OUT))
        per_recipient, fan_out_queries = _queries_per_recipient(user_ids)
        log(f"fan-out to {FAN_OUT}: {fan_out_queries} queries in the caller's transaction")
        _purge_broker()
        workers = _start_workers(options.workers)
        try:
            time.sleep(3)  # the workers connect
            started = time.perf_counter()
            for start in range(0, total, FAN_OUT):
                with transaction.atomic():
                    notify(
                        recipients=user_ids[start : min(start + FAN_OUT, total)],
                        key="bulletin_issued",
                        context={"title": "2026年10月重点项目推进情况通报", "rank": 3},
                        link="/cases/projects/",
                        channels=["email"],
                    )
            notified = time.perf_counter()
            log(f"{total} notifications written and published in {notified - started:.1f} s")
            deadline = started + options.timeout
            sent = 0
            while time.perf_counter() < deadline:
                sent = Delivery.objects.filter(state=DeliveryState.SENT).count()
                if sent >= total:
                    break
                time.sleep(0.2)
            seconds = time.perf_counter() - started
            if sent < total:
                raise NotMeasurable(f"only {sent} of {total} delivered within {options.timeout} s")
        finally:
            _stop(workers)
        return {
            "benchmark": NAME,
            "notifications": total,
            "seconds": round(seconds, 2),
            "per_second": round(total / seconds, 1),
            "notify_queries_per_recipient": round(per_recipient, 4),
            "notify_queries_for_fan_out": fan_out_queries,
            "fan_out": FAN_OUT,
            "workers": options.workers,
            "database": connection.vendor,
            "broker": "redis",
            "write_seconds": round(notified - started, 2),
        }


def format_table(result):
    return (
        f"{result['notifications']} notifications in {result['seconds']} s: {result['per_second']}/s "
        f"with {result['workers']} workers; notify costs {result['notify_queries_per_recipient']} "
        f"queries per recipient ({result['notify_queries_for_fan_out']} for {result['fan_out']})"
    )
