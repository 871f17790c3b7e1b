"""The repository's root, its sample events (events/) and the one way tests load and refresh them."""

from __future__ import annotations

import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"


def load_event(relative: str) -> dict:
    """A sample event by its path under events/, e.g. `load_event("tealium/purchase-event.json")`."""
    return json.loads((EVENTS / relative).read_text(encoding="utf-8"))


def fresh(document: dict, now_ms: int | None = None) -> dict:
    """A Tealium payload with its timestamps moved to now, so the 7-day window accepts it."""
    from local.samples import refreshed

    return refreshed(document, now_ms or round(time.time() * 1000))
