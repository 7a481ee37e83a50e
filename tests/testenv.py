"""Loaded by pytest before Django's settings (``-p tests.testenv``): the test environment's defaults.

Explicit environment variables win, so ``DATABASE_URL=postgres://... pytest`` runs the
suite on PostgreSQL.
"""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-any-deployment-0123456789")
os.environ.setdefault("HTTPS", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("LOG_LEVEL", "ERROR")
os.environ.setdefault("LANGUAGE_CODE", "en")
if "DATABASE_URL" not in os.environ:
    # PostgreSQL when it is there (so `pytest -m faults` or `-m postgres` just work), else SQLite.
    from tests.services import POSTGRES_URL, tcp_reachable

    os.environ["DATABASE_URL"] = POSTGRES_URL if tcp_reachable(POSTGRES_URL, 5432) else "sqlite://:memory:"
# Playwright's browser tests run the live server in a thread of the test process.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
