"""Cost per million events for each delivery mode, from the CPU time measured in this run.

Prices and round trips below are ASSUMPTIONS (as of 2025, us-east-1), labelled where they are defined.
"""

from __future__ import annotations

import math

from bench.payloads import ROOT

#: ASSUMPTION: AWS Lambda arm64 price per GB-second (us-east-1, first pricing tier, as of 2025).
PRICE_PER_GB_SECOND = 0.0000133334
#: ASSUMPTION: AWS Lambda price per million requests (invocations), as of 2025.
PRICE_PER_MILLION_REQUESTS = 0.20
#: Lambda gives one full vCPU at 1,769 MB and CPU in proportion below that (AWS documentation).
MB_PER_VCPU = 1769
#: ASSUMPTION: one OpenAI Events API round trip, billed as wall time while the function waits.
OPENAI_ROUND_TRIP_MS = 80.0
#: ASSUMPTION: one SQS SendMessageBatch round trip from the ingest function.
SQS_ROUND_TRIP_MS = 15.0
#: Events in one real-time call for the "per call" row (a server posting a list).
EVENTS_PER_CALL = 100
#: The event source mapping's BatchSize: events per sender invocation.
EVENTS_PER_SENDER_INVOCATION = 1000


def memory_mb() -> int:
    """The functions' MemorySize from template.yaml (a !Ref resolves to the parameter's default)."""
    import sys

    sys.path.insert(0, str(ROOT))
    from local.template import load_template

    template = load_template()
    memory = template["Globals"]["Function"]["MemorySize"]
    if isinstance(memory, dict) and "Ref" in memory:
        memory = template["Parameters"][memory["Ref"]]["Default"]
    return int(memory)


def run(core_s_per_event: float, send_s_per_event: float, requests_per_1000: int) -> dict:
    """core: payload -> wire bytes; send: SQS record -> request bodies, both per event on one full core."""
    memory = memory_mb()
    slowdown = max(1.0, MB_PER_VCPU / memory)  # CPU work stretches at less than one vCPU
    core_ms = core_s_per_event * 1e3 * slowdown
    send_ms = send_s_per_event * 1e3 * slowdown

    def invocations(count: float, duration_ms: float) -> tuple[float, float]:
        billed_ms = math.ceil(duration_ms)  # Lambda bills in 1 ms steps
        return count, count * billed_ms / 1000 * memory / 1024

    per_million = 1_000_000
    modes = {
        "real-time, 1 event per call": [
            invocations(per_million, core_ms + send_ms + OPENAI_ROUND_TRIP_MS),
        ],
        f"real-time, {EVENTS_PER_CALL} events per call": [
            invocations(per_million / EVENTS_PER_CALL, EVENTS_PER_CALL * (core_ms + send_ms) + OPENAI_ROUND_TRIP_MS),
        ],
        "batched, 1 event per call": [
            invocations(per_million, core_ms + SQS_ROUND_TRIP_MS),
            invocations(
                per_million / EVENTS_PER_SENDER_INVOCATION,
                EVENTS_PER_SENDER_INVOCATION * send_ms + requests_per_1000 * OPENAI_ROUND_TRIP_MS,
            ),
        ],
    }
    rows = []
    for mode, parts in modes.items():
        requests = sum(count for count, _ in parts)
        gb_seconds = sum(gbs for _, gbs in parts)
        dollars = gb_seconds * PRICE_PER_GB_SECOND + requests / 1e6 * PRICE_PER_MILLION_REQUESTS
        rows.append({"mode": mode, "invocations": requests, "gb_seconds": gb_seconds, "usd": dollars})
    return {
        "memory_mb": memory,
        "cpu_ms_per_event_core": core_ms,
        "cpu_ms_per_event_send": send_ms,
        "rows": rows,
        "assumptions": {
            "price_per_gb_second": PRICE_PER_GB_SECOND,
            "price_per_million_requests": PRICE_PER_MILLION_REQUESTS,
            "openai_round_trip_ms": OPENAI_ROUND_TRIP_MS,
            "sqs_round_trip_ms": SQS_ROUND_TRIP_MS,
            "mb_per_vcpu": MB_PER_VCPU,
        },
    }
