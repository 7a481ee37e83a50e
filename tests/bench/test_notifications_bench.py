"""The notifications benchmark runs end to end on PostgreSQL and Redis and reports its figures."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench import postgres_and_redis_env

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
@pytest.mark.redis
def test_the_notifications_benchmark_reports_its_figures_and_a_constant_fan_out():
    env = postgres_and_redis_env()
    process = subprocess.run(
        [sys.executable, "-m", "bench", "notifications", "--notifications", "200", "--timeout", "120", "--json"],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert process.returncode == 0, process.stderr[-4000:]
    result = json.loads(process.stdout)
    assert result["notifications"] == 200 and result["workers"] == 2
    assert result["seconds"] > 0 and result["per_second"] > 0
    assert result["database"] == "postgresql" and result["broker"] == "redis"
    assert result["notify_queries_per_recipient"] < 0.05
