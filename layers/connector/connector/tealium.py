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
    """One Tealium payload, and its attributes by name: the scopes they are looked up in, merged once."""

    root: Mapping[str, object]
    kind: str
    attributes: Mapping[str, object]

    @classmethod
    def from_scopes(cls, root: Mapping[str, object], kind: str, *scopes: Mapping[str, object]) -> Payload:
        """The first scope that has a name wins: merging in reverse lets it write last."""
        attributes: dict[str, object] = {}
        for scope in reversed(scopes):
            attributes.update(scope)
        return cls(root, kind, attributes)

    def lookup(self, name: str) -> object | None:
        if name in self.attributes:
            return self.attributes[name]
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
        # Item by item (ARCHITECTURE): id = _csku[i] or _cprod[i], content_type = _ccat[i] or "product".
        skus, prods = _as_items(self.lookup("_csku")), _as_items(self.lookup("_cprod"))
        columns = [(field, _as_items(self.lookup(name))) for name, field in RETAIL_ITEM_FIELDS.items()]
        columns = [(field, column) for field, column in columns if column]
        count = max(len(skus), len(prods), *(len(column) for _, column in columns))
        items = []
        for i in range(count):
            item = {field: column[i] for field, column in columns if i < len(column) and column[i] not in (None, "")}
            item_id = _first(_at(skus, i), _at(prods, i))
            if item_id is not None:
                item["id"] = item_id
            item.setdefault("content_type", "product")
            items.append(item)
        return items


def read_payload(document: object, index: int = 0) -> Payload:
    if not isinstance(document, dict):
        raise InputError(f"events[{index}]", "must be a JSON object (Tealium event, visitor or attributes)")
    if _is_event_json(document):
        data = _dict(document.get("data"))
        return Payload.from_scopes(
            document, "event", _dict(data.get("udo")), document, _dict(data.get("firstparty_tealium_cookies"))
        )
    if _is_visitor_json(document):
        visit = _dict(document.get("current_visit"))
        last_udo = _dict(_dict(_dict(visit.get("last_event")).get("data")).get("udo"))
        scopes = tuple(_dict(document.get(section)) for section in ("properties", "metrics", "dates", "flags"))
        scopes += tuple(_dict(visit.get(section)) for section in ("properties", "metrics", "dates", "flags"))
        return Payload.from_scopes(document, "visitor", *scopes, last_udo, document)
    return Payload(document, "attributes", document)


def _is_event_json(document: Mapping[str, object]) -> bool:
    return isinstance(document.get("data"), dict) and ("udo" in document["data"] or "post_time" in document)


def _is_visitor_json(document: Mapping[str, object]) -> bool:
    return isinstance(document.get("current_visit"), dict) or (
        isinstance(document.get("properties"), dict)
        and isinstance(document.get("metrics", {}), dict)
        and "visitor_id" in document["properties"]
    )


def dig(root: Mapping[str, object], path: str) -> object | None:
    """`data.dom.url` or `current_visit.properties.plan` (list positions as numbers: `items.0.id`)."""
    node: object = root
    for part in path.split("."):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isascii() and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


#: Parsed JSON: objects are plain dicts (checking `dict` is far cheaper than an abstract Mapping).
EMPTY: dict[str, object] = {}


def _dict(value: object) -> Mapping[str, object]:
    return value if isinstance(value, dict) else EMPTY


def _first(*values: object) -> object | None:
    for value in values:
        if value not in (None, ""):
            return value
    return None


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
