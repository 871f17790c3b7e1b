"""`python -m bench`: run every benchmark, print one table, write bench/results/latest.json."""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "connector"), str(ROOT)]

from bench import batch, coldstart, core, cost, latency, layer, peer, recovery, trail  # noqa: E402

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
        f"4. Cold start as deployed (template.yaml's defaults, tracing included; only what a deployed function "
        f"can import): import in a fresh interpreter, median of {coldstart.RUNS}; baseline = import boto3",
        ["module", "ms", "ratio", "target", ""],
        [
            [
                r["target"],
                f"{r['ms']:.0f}",
                f"{r['ratio']:.2f}x",
                "<= 1.5x" if r["target"] == cold["target_row"] else "",
                _verdict(r["ratio"], cold["target_ratio"]) if r["target"] == cold["target_row"] else "",
            ]
            for r in cold["rows"]
        ],
    )
    for key, label in (("ingest_top_imports", "ingest handler"), ("sdk_top_imports", "with the X-Ray SDK")):
        print(
            f"   heaviest imports, {label} (cumulative ms): "
            + ", ".join(f"{row['module']} {row['ms']:.0f}" for row in cold[key][:6])
        )
    layers = layer.run()
    results["layers"] = layers
    for key, name in (("connector", "ConnectorLayer"), ("xray_sdk", "XRaySdkLayer (only with XRaySdkTracing=true)")):
        contents = ", ".join(f"{row['package']} {row['bytes'] / 1e6:.2f}" for row in layers[key]["rows"])
        print(f"   {name}: {layers[key]['bytes'] / 1e6:.1f} MB without .pyc ({contents} MB)")
    together = layers["connector"]["bytes"] + layers["xray_sdk"]["bytes"]
    print(f"   ratio: ConnectorLayer is {layers['connector']['bytes'] / together:.2f}x the two layers together")

    ends = latency.run()
    results["latency"] = ends
    added, ratio = ends["added_ms"], ends["added_ratio"]
    _table(
        f"5. End to end, real-time purchase: local HTTP front -> ingest handler -> stand-in answering after "
        f"{ends['response_ms']:.0f} ms; added = connector minus the same request straight to the stand-in "
        "(warm: each pair back to back; cold: minus the stand-in's p50)",
        ["", "p50 ms", "p99 ms", "n", "added p50", "added p99", "added / response time p50, p99"],
        [
            [
                "warm",
                f"{ends['warm']['p50']:.1f}",
                f"{ends['warm']['p99']:.1f}",
                str(ends["warm"]["n"]),
                f"{added['warm_p50']:.1f}",
                f"{added['warm_p99']:.1f}",
                f"{ratio['warm_p50']:.2f}x, {ratio['warm_p99']:.2f}x",
            ],
            [
                "cold (fresh interpreter: import + first request)",
                f"{ends['cold']['p50']:.0f}",
                f"{ends['cold']['p99']:.0f}",
                str(ends["cold"]["n"]),
                f"{added['cold_p50']:.0f}",
                f"{added['cold_p99']:.0f}",
                f"{ratio['cold_p50']:.1f}x, {ratio['cold_p99']:.1f}x",
            ],
            [
                "stand-in alone",
                f"{ends['direct']['p50']:.1f}",
                f"{ends['direct']['p99']:.1f}",
                str(ends["direct"]["n"]),
                "",
                "",
                "",
            ],
        ],
    )
    print(
        f"   cold p50 = handler import {ends['cold']['import_p50']:.0f} ms + first request "
        f"{ends['cold']['first_request_p50']:.0f} ms (boto3, a Secrets Manager client, the secret, a new connection); "
        f"log bytes per ingest invocation (INFO line + metrics, as deployed): {ends['ingest_log_bytes']}"
    )

    trail_bytes = trail.run()
    results["trail"] = trail_bytes
    purchase = next(r for r in core_rows if r["action"] == "purchase")
    typical = batch_result["rows"][1]
    costs = cost.run(
        purchase["us_per_event"] / 1e6,
        typical["ms_per_batch"] / 1e3 / batch.RECORDS_PER_BATCH,
        typical["requests_per_100k"] // (batch.STREAM_EVENTS // batch.RECORDS_PER_BATCH),
        typical["event_bytes"],
        typical["message_bytes"],
        ends["ingest_log_bytes"],
        (trail_bytes["realtime_bytes_per_event"], trail_bytes["batched_bytes_per_event"]),
        trail_bytes["us_per_line"] / 1e6,
    )
    results["cost"] = costs
    inputs = costs["inputs"]
    modes = costs["modes"]
    items = [row["item"] for row in modes[0]["items"]] + [
        row["item"] for row in modes[-1]["items"] if row["item"] not in {r["item"] for r in modes[0]["items"]}
    ]

    def lambda_usd(mode: dict) -> float:
        return sum(row["usd"] for row in mode["items"] if row["item"].startswith("Lambda"))

    def usd(mode: dict, item: str) -> str:
        found = next((row for row in mode["items"] if row["item"] == item), None)
        return f"{found['usd']:.3f}" if found else "-"

    _table(
        f"6. AWS cost per million purchase events (USD, us-east-1 list prices in bench/cost.py) at "
        f"{inputs['memory_mb']} MB arm64, {inputs['events_per_second']:.0f} events/s (ASSUMED), OpenAI "
        f"{cost.OPENAI_ROUND_TRIP_MS:.0f} ms (ASSUMED), {inputs['ingest_log_bytes']} log bytes per ingest call",
        ["charge", *(m["mode"] for m in modes)],
        [[item, *(usd(m, item) for m in modes)] for item in items]
        + [
            ["total", *(f"{m['usd']:.2f}" for m in modes)],
            ["total with EVENT_TRAIL=off", *(f"{m['usd_trail_off']:.2f}" for m in modes)],
            ["ratio: total / Lambda charges alone", *(f"{m['usd'] / lambda_usd(m):.1f}x" for m in modes)],
        ],
    )
    print(
        "   per month whatever the volume: "
        + ", ".join(f"{row['item']} ${row['usd']:.2f}" for row in costs["monthly"])
        + f"; total ${costs['monthly_usd']:.2f}"
    )
    for calls, ingress in costs["ingress"].items():
        print(
            f"   ingress, {calls}: REST API + API key ${ingress['rest_usd']:.3f} vs HTTP API ${ingress['http_usd']:.3f}"
            f" + cached Lambda authorizer ${ingress['authorizer_usd']:.5f} ({ingress['authorizer_calls']} calls)"
        )

    _table(
        "7. Event trail: log bytes of one event's trail line per step, as a deployed function writes it "
        "(Lambda request id and X-Ray trace id included); priced per event in row 6",
        ["step", "bytes"],
        [[step, str(size)] for step, size in trail_bytes["steps"].items()]
        + [
            ["per event, real-time (received + sent)", str(trail_bytes["realtime_bytes_per_event"])],
            ["per event, batched (received + queued + batch sent)", str(trail_bytes["batched_bytes_per_event"])],
        ],
    )
    print(
        f"   CPU per trail line (record + JSON log line): {trail_bytes['us_per_line']:.1f} us, "
        f"{trail_bytes['us_per_line'] / trail_bytes['baseline_us_per_line']:.1f}x one json.dumps of the record "
        f"({trail_bytes['baseline_us_per_line']:.1f} us)"
    )

    recovered = recovery.run()
    results["recovery"] = recovered
    _table(
        f"8. Recovery after a 400: one request of {recovered['events']:,} events, some rejected, to the stand-in "
        "over HTTP; bound = 2n - 1 requests, (1 + ceil(log2 n)) x the request's bytes; before = the recovery "
        "this replaced, counted on the same events",
        ["error.param", "rejected", "requests", "MB sent", "x request", "bound", "before: requests", "MB", ""],
        [
            [
                "first bad event" if r["error_param"] else "none",
                str(r["rejected"]),
                str(r["requests"]),
                f"{r['bytes'] / 1e6:.2f}",
                f"{r['bytes'] / r['first_request_bytes']:.1f}x",
                f"{r['bound_requests']} / {r['bound_bytes'] / r['first_request_bytes']:.1f}x",
                str(r["before_requests"]),
                f"{r['before_bytes'] / 1e6:.1f}",
                "ok" if r["requests"] <= r["bound_requests"] and r["bytes"] <= r["bound_bytes"] else "MISSED",
            ]
            for r in recovered["rows"]
        ],
    )

    results["seconds"] = time.perf_counter() - started
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\n{results['seconds']:.0f} s; JSON in {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
