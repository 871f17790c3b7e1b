"""OpenAI's Events API wire contract (``docs/wire-contract.md``): is this request body valid?

Pure and independent of HTTP, so the stand-in's checks can be read and tested on their own. ``action_source``
is optional here because docs/wire-contract.md does not mark it required; when present it must be in the enum.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "ACTION_SOURCES",
    "CONTENT_FIELDS",
    "CONTENT_INT_FIELDS",
    "CONTENT_STRING_FIELDS",
    "DATA_FIELDS",
    "DATA_TYPE_BY_EVENT",
    "EVENT_FIELDS",
    "INTEGRATION_SOURCE_RE",
    "MAX_AGE_MS",
    "MAX_AHEAD_MS",
    "MAX_BODY_BYTES",
    "MAX_EVENTS",
    "MAX_USER_VALUES",
    "MOBILE_APP_EVENTS",
    "OPEN_DATA_TYPES",
    "STANDARD_EVENT_TYPES",
    "USER_LIST_RULES",
    "USER_SCALAR_RULES",
    "EventError",
    "check_envelope",
    "is_int",
    "validate_event",
]

#: OpenAI accepts at most this many events per request.
MAX_EVENTS = 1000
#: Largest accepted request body, in bytes.
MAX_BODY_BYTES = 1_000_000
#: timestamp_ms must be within the last 7 days ...
MAX_AGE_MS = 7 * 24 * 3600 * 1000
#: ... and at most 10 minutes ahead of the receiver's clock.
MAX_AHEAD_MS = 10 * 60 * 1000
#: user lists hold at most this many values.
MAX_USER_VALUES = 3

#: Each standard event type and the `data.type` it requires; `custom` takes `custom` data.
DATA_TYPE_BY_EVENT = {
    **dict.fromkeys(("page_viewed", "contents_viewed", "items_added", "checkout_started", "order_created"), "contents"),
    **dict.fromkeys(
        ("lead_created", "registration_completed", "appointment_scheduled", "app_installed", "app_opened"),
        "customer_action",
    ),
    **dict.fromkeys(("subscription_created", "trial_started"), "plan_enrollment"),
    "custom": "custom",
}
STANDARD_EVENT_TYPES = frozenset(DATA_TYPE_BY_EVENT) - {"custom"}
#: Events that only exist in an app.
MOBILE_APP_EVENTS = frozenset({"app_installed", "app_opened"})
ACTION_SOURCES = frozenset({"web", "mobile_app", "offline", "physical_store", "phone_call", "email", "other"})
EVENT_FIELDS = frozenset(
    {
        "id",
        "type",
        "custom_event_name",
        "timestamp_ms",
        "oppref",
        "source_url",
        "action_source",
        "opt_out",
        "user",
        "data",
    }
)
#: Fields each data type may carry (customer_action is the order summary only).
DATA_FIELDS = {
    "contents": frozenset({"type", "amount", "currency", "contents"}),
    "customer_action": frozenset({"type", "amount", "currency"}),
    "plan_enrollment": frozenset({"type", "plan_id", "amount", "currency", "contents"}),
    "custom": frozenset({"type", "plan_id", "amount", "currency", "contents"}),
}
#: Only custom data carries properties beyond its own fields (string, number, boolean, object, array or null).
OPEN_DATA_TYPES = frozenset({"custom"})
CONTENT_STRING_FIELDS = frozenset({"id", "name", "content_type", "group_id", "currency"})
CONTENT_INT_FIELDS = frozenset({"quantity", "amount"})
CONTENT_FIELDS = CONTENT_STRING_FIELDS | CONTENT_INT_FIELDS | {"variant_dict"}

_CUSTOM_NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62}[A-Za-z0-9])?")
_CURRENCY_RE = re.compile(r"[A-Z]{3}")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_COUNTRY_RE = re.compile(r"[A-Z]{2}")
_POSTAL_RE = re.compile(r"[A-Za-z0-9 -]{1,32}")
_UUID_RE = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
#: The request's optional `integration_source`.
INTEGRATION_SOURCE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _parses_as_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


_SHA256_RULE = (_SHA256_RE.fullmatch, "64 lowercase hex characters")
#: user list fields and the rule each value meets.
USER_LIST_RULES: dict[str, tuple[Callable[[str], object], str]] = {
    "emails_sha256": _SHA256_RULE,
    "phone_numbers_sha256": _SHA256_RULE,
    "external_ids_sha256": _SHA256_RULE,
    "first_names_sha256": _SHA256_RULE,
    "last_names_sha256": _SHA256_RULE,
    "countries": (_COUNTRY_RE.fullmatch, "2 uppercase ASCII letters"),
    "regions": (lambda v: 0 < len(v) <= 128, "1-128 characters"),
    "cities": (lambda v: 0 < len(v) <= 128, "1-128 characters"),
    "postal_codes": (_POSTAL_RE.fullmatch, "1-32 ASCII letters, digits, spaces or hyphens"),
}
#: user scalar fields and their rule.
USER_SCALAR_RULES: dict[str, tuple[Callable[[str], object], str]] = {
    "android_advertising_id": (_UUID_RE.fullmatch, "a UUID"),
    "obref": (str.strip, "a non-blank string"),
    "ip_address": (_parses_as_ip, "an IPv4 or IPv6 address"),
    "user_agent": (len, "a non-empty string"),
}


class EventError(ValueError):
    """One event breaks the contract; `detail` names the field and the rule, never the value."""

    def __init__(self, detail: str, code: str = "invalid_event") -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code


def is_int(value: object) -> bool:
    """A JSON integer: Python's bool is an int, JSON's true is not."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _check_amount(where: str, obj: dict[str, Any], currency_required: bool) -> None:
    if "amount" in obj and not (is_int(obj["amount"]) and obj["amount"] >= 0):
        raise EventError(f"{where}.amount: must be a non-negative integer in minor units")
    if "currency" in obj:
        if not (isinstance(obj["currency"], str) and _CURRENCY_RE.fullmatch(obj["currency"])):
            raise EventError(f"{where}.currency: must be an ISO 4217 code, 3 uppercase letters")
    elif currency_required and "amount" in obj:
        raise EventError(f"{where}.currency: required when amount is present")


