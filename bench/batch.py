"""Batched sender: an SQS batch of 1,000 records through BatchService.handle, a fake 200 client, no network."""

from __future__ import annotations

import json
import math
import tracemalloc

from connector.core.pipeline import prepare_events
from connector.core.queue_message import to_message
from connector.core.types import EventStatus, Response
from connector.core.wire.request import MAX_EVENTS_PER_REQUEST, MAX_REQUEST_BYTES, request_overhead
from connector.services.batch import BatchService, Record
from connector.services.delivery import Sender

from bench import payloads
from bench.timing import paired

#: The event source mapping's BatchSize (template.yaml): records per sender invocation.
RECORDS_PER_BATCH = 1000
#: Events per stream for the request count.
STREAM_EVENTS = 100_000

#: Event size name -> (action, payload factory).
SIZES = {
    "small (page view)": ("page_view", payloads.page_view),
    "typical (purchase, 10 items)": ("purchase", payloads.purchase),
    # ~5 KB: 1,000 of them stay under Lambda's 6 MB invocation payload, as an SQS batch must.
    "large (purchase, 30 items)": ("purchase", lambda: payloads.purchase(items=30)),
}


class CountingClient:
    """Stands in for OpenAIClient: answers 200 at once and counts the request bodies."""

    def __init__(self) -> None:
        self.requests = 0
        self.body_bytes = 0

    def post(self, url: str, headers: dict[str, str], body: bytes, deadline: float | None = None) -> Response:
        self.requests += 1
        self.body_bytes += len(body)
        return Response(200, b"{}", 0)


def minimum_requests(sizes: list[int], max_events: int, max_bytes: int, overhead: int) -> int:
    """The fewest requests for events of these sizes, from the limits alone (uniform sizes: closed form)."""
    if len(set(sizes)) != 1:
        raise ValueError("the closed form needs events of one size")
    size = sizes[0]
    per_request = min(max_events, (max_bytes - overhead + 1) // (size + 1))
    return math.ceil(len(sizes) / per_request)


def _encoded(action_name: str, factory) -> tuple[bytes, object]:
    action = payloads.actions()[action_name]
    prepared = prepare_events(action, [factory()], payloads.SETTINGS, payloads.now_ms())[0]
    if not prepared.ok:
        raise RuntimeError(f"bench payload for {action_name} was rejected: {prepared.errors}")
    return prepared.encoded, prepared.route


def run() -> dict:
    rows = []
    peak = None
    for name, (action_name, factory) in SIZES.items():
        encoded, route = _encoded(action_name, factory)
        # Distinct bodies (ids differ), as a real batch holds, so the memory figure is honest.
        records = [
            Record(f"m-{i}", to_message(action_name, encoded.replace(b'"id":"', f'"id":"{i:04d}-'.encode(), 1)))
            for i in range(RECORDS_PER_BATCH)
        ]
        client = CountingClient()
        service = BatchService(Sender(client, lambda route, force: "bench-key"), None, {action_name: route})

        def ours(service=service, records=records) -> None:
            report = service.handle(records)
            assert report.counts[EventStatus.SENT] == RECORDS_PER_BATCH

        def baseline(records=records) -> None:
            # The irreducible work: read every message, serialize every event, join them into bodies.
            events = [json.dumps(json.loads(r.body)["event"], separators=(",", ":")).encode() for r in records]
            b",".join(events)

        times = paired({"ours": ours, "baseline": baseline}, 1, repeats=5)

        # Requests per 100,000 events: 100 sender invocations of 1,000 records each.
        sender_client = CountingClient()
        sender = Sender(sender_client, lambda route, force: "bench-key")
        chunk = [encoded] * RECORDS_PER_BATCH
        for _ in range(STREAM_EVENTS // RECORDS_PER_BATCH):
            sender.send(route, chunk)
        overhead = request_overhead(route.validate_only)
        limits = (MAX_EVENTS_PER_REQUEST, MAX_REQUEST_BYTES, overhead)
        per_batch_min = minimum_requests([len(encoded)] * RECORDS_PER_BATCH, *limits)
        rows.append(
            {
                "size": name,
                "event_bytes": len(encoded),
                "message_bytes": len(to_message(action_name, encoded).encode()),
                "events_per_s": RECORDS_PER_BATCH / times["ours"],
                "ms_per_batch": times["ours"] * 1e3,
                "baseline_ms_per_batch": times["baseline"] * 1e3,
                "ratio": times["ours"] / times["baseline"],
                "requests_per_100k": sender_client.requests,
                # Each invocation holds at most 1,000 records, so packing cannot cross invocations.
                "minimum_per_100k": per_batch_min * (STREAM_EVENTS // RECORDS_PER_BATCH),
                "minimum_per_100k_unbatched": minimum_requests([len(encoded)] * STREAM_EVENTS, *limits),
            }
        )
        peak = (name, records, service)

    name, records, service = peak  # the largest events
    tracemalloc.start()
    service.handle(records)
    _, peak_bytes = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    records_bytes = sum(len(r.body) for r in records)
    return {"rows": rows, "peak_memory": {"size": name, "peak_bytes": peak_bytes, "records_bytes": records_bytes}}
