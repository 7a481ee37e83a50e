"""The throughput benchmark runs end to end: gunicorn on PostgreSQL and Redis, concurrent API
clients completing report tasks, nothing lost or done twice, and pgbench's ceiling beside it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench import postgres_and_redis_env

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
@pytest.mark.redis
def test_the_throughput_benchmark_completes_tasks_and_loses_or_doubles_none():
    env = postgres_and_redis_env()
    process = subprocess.run(
        [sys.executable, "-m", "bench", "throughput", "--cases", "80", "--clients", "6", "--seconds", "4",
         "--workers", "2", "--pgbench-seconds", "2", "--json"],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert process.returncode == 0, process.stderr[-4000:]
    result = json.loads(process.stdout)
    assert result["completed"] > 0 and result["completions_per_second"] > 0
    assert result["reads"] > 0 and result["read_ms"]["p95"] >= result["read_ms"]["p50"] > 0
    assert result["write_ms"]["p99"] >= result["write_ms"]["p95"] >= result["write_ms"]["p50"] > 0
    assert result["lost"] == 0 and result["doubled"] == 0 and result["errors"] == 0, result["error_samples"]
    assert result["statements_per_completion"] > 0
    assert result["pgbench_tps"] > 0
