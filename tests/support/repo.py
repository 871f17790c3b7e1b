"""The repository's root, its sample events (events/) and the one way tests load and refresh them."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"


def load_event(relative: str) -> dict:
    """A sample event by its path under events/, e.g. `load_event("tealium/purchase-event.json")`."""
    return json.loads((EVENTS / relative).read_text(encoding="utf-8"))


def fresh(document: dict, now_ms: int | None = None) -> dict:
    """A Tealium payload with its timestamps moved to now, so the 7-day window accepts it."""
    from local.samples import refreshed

    return refreshed(document, now_ms or round(time.time() * 1000))


def refreshed_apigw_sample(event: dict) -> dict:
    """An API Gateway sample of events/apigw/ with its Tealium payload's timestamps moved to now."""
    body = base64.b64decode(event["body"]).decode() if event["isBase64Encoded"] else event["body"]
    is_form = "x-www-form-urlencoded" in event["headers"].get("Content-Type", "")
    document = json.loads(parse_qs(body)["data"][0] if is_form else body)
    updated = json.dumps(fresh(document))
    return event | {"body": urlencode({"data": updated}) if is_form else updated, "isBase64Encoded": False}


def refreshed_sqs_sample(event: dict, now_ms: int | None = None) -> dict:
    """The batch sender's sample (events/sqs/) with each queued event's timestamp moved to now."""
    now_ms = now_ms or round(time.time() * 1000)
    records = []
    for record in event["Records"]:
        body = json.loads(record["body"])
        body["event"]["timestamp_ms"] = now_ms
        records.append(record | {"body": json.dumps(body)})
    return event | {"Records": records}
