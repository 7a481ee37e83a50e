"""The annual plan benchmark runs end to end at a tiny size: the compilation check in the same
number of queries at the full size and at a tenth."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[3]


def test_planning_benchmark_checks_the_compilation_in_constant_queries():
    process = subprocess.run(
        [sys.executable, "-m", "bench", "planning", "--projects", "200", "--samples", "1", "--json"],
        cwd=REPOSITORY,
        env={**os.environ, "DATABASE_URL": os.environ.get("DATABASE_URL", "sqlite://:memory:")},
        capture_output=True, text=True, timeout=600,
    )
    assert process.returncode == 0, process.stderr[-4000:]
    result = json.loads(process.stdout)
    assert result["projects"] >= 150
    assert result["check_queries"] == result["check_small_queries"] <= 6
