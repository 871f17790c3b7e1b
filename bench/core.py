"""Core throughput: Tealium payload dict in -> prepare_events -> serialized wire event bytes out."""

from __future__ import annotations

import hashlib
import json

from connector.core import normalize
from connector.core.mapping import map_values
from connector.core.pipeline import prepare_events
from connector.core.tealium import read_payload

from bench import payloads
from bench.timing import paired

#: Events per timed call of prepare_events (one list, as one API call would carry).
EVENTS_PER_CALL = 100
#: Calls per repeat.
CALLS = 5


def normalized_identifiers(action, document: dict) -> list[str]:
    """What the event hashes, already normalized: the baseline's SHA-256 input."""
    values = map_values(action, read_payload(document))
    out = []
    for field in normalize.HASHABLE_FIELDS:
        raw = values.get(field)
        for value in raw if isinstance(raw, list) else [raw] if raw is not None else []:
            out.append(normalize.BEFORE_HASH[field](value))
    return out


def run() -> list[dict]:
    actions = payloads.actions()
    settings = payloads.SETTINGS
    rows = []
    for shape, (action_name, factory) in payloads.SHAPES.items():
        action = actions[action_name]
        document = factory()
        documents = payloads.copies(document, EVENTS_PER_CALL)
        now = payloads.now_ms()
        first = prepare_events(action, [document], settings, now)[0]
        if not first.ok:
            raise RuntimeError(f"bench payload {shape!r} was rejected: {first.errors}")
        event = first.event
        identifiers = normalized_identifiers(action, document)

        def ours(action=action, documents=documents, now=now) -> None:
            for prepared in prepare_events(action, documents, settings, now):
                assert prepared.encoded is not None

        def baseline(identifiers=identifiers, event=event) -> None:
            for _ in range(EVENTS_PER_CALL):
                for text in identifiers:
                    hashlib.sha256(text.encode("utf-8")).hexdigest()
                json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

        times = paired({"ours": ours, "baseline": baseline}, CALLS, repeats=9)
        per_event = times["ours"] / EVENTS_PER_CALL
        base_per_event = times["baseline"] / EVENTS_PER_CALL
        rows.append(
            {
                "shape": shape,
                "action": action_name,
                "hashes": len(identifiers),
                "wire_bytes": len(first.encoded),
                "events_per_s": 1 / per_event,
                "us_per_event": per_event * 1e6,
                "baseline_us_per_event": base_per_event * 1e6,
                "ratio": per_event / base_per_event,
                "target": 4.0,
            }
        )
    return rows
