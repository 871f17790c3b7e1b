"""Tealium payloads: EventStream event JSON, AudienceStream visitor JSON, or flat attributes.

The only module (with mapping) that knows Tealium's attribute names. A payload answers
`lookup(name)` by Tealium attribute name, then by dotted path from its root, and offers
the values OpenAI's automapping reads (`automapped_values`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs

from connector.errors import InputError

#: The form or query field a Tealium webhook puts its JSON in.
DATA_FIELD = "data"

#: The retail extension's index-aligned item attributes -> the neutral item field they fill.
RETAIL_ITEM_FIELDS: dict[str, str] = {
    "_cprodname": "name",
    "_ccat": "content_type",
    "_cquan": "quantity",
    "_cprice": "price_major",
}


def parse_body(body: str | bytes | None, content_type: str | None, query: Mapping[str, str] | None) -> list[object]:
    """The request's payloads: a JSON object, a JSON list of them, or the form/query field `data`."""
    text = _decode(body)
    if not text.strip():
        if query and query.get(DATA_FIELD):
            return _parse_json(query[DATA_FIELD], "query.data")
        raise InputError("body", "is empty: send a JSON object, a JSON list, or the form field data")
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        fields = parse_qs(text, keep_blank_values=True)
        if DATA_FIELD not in fields:
            raise InputError("body.data", "is missing: a form body carries the payload JSON in the field data")
        return _parse_json(fields[DATA_FIELD][0], "body.data")
    return _parse_json(text, "body")


def _decode(body: str | bytes | None) -> str:
    if body is None:
        return ""
    if isinstance(body, str):
        return body
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("body", "is not valid UTF-8") from None


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError("numbers beyond the float range are not valid JSON")
    return number


def _parse_json(text: str, where: str) -> list[object]:
    try:
        document = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise InputError(where, "is nested too deeply") from None
    except ValueError as err:
        reason = str(err) if "not valid JSON" in str(err) else "is not valid JSON"
        raise InputError(where, reason.split(":")[0]) from None
    return document if isinstance(document, list) else [document]


@dataclass(frozen=True)
class Payload:
    """One Tealium payload and the scopes its attribute names are looked up in, in order."""

    root: Mapping[str, object]
    kind: str
    scopes: tuple[Mapping[str, object], ...]

    def lookup(self, name: str) -> object | None:
        for scope in self.scopes:
            if name in scope:
                return scope[name]
        return dig(self.root, name) if "." in name else None

    def automapped_values(self) -> dict[str, object]:
        """What automapping fills in when no explicit mapping gave a value."""
        event = self._event_json()
        data = _dict(event.get("data"))
        udo, dom = _dict(data.get("udo")), _dict(data.get("dom"))
        values: dict[str, object] = {
            "timestamp_ms": _first(udo.get("tealium_timestamp_epoch"), event.get("post_time")),
            "source_url": _first(dom.get("url"), _dict(event.get("page_url")).get("full_url")),
            "ip_address": event.get("client_ip"),
            "user_agent": event.get("useragent"),
            "amount_major": self.lookup("_csubtotal"),
            "currency": self.lookup("_ccurrency"),
        }
        items = self._retail_items()
        if items:
            values["contents"] = items
        return {key: value for key, value in values.items() if value not in (None, "")}

    def _event_json(self) -> Mapping[str, object]:
        if self.kind == "visitor":
            return _dict(_dict(self.root.get("current_visit")).get("last_event"))
        return self.root

    def _retail_items(self) -> list[dict[str, object]]:
        skus, prods = _as_items(self.lookup("_csku")), _as_items(self.lookup("_cprod"))
        columns = {field: _as_items(self.lookup(name)) for name, field in RETAIL_ITEM_FIELDS.items()}
        count = max([len(skus), len(prods)] + [len(column) for column in columns.values()])
        items = []
        for i in range(count):
            # Item by item (ARCHITECTURE): id = _csku[i] or _cprod[i], content_type = _ccat[i] or "product".
            item = {field: _at(column, i) for field, column in columns.items()}
            item["id"] = _first(_at(skus, i), _at(prods, i))
            item["content_type"] = _first(item.get("content_type"), "product")
            items.append({k: v for k, v in item.items() if v not in (None, "")})
        return items


def read_payload(document: object, index: int = 0) -> Payload:
    if not isinstance(document, Mapping):
        raise InputError(f"events[{index}]", "must be a JSON object (Tealium event, visitor or attributes)")
    if _is_event_json(document):
        data = _dict(document.get("data"))
        scopes = (_dict(data.get("udo")), document, _dict(data.get("firstparty_tealium_cookies")))
        return Payload(document, "event", scopes)
    if _is_visitor_json(document):
        visit = _dict(document.get("current_visit"))
        last_udo = _dict(_dict(_dict(visit.get("last_event")).get("data")).get("udo"))
        scopes = tuple(_dict(document.get(section)) for section in ("properties", "metrics", "dates", "flags"))
        scopes += tuple(_dict(visit.get(section)) for section in ("properties", "metrics", "dates", "flags"))
        return Payload(document, "visitor", (*scopes, last_udo, document))
    return Payload(document, "attributes", (document,))


def _is_event_json(document: Mapping[str, object]) -> bool:
    return isinstance(document.get("data"), Mapping) and ("udo" in document["data"] or "post_time" in document)


def _is_visitor_json(document: Mapping[str, object]) -> bool:
    return isinstance(document.get("current_visit"), Mapping) or (
        isinstance(document.get("properties"), Mapping)
        and isinstance(document.get("metrics", {}), Mapping)
        and "visitor_id" in document["properties"]
    )


def dig(root: Mapping[str, object], path: str) -> object | None:
    """`data.dom.url` or `current_visit.properties.plan` (list positions as numbers: `items.0.id`)."""
    node: object = root
    for part in path.split("."):
        if isinstance(node, Mapping):
            node = node.get(part)
        elif isinstance(node, list) and part.isascii() and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _dict(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _first(*values: object) -> object | None:
    return next((v for v in values if v not in (None, "")), None)


def _as_items(value: object) -> list[object]:
    """Retail arrays arrive as lists or as comma-separated strings."""
    if isinstance(value, list):
        return value
    if isinstance(value, str) and value.strip():
        return [part.strip() for part in value.split(",")]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [value]
    return []


def _at(values: list[object], index: int) -> object | None:
    return values[index] if index < len(values) else None
