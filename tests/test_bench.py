"""`make bench` runs end to end and writes its results; it reports times, it does not judge them.

Only the deterministic figures are asserted: the request counts the packer emits.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration


def test_bench_runs_and_packs_batches_into_the_fewest_requests():
    completed = subprocess.run([sys.executable, "-m", "bench"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
    results = json.loads((ROOT / "bench" / "results" / "latest.json").read_text())
    assert {"core", "peer", "batch", "cold_start", "cost"} <= set(results)
    assert [row["shape"] for row in results["core"]] == [
        "page view",
        "purchase, 5 ids, 10 items",
        "AudienceStream visitor",
    ]
    assert all(row["ratio"] > 0 for row in results["core"])
    for row in results["batch"]["rows"]:
        assert row["requests_per_100k"] == row["minimum_per_100k"], row["size"]
    assert "ratio" in completed.stdout and "Cold start" in completed.stdout
