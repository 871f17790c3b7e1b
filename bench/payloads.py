"""Realistic Tealium payloads built from the samples in events/tealium, with timestamps set to now."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

from connector.core.actions import ActionConfig, load_actions
from connector.core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "events" / "tealium"
ACTIONS = ROOT / "functions" / "ingest" / "actions.json"

SETTINGS = Settings(pixel_id="px_bench", api_key_secret_id="bench/openai-key", queue_url=None)


def _sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def now_ms() -> int:
    return round(time.time() * 1000)


def actions() -> dict[str, ActionConfig]:
    return load_actions(ACTIONS)


def page_view() -> dict:
    """An EventStream page view: few fields, one identifier (the visitor id as external id)."""
    event = _sample("purchase-event.json")
    stamp = now_ms()
    event["post_time"] = stamp
    event["event_id"] = "3c1d9e8f-0a1b-4c2d-8e4f-5a6b7c8d9e0f"
    event["page_url"] = {"full_url": "https://shop.example.com/products/red-t-shirt", "domain": "shop.example.com"}
    event["data"]["udo"] = {"tealium_event": "product_view", "tealium_timestamp_epoch": str(stamp // 1000)}
    event["data"]["dom"] = {"url": "https://shop.example.com/products/red-t-shirt", "title": "Red T-Shirt"}
    return event


def purchase(items: int = 10) -> dict:
    """A purchase: 5 hashed identifiers (2 emails, 2 phones, 1 external id), plain geo, `items` retail items."""
    event = _sample("purchase-event.json")
    stamp = now_ms()
    event["post_time"] = stamp
    udo = event["data"]["udo"]
    udo["tealium_timestamp_epoch"] = str(stamp // 1000)
    udo["customer_email"] = [" Ada@Example.COM ", "ada.lovelace@example.org"]
    udo["customer_phone"] = ["+40 746 123 456", "001 (555) 123-4567"]
    udo["_csku"] = [f"SKU-{i:04d}-M" for i in range(items)]
    udo["_cprod"] = [str(1000 + i) for i in range(items)]
    udo["_cprodname"] = [f"Product number {i} in a realistic catalogue" for i in range(items)]
    udo["_ccat"] = ["apparel"] * items
    udo["_cquan"] = [str(1 + i % 3) for i in range(items)]
    udo["_cprice"] = [f"{10 + i}.99" for i in range(items)]
    udo["_csubtotal"] = f"{sum((10 + i + 0.99) * (1 + i % 3) for i in range(items)):.2f}"
    return event


def visitor() -> dict:
    """An AudienceStream visitor (trial started)."""
    document = _sample("visitor.json")
    document["current_visit"]["last_event"]["post_time"] = now_ms()
    return document


#: Shape name -> (action name, payload factory).
SHAPES = {
    "page view": ("page_view", page_view),
    "purchase, 5 ids, 10 items": ("purchase", purchase),
    "AudienceStream visitor": ("trial_started", visitor),
}


def copies(document: dict, count: int) -> list[dict]:
    return [copy.deepcopy(document) for _ in range(count)]
