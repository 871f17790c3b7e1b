"""Recovery after a 400: what one request of 1,000 events costs when some of them are rejected.

The `Sender` (connector/services/delivery.py) posts over real HTTP to the OpenAI stand-in
(local/openai_standin.py), which refuses a request holding a rejected event and names the first one in
`error.param`, or, with `omit_error_param`, names none. The stand-in counts the requests and the body
bytes it received. The baseline is the recovery this replaced (the rest resent whole after each named
event; halves without a name), counted on the same events by `previous_cost`, without the network.
The bound to meet: at most 2n - 1 requests and (1 + ceil(log2 n)) times the first request's bytes,
plus each request's few dozen bytes of envelope.

    python -m bench.recovery
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "layers" / "connector") not in sys.path:  # `python -m bench.recovery` on its own
    sys.path[:0] = [str(ROOT / "layers" / "connector"), str(ROOT)]

from connector.adapters.openai_client import OpenAIClient  # noqa: E402
from connector.core.types import Outcome, Route  # noqa: E402
from connector.core.wire.request import encode_event, request_overhead  # noqa: E402
from connector.services.delivery import Sender  # noqa: E402

#: Events in the request: a full one.
EVENTS = 1000
#: Rejected events per run, spread evenly through the request.
REJECTED = (0, 1, 10, 500, 1000)
KEY = "sk-bench-recovery"
PIXEL = "px_bench"


def purchase(event_id: str, now_ms: int) -> bytes:
    """A purchase of six items (about 970 bytes): 1,000 of them fill one request just under 1 MB."""
    return encode_event(
        {
            "id": event_id,
            "type": "order_created",
            "timestamp_ms": now_ms,
            "action_source": "web",
            "source_url": "https://shop.example.com/checkout/confirmation",
            "user": {"emails_sha256": ["b4c9a289323b21a01c3e940f150eb9b8c542587f1abfd8f0e1cc1ffc5e475514"]},
            "data": {
                "type": "contents",
                "amount": 12999,
                "currency": "USD",
                "contents": [
                    {
                        "id": f"SKU-{n:03d}",
                        "name": "Red T-Shirt",
                        "content_type": "apparel",
                        "quantity": 1,
                        "amount": 2500,
                    }
                    for n in range(6)
                ],
            },
        }
    )


def spread(count: int) -> set[int]:
    return {i * EVENTS // count for i in range(count)} if count else set()


def bound(events: list[bytes]) -> tuple[int, int]:
    """The most requests and body bytes the recovery may cost for this request (connector/services/delivery.py)."""
    n = len(events)
    first = request_overhead(False) + sum(map(len, events)) + n - 1
    requests = 2 * n - 1
    return requests, (1 + math.ceil(math.log2(n))) * first + requests * request_overhead(False)


def previous_cost(events: list[bytes], bad: set[int], named: bool) -> tuple[int, int]:
    """Requests and bytes of the recovery before the bound, for OpenAI naming the first bad event (or none)."""
    overhead, requests, sent = request_overhead(False), 0, 0
    pending = [list(range(len(events)))]
    while pending:
        positions = pending.pop(0)
        requests += 1
        sent += overhead + sum(len(events[p]) for p in positions) + len(positions) - 1
        first_bad = next((i for i, p in enumerate(positions) if p in bad), None)
        if first_bad is None:
            continue
        if named:
            rest = positions[:first_bad] + positions[first_bad + 1 :]
            pending[:0] = [rest] if rest else []
        elif len(positions) > 1:
            middle = len(positions) // 2
            pending[:0] = [positions[:middle], positions[middle:]]
    return requests, sent


def run() -> dict:
    from local.openai_standin import OpenAIStandin

    standin = OpenAIStandin(api_keys=[KEY], pixel_ids=[PIXEL], record_bodies=False).start()
    try:
        route = Route(PIXEL, "bench-secret", False, standin.base_url)
        rows = []
        for named in (True, False):
            for rejected in REJECTED:
                now_ms = round(time.time() * 1000)
                ids = [f"ORD-{i:04d}" for i in range(EVENTS)]
                events = [purchase(event_id, now_ms) for event_id in ids]
                bad = spread(rejected)
                standin.reset()
                standin.omit_error_param = not named
                standin.reject_ids = {ids[i] for i in bad}
                sender = Sender(OpenAIClient(), lambda route, force: KEY)
                started = time.perf_counter()
                results = sender.send(route, events)
                seconds = time.perf_counter() - started
                outcomes = [result.outcome for result in results]
                if outcomes.count(Outcome.REJECTED) != rejected or outcomes.count(Outcome.SENT) != EVENTS - rejected:
                    raise RuntimeError(f"recovery lost track of events: {rejected} rejected, {named=}")
                requests = standin.requests
                max_requests, max_bytes = bound(events)
                before_requests, before_bytes = previous_cost(events, bad, named)
                rows.append(
                    {
                        "error_param": named,
                        "rejected": rejected,
                        "requests": len(requests),
                        "bytes": sum(r.body_bytes for r in requests),
                        "first_request_bytes": requests[0].body_bytes,
                        "seconds": seconds,
                        "bound_requests": max_requests,
                        "bound_bytes": max_bytes,
                        "before_requests": before_requests,
                        "before_bytes": before_bytes,
                    }
                )
        return {"events": EVENTS, "rows": rows}
    finally:
        standin.stop()


def print_table(result: dict) -> None:
    print(f"Recovery after a 400, one request of {result['events']:,} events (stand-in over loopback HTTP)")
    header = ("error.param", "rejected", "requests", "MB sent", "x request", "bound req / x", "before req / MB")
    print("  ".join(f"{h:>15}" for h in header))
    for r in result["rows"]:
        cells = (
            "first bad named" if r["error_param"] else "none",
            str(r["rejected"]),
            str(r["requests"]),
            f"{r['bytes'] / 1e6:.2f}",
            f"{r['bytes'] / r['first_request_bytes']:.1f}x",
            f"{r['bound_requests']} / {r['bound_bytes'] / r['first_request_bytes']:.1f}x",
            f"{r['before_requests']} / {r['before_bytes'] / 1e6:.1f}",
        )
        print("  ".join(f"{c:>15}" for c in cells))


if __name__ == "__main__":
    print_table(run())
