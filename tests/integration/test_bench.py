"""`make bench` runs end to end and writes its results; it reports times, it does not judge them.

Only the deterministic figures are asserted: the request counts the packer emits, the cost model's
arithmetic, what the layer holds.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench import latency as latency_module
from tests.support.repo import ROOT

pytestmark = pytest.mark.integration


def test_bench_runs_and_packs_batches_into_the_fewest_requests():
    completed = subprocess.run([sys.executable, "-m", "bench"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
    results = json.loads((ROOT / "bench" / "results" / "latest.json").read_text())
    assert {"core", "peer", "batch", "cold_start", "layers", "latency", "cost"} <= set(results)
    assert [row["shape"] for row in results["core"]] == [
        "page view",
        "purchase, 5 ids, 10 items",
        "AudienceStream visitor",
    ]
    assert all(row["ratio"] > 0 for row in results["core"])
    for row in results["batch"]["rows"]:
        assert row["requests_per_100k"] == row["minimum_per_100k"], row["size"]
    assert "ratio" in completed.stdout and "Cold start" in completed.stdout
    for mode in results["cost"]["modes"]:
        assert mode["usd"] == pytest.approx(sum(row["usd"] for row in mode["items"])), mode["mode"]
    assert [mode["openai_requests"] for mode in results["cost"]["modes"]] == [1_000_000, 10_000, 3_000, 3_000]
    assert {row["package"] for row in results["layers"]["connector"]["rows"]}.isdisjoint({"botocore", "aws-xray-sdk"})
    latency = results["latency"]
    assert (latency["warm"]["n"], latency["cold"]["n"]) == (latency_module.WARM_REQUESTS, latency_module.COLD_STARTS)
    assert "End to end" in completed.stdout and "added" in completed.stdout
    # Recovery after a 400 within its bound, whatever share of the 1,000 events is rejected, named or not
    recovered = results["recovery"]["rows"]
    assert {(row["error_param"], row["rejected"]) for row in recovered} == {
        (named, rejected) for named in (True, False) for rejected in (0, 1, 10, 500, 1000)
    }
    for row in recovered:
        assert row["requests"] <= row["bound_requests"] and row["bytes"] <= row["bound_bytes"], row
    # The event trail: every step measured, priced per event, and removed by EVENT_TRAIL=off.
    trail = results["trail"]
    assert set(trail["steps"]) == {
        "ingest received",
        "ingest sent",
        "ingest queued",
        "batch sent",
        "batch dead_lettered",
        "redrive moved",
    }
    assert trail["realtime_bytes_per_event"] == trail["steps"]["ingest received"] + trail["steps"]["ingest sent"]
    for mode in results["cost"]["modes"]:
        assert mode["usd_trail_off"] < mode["usd"], mode["mode"]
    assert "Event trail" in completed.stdout and "EVENT_TRAIL=off" in completed.stdout


def test_differential_run_finds_this_tree_identical_to_its_own_commit():
    # GIVEN a connector package with no uncommitted change (else the two trees may rightly differ)
    changed = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "layers/connector/connector"], cwd=ROOT)
    if changed.returncode != 0:
        pytest.skip("the connector package has uncommitted changes")
    # WHEN the differential run compares it with HEAD's, exported by git
    run = subprocess.run(
        [sys.executable, "-m", "bench.differential", "HEAD", "--seeds", "1", "--payloads", "100"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    # THEN every answer is the same: the generator and the core path are deterministic
    assert run.returncode == 0, run.stdout + run.stderr
    assert "seed 1: identical to HEAD" in run.stdout
