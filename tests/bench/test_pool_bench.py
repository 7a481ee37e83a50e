"""The pool benchmark runs end to end at a tiny size and finds the pool's page and API in the same
number of queries at both of its sizes."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def test_pool_benchmark_reads_the_pool_in_constant_queries_at_a_tiny_size():
    # Given a city of 100 cases in the pipeline (and one of 10)
    process = subprocess.run(
        [sys.executable, "-m", "bench", "pool", "--projects", "100", "--runs", "1", "--json"],
        cwd=REPOSITORY,
        env={**os.environ, "DATABASE_URL": "sqlite://:memory:"},
        capture_output=True,
        text=True,
        timeout=600,
    )

    # When it has measured, then each page was read, in as many queries at both sizes
    assert process.returncode == 0, process.stderr[-4000:]
    result = json.loads(process.stdout)
    assert set(result["pages"]) == {"pool_page", "pool_page_filtered", "pool_api", "pool_api_filtered"}
    for figures in result["pages"].values():
        assert figures["queries"] == figures["queries_at_a_tenth"] > 0
        assert figures["median_ms"] > 0
    assert result["constant_queries"] is True