def _check_content_item(where: str, item: object) -> None:
    if not isinstance(item, dict):
        raise EventError(f"{where}: must be an object")
    unknown = item.keys() - CONTENT_FIELDS
    if unknown:
        raise EventError(f"{where}: unknown field {sorted(unknown)[0]}")
    for name in CONTENT_STRING_FIELDS & item.keys():
        if not isinstance(item[name], str):
            raise EventError(f"{where}.{name}: must be a string")
    for name in CONTENT_INT_FIELDS & item.keys():
        if not (is_int(item[name]) and item[name] >= 0):
            raise EventError(f"{where}.{name}: must be a non-negative integer")
    _check_amount(where, item, currency_required=False)
    variants = item.get("variant_dict", {})
    if not (isinstance(variants, dict) and all(isinstance(v, str) for v in variants.values())):
        raise EventError(f"{where}.variant_dict: must be an object whose values are strings")


def _check_data(event_type: str, data: object) -> None:
    if not isinstance(data, dict):
        code = "missing_event_data_type" if data is None else "invalid_event"
        raise EventError("data: required object", code)
    if "type" not in data:
        raise EventError("data.type: required", "missing_event_data_type")
    expected = DATA_TYPE_BY_EVENT[event_type]
    if data["type"] != expected:
        raise EventError(f"data.type: must be {expected} for a {event_type} event")
    unknown = data.keys() - DATA_FIELDS[expected]
    if unknown and expected not in OPEN_DATA_TYPES:
        raise EventError(f"data: unknown field {sorted(unknown)[0]} for {expected} data")
    _check_amount("data", data, currency_required=True)
    if "plan_id" in data and not isinstance(data["plan_id"], str):
        raise EventError("data.plan_id: must be a string")
    if "contents" in data:
        if not isinstance(data["contents"], list):
            raise EventError("data.contents: must be a list")
        for index, item in enumerate(data["contents"]):
            _check_content_item(f"data.contents[{index}]", item)


