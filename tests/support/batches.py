"""Bodies of Tealium's batched webhook, built from the samples in events/tealium/ (timestamps set when built).

Tealium's "Send Batched Data via HTTP Request" posts the whole event (or visitor) objects of up to 100
requests as one JSON list (connector/core/tealium_batch.py); these give each copy its own ids, so each
can be followed to the OpenAI stand-in.
"""

from __future__ import annotations

import copy

from tests.support.repo import fresh, load_event

#: Tealium's default (and largest) batch: "Maximum number of requests: 100".
TEALIUM_BATCH = 100


def purchase_batch(count: int = TEALIUM_BATCH, now_ms: int | None = None) -> list[dict]:
    """`count` EventStream purchases, each with its own order id (ORD-B0000...) and Tealium event id."""
    sample = fresh(load_event("tealium/purchase-event.json"), now_ms)
    batch = []
    for n in range(count):
        event = copy.deepcopy(sample)
        order_id = f"ORD-B{n:04d}"
        event["event_id"] = f"7f3c2a10-5b6e-4c1d-9e8f-{n:012d}"
        event["data"]["udo"]["order_id"] = event["data"]["udo"]["_corder"] = order_id
        batch.append(event)
    return batch


def visitor_batch(count: int = TEALIUM_BATCH, now_ms: int | None = None) -> list[dict]:
    """`count` AudienceStream visitors, each with its own trial id (TRIAL-B0000...) and last event id."""
    sample = fresh(load_event("tealium/visitor.json"), now_ms)
    batch = []
    for n in range(count):
        visitor = copy.deepcopy(sample)
        trial_id = f"TRIAL-B{n:04d}"
        visitor["properties"]["visitor_id"] = f"017f5a3c1e2d00a8b9c4d1e2f{n:07d}"
        visitor["current_visit"]["properties"]["trial_id"] = trial_id
        last_event = visitor["current_visit"]["last_event"]
        last_event["event_id"] = f"b9d2e8f0-1111-4aaa-8bbb-{n:012d}"
        last_event["data"]["udo"]["trial_id"] = trial_id
        batch.append(visitor)
    return batch


def break_amount(event: dict) -> dict:
    """A European amount ("129,99") on an action that reads ".": refused, never guessed."""
    event["data"]["udo"]["_csubtotal"] = "129,99"
    return event


def drop_currency(event: dict) -> dict:
    """No `_ccurrency` beside an amount: refused by field."""
    del event["data"]["udo"]["_ccurrency"]
    return event
