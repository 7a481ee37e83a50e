"""The pages benchmark runs end to end and finds the same query count at two sizes of city."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
PAGES = {"project_list", "project_detail", "api_list"}


def start_pages_benchmark(projects):
    """``python -m bench pages`` in its own process, on the database the tests use."""
    return subprocess.Popen(
        [sys.executable, "-m", "bench", "pages", "--projects", str(projects), "--runs", "2", "--json"],
        cwd=REPOSITORY,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def result_of(process):
    stdout, stderr = process.communicate(timeout=180)
    assert process.returncode == 0, f"the benchmark failed:\n{stderr[-4000:]}"
    return json.loads(stdout)


def test_pages_benchmark_counts_the_same_queries_for_a_small_and_a_larger_city():
    # Given two cities, one smaller than a list page and one larger, measured side by side
    small, larger = start_pages_benchmark(5), start_pages_benchmark(40)

    # When the benchmark has measured each
    small_result, larger_result = result_of(small), result_of(larger)

    # Then each reports every page, and no page costs more queries in the larger city
    for result, projects in ((small_result, 5), (larger_result, 40)):
        assert result["benchmark"] == "pages"
        assert result["projects"] == projects
        assert result["database"] in {"sqlite", "postgresql"}
        assert isinstance(result["build_seconds"], int | float)
        assert set(result["pages"]) == PAGES
        for figures in result["pages"].values():
            assert figures["queries"] > 0
            assert figures["runs"] == 2
            assert isinstance(figures["median_ms"], int | float)
    counts = {page: (small_result["pages"][page]["queries"], larger_result["pages"][page]["queries"]) for page in PAGES}
    assert all(small_count == larger_count for small_count, larger_count in counts.values()), counts
