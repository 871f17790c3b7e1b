"""`python -m bench`: run every benchmark, print one table, write bench/results/latest.json."""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "connector"), str(ROOT)]

from bench import batch, coldstart, core, cost, peer  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "latest.json"


def _verdict(ratio: float, target: float, lower_is_better: bool = True) -> str:
    met = ratio <= target if lower_is_better else ratio >= target
    return "ok" if met else "MISSED"


def _line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(
        cell.ljust(width) if i == 0 else cell.rjust(width)
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
    )


def _table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    print(_line(header, widths))
    print(_line(["-" * w for w in widths], widths))
    for row in rows:
        print(_line(row, widths))


def main() -> int:
    started = time.perf_counter()
    results: dict[str, object] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }

    core_rows = core.run()
    results["core"] = core_rows
    _table(
        "1. Core path (payload dict -> prepare_events -> wire bytes), one core; baseline = SHA-256 of the "
        "normalized identifiers + one json.dumps of the wire event",
        ["shape", "events/s", "us/event", "baseline us", "ratio", "target", ""],
        [
            [
                r["shape"],
                f"{r['events_per_s']:,.0f}",
                f"{r['us_per_event']:.1f}",
                f"{r['baseline_us_per_event']:.1f}",
                f"{r['ratio']:.1f}x",
                f"<= {r['target']:.0f}x",
                _verdict(r["ratio"], r["target"]),
            ]
            for r in core_rows
        ],
    )

    peer_row = peer.run()
    results["peer"] = peer_row
    if "skipped" in peer_row:
        print(f"\n2. Peer (Meta facebook_business UserData normalize + hash): SKIPPED: {peer_row['skipped']}")
    else:
        _table(
            "2. User data normalize + hash (8 digests) vs Meta's facebook_business UserData.normalize()",
            ["", "us/user ours", "us/user Meta", "ratio", "target", ""],
            [
                [
                    "purchase identifiers",
                    f"{peer_row['us_per_user_ours']:.1f}",
                    f"{peer_row['us_per_user_meta']:.1f}",
                    f"{peer_row['ratio']:.2f}x",
                    "< 1x",
                    _verdict(peer_row["ratio"], 1.0),
                ]
            ],
        )

    batch_result = batch.run()
    results["batch"] = batch_result
    _table(
        "3. Batch sender: SQS batch of 1,000 records -> BatchService.handle -> request bodies (fake 200 client); "
        "baseline = json.loads + json.dumps per record + join",
        ["event size", "bytes", "events/s", "ms/batch", "baseline ms", "ratio", "requests/100k", "minimum", ""],
        [
            [
                r["size"],
                str(r["event_bytes"]),
                f"{r['events_per_s']:,.0f}",
                f"{r['ms_per_batch']:.1f}",
                f"{r['baseline_ms_per_batch']:.1f}",
                f"{r['ratio']:.2f}x",
                str(r["requests_per_100k"]),
                str(r["minimum_per_100k"]),
                "ok" if r["requests_per_100k"] == r["minimum_per_100k"] else "MISSED",
            ]
            for r in batch_result["rows"]
        ],
    )
    memory = batch_result["peak_memory"]
    print(
        f"   peak memory (tracemalloc) for 1,000 {memory['size']} records: {memory['peak_bytes'] / 1e6:.1f} MB "
        f"({memory['peak_bytes'] / memory['records_bytes']:.1f}x the {memory['records_bytes'] / 1e6:.1f} MB of "
        "record bodies); minimum = fewest requests the 1,000-event / 1 MB limits allow per 1,000-record invocation"
    )

    cold = coldstart.run()
    results["cold_start"] = cold
    _table(
        f"4. Cold start: import in a fresh interpreter (median of {coldstart.RUNS}); baseline = import boto3",
        ["module", "ms", "ratio", "target", ""],
        [
            [
                r["target"],
                f"{r['ms']:.0f}",
                f"{r['ratio']:.2f}x",
                "<= 1.5x" if r["target"] == "ingest handler" else "",
                _verdict(r["ratio"], cold["target_ratio"]) if r["target"] == "ingest handler" else "",
            ]
            for r in cold["rows"]
        ],
    )
    print(
        "   heaviest imports under the ingest handler (cumulative ms): "
        + ", ".join(f"{row['module']} {row['ms']:.0f}" for row in cold["ingest_top_imports"][:6])
    )

    purchase = next(r for r in core_rows if r["action"] == "purchase")
    typical = batch_result["rows"][1]
    costs = cost.run(
        purchase["us_per_event"] / 1e6,
        typical["ms_per_batch"] / 1e3 / batch.RECORDS_PER_BATCH,
        typical["requests_per_100k"] // (batch.STREAM_EVENTS // batch.RECORDS_PER_BATCH),
    )
    results["cost"] = costs
    _table(
        f"5. Lambda cost per million purchase events at {costs['memory_mb']} MB arm64 "
        f"(CPU {costs['cpu_ms_per_event_core']:.2f} + {costs['cpu_ms_per_event_send']:.3f} ms/event at that size; "
        f"ASSUMED: ${cost.PRICE_PER_GB_SECOND}/GB-s, ${cost.PRICE_PER_MILLION_REQUESTS}/M requests, "
        f"OpenAI {cost.OPENAI_ROUND_TRIP_MS:.0f} ms, SQS {cost.SQS_ROUND_TRIP_MS:.0f} ms round trips)",
        ["delivery mode", "invocations", "GB-seconds", "USD"],
        [[r["mode"], f"{r['invocations']:,.0f}", f"{r['gb_seconds']:,.1f}", f"{r['usd']:.2f}"] for r in costs["rows"]],
    )

    results["seconds"] = time.perf_counter() - started
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\n{results['seconds']:.0f} s; JSON in {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
