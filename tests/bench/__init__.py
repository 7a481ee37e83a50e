"""The benchmarks, run end to end in their own processes."""

import os

from django.db import connection


def postgres_and_redis_env():
    """The environment of a benchmark that needs PostgreSQL (the tests' server) and Redis."""
    s = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/keyprojects",
        "CELERY_BROKER_URL": os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/12"),
    }
