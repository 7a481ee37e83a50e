"""The docking benchmark runs end to end at a tiny size and reports every figure, matching one need
in a constant handful of queries."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
FIGURES = {
    "rematch_all_first_seconds",
    "rematch_all_seconds",
    "rematch_all_queries",
    "match_one_ms",
    "match_one_queries",
    "publish_one_ms",
    "publish_one_queries",
    "rematch_product_seconds",
    "statistics_ms",
}


def test_docking_benchmark_matches_needs_in_the_database_at_a_tiny_size():
    # Given a tiny platform: 600 needs of 8 cases, 60 products of 40 institutions
    process = subprocess.run(
        [
            sys.executable, "-m", "bench", "docking", "--needs", "600", "--products", "60",
            "--institutions", "40", "--projects", "8", "--samples", "4", "--json",
        ],
        cwd=REPOSITORY,
        env={**os.environ, "DATABASE_URL": os.environ.get("DATABASE_URL", "sqlite://:memory:")},
        capture_output=True,
        text=True,
        timeout=600,
    )

    # When it has measured
    assert process.returncode == 0, process.stderr[-4000:]
    result = json.loads(process.stdout)

    # Then it reports every figure, the needs were matched, and one need took a few queries
    assert result["benchmark"] == "docking"
    assert (result["needs"], result["products"], result["institutions"], result["samples"]) == (600, 60, 40, 4)
    assert FIGURES <= set(result)
    assert result["matches"] > 0 and result["rematch_all_matches"] > 0
    assert 0 < result["match_one_queries"] <= 5
    assert result["rematch_all_queries"] <= 15
    assert result["match_one_ms"] > 0 and result["rematch_all_first_seconds"] >= 0
    assert result["rematch_product_needs"] > 0
    assert result["statistics_ms"] is None or result["statistics_ms"] > 0
