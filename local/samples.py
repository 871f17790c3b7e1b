"""Writes the `sam local` samples in events/ from the Tealium payloads, with timestamps set to now.

OpenAI takes events from the last 7 days only, so a sample goes stale: run
`make samples` (this module) before `sam local invoke` to refresh them.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "connector"))

from connector.core.queue_message import to_message  # noqa: E402
from connector.core.wire.request import encode_event  # noqa: E402

from local.apigw import proxy_event  # noqa: E402

EVENTS = ROOT / "events"


def refreshed(document: dict | list, now_ms: int) -> dict | list:
    """A copy of a Tealium payload, or of a batched body's list of them, with its timestamps set to now."""
    if isinstance(document, list):
        return [refreshed(each, now_ms) for each in document]
    doc = json.loads(json.dumps(document))
    for event in (doc, doc.get("current_visit", {}).get("last_event", {})):
        if "post_time" in event:
            event["post_time"] = now_ms
        udo = event.get("data", {}).get("udo", {})
        if "tealium_timestamp_epoch" in udo:
            udo["tealium_timestamp_epoch"] = str(now_ms // 1000)
    return doc


def sqs_record(body: str) -> dict:
    now = str(int(time.time() * 1000))
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "MessageReceiptHandle",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": now,
            "SenderId": "123456789012",
            "ApproximateFirstReceiveTimestamp": now,
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:openai-events-connector-events",
        "awsRegion": "us-east-1",
    }


def write_samples(now_ms: int | None = None) -> list[Path]:
    now_ms = now_ms or round(time.time() * 1000)
    tealium = {
        name: json.loads((EVENTS / "tealium" / f"{name}.json").read_text())
        for name in ("purchase-event", "visitor", "pageview-event")
    }
    purchase = refreshed(tealium["purchase-event"], now_ms)
    samples = {
        "apigw/purchase-realtime.json": proxy_event("purchase", json.dumps(purchase)),
        "apigw/purchase-batched.json": proxy_event("purchase_batched", json.dumps(purchase)),
        "apigw/purchase-form.json": proxy_event(
            "purchase", urlencode({"data": json.dumps(purchase)}), content_type="application/x-www-form-urlencoded"
        ),
        "apigw/trial-visitor.json": proxy_event("trial_started", json.dumps(refreshed(tealium["visitor"], now_ms))),
        "apigw/pageview-batched.json": proxy_event(
            "page_view", json.dumps(refreshed(tealium["pageview-event"], now_ms))
        ),
        "apigw/purchase-debug.json": proxy_event("purchase_debug", json.dumps(purchase)),
    }
    events = [
        {
            "id": f"ORD-{n}",
            "type": "order_created",
            "timestamp_ms": now_ms,
            "action_source": "web",
            "source_url": "https://shop.example.com/checkout/thank-you",
            "data": {"type": "contents", "amount": 12999, "currency": "USD"},
        }
        for n in (10042, 10043)
    ]
    samples["sqs/batch-sender.json"] = {
        # A message names its action only; the sender's own configuration (events/env.json) says where.
        "Records": [sqs_record(to_message("purchase_batched", encode_event(event))) for event in events]
    }
    written = []
    for relative, content in samples.items():
        path = EVENTS / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content, indent=2) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_samples():
        print(path.relative_to(ROOT))
