"""The escalation benchmark runs end to end: both sides fire every due task once, ours in batches."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def test_escalation_benchmark_fires_each_due_task_once_on_both_sides():
    # Given 1,500 open tasks on each side, 600 of them due (two batches of ours, of 300)
    process = subprocess.run(
        [sys.executable, "-m", "bench", "escalation", "--tasks", "1500", "--due", "600", "--projects", "8", "--batch", "300",
         "--json"],
        cwd=REPOSITORY,
        # The orders' delivery jobs are enqueued and left, as the benchmark measures the escalating.
        env={**os.environ, "DATABASE_URL": os.environ.get("DATABASE_URL", "sqlite://:memory:"), "CELERY_TASK_ALWAYS_EAGER": "false"},
        capture_output=True,
        text=True,
        timeout=300,
    )

    # When it has measured both
    assert process.returncode == 0, process.stderr[-4000:]
    result = json.loads(process.stdout)

    # Then every due task escalated once on each side (the benchmark checks the rows and the
    # notifications too, and fails otherwise), ours in two batches of a bounded query count; a
    # tenth of ours issued supervision orders and proposed interviews, whose flows started at once
    assert result["benchmark"] == "escalation"
    assert result["escalations"] == result["viewflow_timers"] == 600
    assert result["supervision_orders"] == result["interviews"] == 30
    assert result["batches"] == 2
    assert 0 < result["queries_per_batch"] <= 40
    assert 0 < result["flow_start_queries"] <= 30
    assert result["queries"] < 2 * result["queries_per_batch"] + result["flow_start_queries"] + 10
    assert result["queries_per_500"] <= 70
    # viewflow's dispatcher pays per timer, so its count grows with the burst
    assert result["viewflow_queries"] >= 600
    assert result["seconds"] > 0 and result["viewflow_seconds"] > 0 and result["speedup"] > 0