def _check_user(user: object) -> None:
    if not isinstance(user, dict):
        raise EventError("user: must be an object")
    for name, value in user.items():
        if name in USER_LIST_RULES:
            rule, text = USER_LIST_RULES[name]
            if not isinstance(value, list) or len(value) > MAX_USER_VALUES:
                raise EventError(f"user.{name}: must be a list of at most {MAX_USER_VALUES} strings")
            if not all(isinstance(v, str) and rule(v) for v in value):
                raise EventError(f"user.{name}: each value must be {text}")
        elif name in USER_SCALAR_RULES:
            rule, text = USER_SCALAR_RULES[name]
            if not (isinstance(value, str) and rule(value)):
                raise EventError(f"user.{name}: must be {text}")
        else:
            raise EventError(f"user: unknown field {name}")


def validate_event(event: object, now_ms: int, reject_ids: Iterable[str] = ()) -> None:
    """Raise EventError for the first rule `event` breaks; rules from the event table of docs/wire-contract.md."""
    if not isinstance(event, dict):
        raise EventError("event: must be an object")
    unknown = event.keys() - EVENT_FIELDS
    if unknown:
        raise EventError(f"event: unknown field {sorted(unknown)[0]}")
    event_id = event.get("id")
    if not (isinstance(event_id, str) and event_id):
        raise EventError("id: required non-empty string")
    if event_id in reject_ids:
        raise EventError("id: event rejected by stand-in rule")
    event_type = event.get("type")
    if event_type not in DATA_TYPE_BY_EVENT:
        raise EventError("type: must be a standard event name or custom")
    if event_type == "custom":
        name = event.get("custom_event_name")
        if not (isinstance(name, str) and _CUSTOM_NAME_RE.fullmatch(name)):
            raise EventError("custom_event_name: required for custom, 1-64 letters, digits, _ or -")
        if name in STANDARD_EVENT_TYPES:
            raise EventError("custom_event_name: must not be a standard event name")
    stamp = event.get("timestamp_ms")
    if not is_int(stamp):
        raise EventError("timestamp_ms: required integer epoch milliseconds")
    if stamp < now_ms - MAX_AGE_MS:
        raise EventError("timestamp_ms: older than 7 days", "event_timestamp_too_old")
    if stamp > now_ms + MAX_AHEAD_MS:
        raise EventError("timestamp_ms: more than 10 minutes in the future")
    source = event.get("action_source")
    if "action_source" in event and source not in ACTION_SOURCES:
        raise EventError("action_source: must be one of " + ", ".join(sorted(ACTION_SOURCES)))
    if event_type in MOBILE_APP_EVENTS and source != "mobile_app":
        raise EventError(f"action_source: must be mobile_app for {event_type}")
    if ("source_url" in event or source == "web") and not _is_http_url(event.get("source_url")):
        raise EventError("source_url: absolute http(s) URL, required when action_source is web")
    if "opt_out" in event and not isinstance(event["opt_out"], bool):
        raise EventError("opt_out: must be a boolean")
    if "oppref" in event and not isinstance(event["oppref"], str):
        raise EventError("oppref: must be a string")
    if "user" in event:
        _check_user(event["user"])
    _check_data(event_type, event.get("data"))


def check_envelope(parsed: object) -> tuple[str | None, str] | None:
    """(param, message) when the request body is not {validate_only?, events: [1..1000]}."""
    if not isinstance(parsed, dict):
        return None, "body must be a JSON object"
    unknown = parsed.keys() - {"validate_only", "integration_source", "events"}
    if unknown:
        return sorted(unknown)[0], f"unknown request field {sorted(unknown)[0]}"
    if "validate_only" in parsed and not isinstance(parsed["validate_only"], bool):
        return "validate_only", "validate_only must be a boolean"
    source = parsed.get("integration_source")
    if "integration_source" in parsed and not (isinstance(source, str) and INTEGRATION_SOURCE_RE.fullmatch(source)):
        return "integration_source", "integration_source must be 1-64 letters, digits, . _ or -, starting alphanumeric"
    events = parsed.get("events")
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS:
        return "events", f"events must be a list of 1 to {MAX_EVENTS} events"
    return None
