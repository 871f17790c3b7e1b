"""OpenAI Events API wire format: the only module that spells OpenAI's field names and limits.

A change at OpenAI (a field, a limit, an error shape) is a change to this file alone.
`build_event` turns mapped values (keyed by the setup guide's parameter names) into one
wire event, or into errors that name the field and the reason; `check_wire_event` holds an
already-built event (a queued one) to the same rules before it is sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import quote, urlsplit

from connector import coerce, money, normalize
from connector.errors import InvalidValue

#: OpenAI accepts at most this many events per request.
MAX_EVENTS_PER_REQUEST = 1000
#: OpenAI's request cap is "1 MB"; the decimal reading keeps us under either reading.
MAX_REQUEST_BYTES = 1_000_000
#: An event may be at most this old when it is sent...
MAX_EVENT_AGE_MS = 7 * 24 * 3600 * 1000
#: ...and at most this far in the future.
MAX_EVENT_LEAD_MS = 10 * 60 * 1000
#: OpenAI uses the first three valid values of each user list.
MAX_USER_LIST_VALUES = 3
MAX_ID_CHARS = 512
MAX_URL_CHARS = 8192
MAX_TEXT_CHARS = 1024
#: A content item's quantity: a count, so never negative; the cap keeps it a 32-bit integer.
MAX_QUANTITY = 2**31 - 1

DEFAULT_BASE_URL = "https://bzr.openai.com"
EVENTS_PATH = "/v1/events"

#: Event type -> the `data.type` it carries.
EVENT_DATA_TYPES: dict[str, str] = {
    "page_viewed": "contents",
    "contents_viewed": "contents",
    "items_added": "contents",
    "checkout_started": "contents",
    "order_created": "contents",
    "lead_created": "customer_action",
    "registration_completed": "customer_action",
    "appointment_scheduled": "customer_action",
    "app_installed": "customer_action",
    "app_opened": "customer_action",
    "subscription_created": "plan_enrollment",
    "trial_started": "plan_enrollment",
    "custom": "custom",
}
EVENT_TYPES = frozenset(EVENT_DATA_TYPES)
#: Events OpenAI takes from apps only.
MOBILE_APP_ONLY = frozenset({"app_installed", "app_opened"})
#: The `data` fields each data type accepts besides `type`.
DATA_FIELDS: dict[str, tuple[str, ...]] = {
    "contents": ("amount", "currency", "contents"),
    "customer_action": ("amount", "currency"),
    "plan_enrollment": ("plan_id", "amount", "currency", "contents"),
    "custom": ("plan_id", "amount", "currency", "contents"),
}
ACTION_SOURCES = ("web", "mobile_app", "offline", "physical_store", "phone_call", "email", "other")
CUSTOM_EVENT_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62}[A-Za-z0-9])?")

#: Mapping key -> OpenAI's hashed user list: the apply-hash column hashes, the `_sha256` column is checked.
HASHED_USER_LISTS: dict[str, str] = {
    "email": "emails_sha256",
    "phone": "phone_numbers_sha256",
    "external_id": "external_ids_sha256",
    "first_name": "first_names_sha256",
    "last_name": "last_names_sha256",
}
#: The seed's External ID (raw): OpenAI takes no raw external id, so it joins the hashed list.
RAW_HASHED_USER_LISTS: dict[str, str] = {"external_id_raw": "external_ids_sha256"}
#: Mapping key -> OpenAI's raw user list ("Send geographic values as raw strings").
PLAIN_USER_LISTS: dict[str, str] = {
    "country": "countries",
    "region": "regions",
    "city": "cities",
    "zip": "postal_codes",
}
#: Single-valued user fields -> OpenAI's name.
USER_SCALARS: dict[str, str] = {
    "android_advertising_id": "android_advertising_id",
    "obref": "obref",
    "ip_address": "ip_address",
    "user_agent": "user_agent",
}
#: The seed's already-hashed geo columns: OpenAI has no field for them, and a hash cannot be unhashed.
REFUSED_USER_FIELDS: dict[str, str] = {"country_sha256": "country", "city_sha256": "city", "zip_sha256": "zip"}
#: A content item's fields in OpenAI's order.
CONTENT_ITEM_FIELDS = ("id", "group_id", "name", "content_type", "quantity", "amount", "currency", "variant_dict")
#: A mapped item may give its price in major units instead of `amount` in minor units.
ITEM_PRICE_KEYS = ("price", "price_major")
#: The `values` key the mapped custom properties travel under (a dict: property -> value).
CUSTOM_DATA = "custom_data"
#: Names a custom property cannot take: `data`'s own fields.
RESERVED_DATA_FIELDS = frozenset({"type", *DATA_FIELDS["custom"]})
#: `integration_source`: 1-64 ASCII characters, starting with a letter or digit.
INTEGRATION_SOURCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

ERROR_PARAM = re.compile(r"events\[(\d+)\]")


@dataclass(frozen=True)
class Issue:
    """A field and what is wrong with it; never the value itself."""

    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


@dataclass(frozen=True)
class EventSpec:
    """What an action fixes about every event it sends."""

    event_type: str
    custom_event_name: str | None = None
    action_source: str | None = None
    default_action_source: str = "web"
    #: How the action's major-unit amounts write their decimals (money.DECIMAL_SEPARATORS).
    decimal_separator: str = "."


@dataclass
class BuiltEvent:
    event: dict[str, object] | None
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)


class _Builder:
    """Collects one event's errors and warnings while its fields are read."""

    def __init__(self, values: Mapping[str, object], decimal_separator: str = ".") -> None:
        self.values = values
        self.decimal_separator = decimal_separator
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []

    def read(self, key: str, field_name: str, parse, *, required: bool = False, drop_only: bool = False):
        raw = self.values.get(key)
        if raw is None or raw == "":
            if required:
                self.errors.append(Issue(field_name, "is required"))
            return None
        try:
            return parse(raw)
        except InvalidValue as problem:
            (self.warnings if drop_only else self.errors).append(Issue(field_name, str(problem)))
            return None


def build_event(spec: EventSpec, values: Mapping[str, object], now_ms: int) -> BuiltEvent:
    """Mapped values (the guide's parameter names) -> one wire event, or the reasons it cannot be."""
    b = _Builder(values, spec.decimal_separator)
    event: dict[str, object] = {}
    event["id"] = b.read("id", "id", _parse_event_id, required=True)
    event["type"] = spec.event_type
    if spec.event_type == "custom":
        event["custom_event_name"] = spec.custom_event_name
    timestamp_ms = b.read("timestamp_ms", "timestamp_ms", coerce.parse_epoch_ms, required=True)
    if timestamp_ms is not None:
        problem = timestamp_window_problem(timestamp_ms, now_ms)
        if problem:
            b.errors.append(Issue("timestamp_ms", problem))
    event["timestamp_ms"] = timestamp_ms
    event["oppref"] = b.read("oppref", "oppref", _parse_opaque)

    mapped_source = b.read("action_source", "action_source", _parse_action_source)
    action_source = mapped_source or spec.action_source or spec.default_action_source
    is_web = action_source == "web"
    event["source_url"] = b.read("source_url", "source_url", _parse_url, required=is_web, drop_only=not is_web)
    event["action_source"] = action_source
    if spec.event_type in MOBILE_APP_ONLY and action_source != "mobile_app":
        b.errors.append(Issue("action_source", f"{spec.event_type} is accepted from mobile_app only"))
    event["opt_out"] = b.read("opt_out", "opt_out", coerce.parse_bool)
    user = _build_user(b)
    if user:
        event["user"] = user
    event["data"] = _build_data(b, spec.event_type)

    if b.errors:
        return BuiltEvent(None, b.errors, b.warnings)
    return BuiltEvent({k: v for k, v in event.items() if v is not None}, [], b.warnings)


def timestamp_window_problem(timestamp_ms: int, now_ms: int) -> str | None:
    """OpenAI takes events from the last 7 days up to 10 minutes ahead, judged at send time."""
    if timestamp_ms < now_ms - MAX_EVENT_AGE_MS:
        return "is more than 7 days in the past"
    if timestamp_ms > now_ms + MAX_EVENT_LEAD_MS:
        return "is more than 10 minutes in the future"
    return None


#: Types for isinstance(), built once: a `str | int` union would be built on every call (~10x slower).
_TEXT_OR_INT = (str, int)
_NUMBER = (int, float)
_SEQUENCE = (list, tuple)


def _parse_event_id(raw: object) -> str:
    if isinstance(raw, bool) or not isinstance(raw, _TEXT_OR_INT):
        raise InvalidValue("must be a string")
    event_id = str(raw).strip()
    if not event_id:
        raise InvalidValue("is empty")
    if len(event_id) > MAX_ID_CHARS:
        raise InvalidValue(f"must be at most {MAX_ID_CHARS} characters")
    return event_id


def _parse_opaque(raw: object) -> str:
    # oppref is OpenAI's opaque identifier: passed through byte for byte.
    if not isinstance(raw, str):
        raise InvalidValue("must be a string")
    if len(raw) > MAX_URL_CHARS:
        raise InvalidValue(f"must be at most {MAX_URL_CHARS} characters")
    return raw


def _parse_action_source(raw: object) -> str:
    if not isinstance(raw, str) or raw.strip().lower() not in ACTION_SOURCES:
        raise InvalidValue(f"must be one of {', '.join(ACTION_SOURCES)}")
    return raw.strip().lower()


def _parse_url(raw: object) -> str:
    if not isinstance(raw, str):
        raise InvalidValue("must be an absolute http(s) URL")
    url = raw.strip()
    if len(url) > MAX_URL_CHARS:
        raise InvalidValue(f"must be at most {MAX_URL_CHARS} characters")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise InvalidValue("must be an absolute http(s) URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidValue("must be an absolute http(s) URL")
    return url


def _parse_text(raw: object) -> str:
    if type(raw) is str:
        text = raw.strip()
    elif isinstance(raw, bool) or not isinstance(raw, _NUMBER):
        raise InvalidValue("must be a string")
    else:
        text = str(raw)
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidValue(f"must be at most {MAX_TEXT_CHARS} characters")
    return text


def _parse_quantity(raw: object) -> int:
    quantity = coerce.parse_int(raw)
    if not 0 <= quantity <= MAX_QUANTITY:
        raise InvalidValue(f"must be a whole number from 0 to {MAX_QUANTITY}")
    return quantity


def _as_list(raw: object) -> list[object]:
    if raw is None or raw == "":
        return []
    return list(raw) if isinstance(raw, _SEQUENCE) else [raw]


def _present(raw: object) -> list[object]:
    """A user field's values; the guide: "Empty or null values are ignored"."""
    return [v for v in _as_list(raw) if v is not None and not (isinstance(v, str) and not v.strip())]


def _add_distinct(b: _Builder, target: list[str], wire_name: str, value: str) -> None:
    if value in target:
        return
    if len(target) >= MAX_USER_LIST_VALUES:
        b.warnings.append(Issue(f"user.{wire_name}", f"only the first {MAX_USER_LIST_VALUES} distinct values are sent"))
        return
    target.append(value)


def _user_columns() -> tuple[tuple[str, str, Callable[[object], str]], ...]:
    """(mapping key, OpenAI list, normalizer) of every list-valued user field, in a fixed order."""
    columns = []
    for name, hashed_list in HASHED_USER_LISTS.items():
        columns.append((name, hashed_list, partial(normalize.hash_identifier, name)))
        columns.append((f"{name}_sha256", hashed_list, normalize.check_prehashed))
    for name, hashed_list in RAW_HASHED_USER_LISTS.items():
        columns.append((name, hashed_list, partial(normalize.hash_identifier, name)))
    for name, plain_list in PLAIN_USER_LISTS.items():
        columns.append((name, plain_list, normalize.PLAIN[name]))
    return tuple(columns)


USER_COLUMNS = _user_columns()
#: (mapping key, OpenAI's name, the field a warning names, normalizer) of each single-valued user field.
USER_SCALAR_COLUMNS = tuple(
    (name, wire_name, f"user.{name}", normalize.PLAIN[name]) for name, wire_name in USER_SCALARS.items()
)
#: Every user mapping key.
USER_FIELDS = frozenset(key for key, _, _ in USER_COLUMNS) | frozenset(USER_SCALARS)


def _build_user(b: _Builder) -> dict[str, object]:
    lists: dict[str, list[str]] = {}
    values = b.values
    for key, target, normalizer in USER_COLUMNS:
        raw = values.get(key)
        if raw is None:
            continue
        # One text value, the common case, is what _present would return, without building its lists.
        present = ((raw,) if raw.strip() else ()) if type(raw) is str else _present(raw)
        for item in present:
            try:
                value = normalizer(item)
            except InvalidValue as problem:
                b.warnings.append(Issue(f"user.{key}", str(problem)))
                continue
            found = lists.setdefault(target, [])
            if len(found) < MAX_USER_LIST_VALUES and value not in found:
                found.append(value)
            else:  # a repeat, or one too many (warned)
                _add_distinct(b, found, target, value)
    user: dict[str, object] = {k: v for k, v in lists.items() if v}
    for key, wire_name, field_name, normalizer in USER_SCALAR_COLUMNS:
        value = b.read(key, field_name, normalizer, drop_only=True)
        if value is not None:
            user[wire_name] = value
    return user


def _build_data(b: _Builder, event_type: str) -> dict[str, object]:
    data_type = EVENT_DATA_TYPES[event_type]
    accepted = DATA_FIELDS[data_type]
    currency = b.read("currency", "data.currency", money.normalize_currency)
    amount = b.read("amount", "data.amount", money.parse_minor_units)
    major = b.values.get("amount_major")
    if amount is None and currency and major not in (None, ""):
        in_minor_units = partial(money.major_to_minor, currency=currency, decimal_separator=b.decimal_separator)
        amount = b.read("amount_major", "data.amount", in_minor_units)
    wants_currency = amount is not None or major not in (None, "")
    if wants_currency and currency is None and not any(i.field == "data.currency" for i in b.errors):
        b.errors.append(Issue("data.currency", "is required when an amount is given"))
    data: dict[str, object] = {"type": data_type}
    for name, value in (("amount", amount), ("currency", currency)):
        if value is not None:
            data[name] = value
    # A field the data type drops is never read: a bad value there must not reject the event.
    for name in ("plan_id", "contents"):
        if b.values.get(name) in (None, "", []):
            continue
        if name not in accepted:
            b.warnings.append(Issue(f"data.{name}", f"dropped: {event_type} accepts only {', '.join(accepted)}"))
        elif name == "plan_id":
            data[name] = b.read("plan_id", "data.plan_id", _parse_text)
        else:
            data[name] = _build_contents(b, currency)
    data = {k: v for k, v in data.items() if v not in (None, "", [])}
    if data_type == "custom":
        _add_custom_properties(b, data)
    return data


def _add_custom_properties(b: _Builder, data: dict[str, object]) -> None:
    """Custom data carries the action's custom properties as they came: any JSON type, null included."""
    properties = b.values.get(CUSTOM_DATA)
    if not isinstance(properties, Mapping):
        return
    for name, value in properties.items():
        if name in RESERVED_DATA_FIELDS:  # actions.py refuses these at load; a direct caller may not have
            b.errors.append(Issue(f"data.{name}", "is a reserved data field, not a custom property"))
        else:
            data[name] = value


#: A content item's text fields.
ITEM_TEXT_FIELDS = ("id", "group_id", "name", "content_type")
#: Every key an item may hold on the way in (a mapped `contents` list or the Tealium adapter's items).
ITEM_KEYS = frozenset({*CONTENT_ITEM_FIELDS, *ITEM_PRICE_KEYS})
#: Digits of a quantity that can never exceed MAX_QUANTITY (2**31 - 1 has ten).
_QUANTITY_DIGITS = 9


def _build_contents(b: _Builder, currency: str | None) -> list[dict[str, object]]:
    contents = []
    for position, item in enumerate(_as_list(b.values.get("contents"))):
        if not isinstance(item, dict):
            b.errors.append(Issue(f"data.contents[{position}]", "must be an object"))
            continue
        wire_item = _build_item(b, item, position, currency)
        if wire_item is not None:
            contents.append(wire_item)
    return contents


def _build_item(b: _Builder, item: dict[str, object], position: int, currency: str | None) -> dict[str, object] | None:
    # This runs for every item of every event: the common shapes (short text, a quantity in digits, no
    # per-item currency or amount) skip the general parsers, which still decide everything else.
    wire_item: dict[str, object] = {}
    for name in ITEM_TEXT_FIELDS:
        raw = item.get(name)
        if raw is None:
            continue
        if type(raw) is str and len(raw) <= MAX_TEXT_CHARS:
            value = raw.strip()  # what _parse_text returns for such text
        else:
            value = _read_item(b, item, name, position, _parse_text)
        if value:
            wire_item[name] = value
    raw = item.get("quantity")
    if type(raw) is str and len(raw) <= _QUANTITY_DIGITS and raw.isascii() and raw.isdigit():
        quantity = int(raw)  # what _parse_quantity returns for plain digits
    else:
        quantity = _read_item(b, item, "quantity", position, _parse_quantity)
    if quantity is not None:
        wire_item["quantity"] = quantity
    item_currency = None
    if "currency" in item:
        item_currency = _read_item(b, item, "currency", position, money.normalize_currency)
    item_currency = item_currency or currency
    amount = _read_item(b, item, "amount", position, money.parse_minor_units) if "amount" in item else None
    price = None
    if amount is None:  # the price is read only to stand in for a missing amount
        for key in ITEM_PRICE_KEYS:
            price = item.get(key)
            if price not in (None, ""):
                break
        else:
            price = None
    if amount is None and price is not None:
        if item_currency is None:
            b.errors.append(Issue(f"data.contents[{position}].amount", "needs a currency to convert a price"))
            return None
        try:
            amount = money.major_to_minor(price, item_currency, b.decimal_separator)
        except InvalidValue as problem:
            b.errors.append(Issue(f"data.contents[{position}].amount", str(problem)))
    if amount is not None:
        if item_currency is None:
            b.errors.append(Issue(f"data.contents[{position}].currency", "is required when an amount is given"))
            return None
        wire_item["amount"] = amount
    if item_currency is not None and (amount is not None or "currency" in item):
        wire_item["currency"] = item_currency
    variants = _read_item(b, item, "variant_dict", position, _parse_variant_dict) if "variant_dict" in item else None
    if variants:
        wire_item["variant_dict"] = variants
    unknown = [] if ITEM_KEYS.issuperset(item) else sorted(k for k in item if k not in ITEM_KEYS)
    if unknown:
        allowed = ", ".join(sorted(ITEM_KEYS - {"price_major"}))
        b.warnings.append(Issue(f"data.contents[{position}].{unknown[0]}", f"dropped: an item holds only {allowed}"))
    return wire_item


def _parse_variant_dict(raw: object) -> dict[str, str]:
    """`{"size": "M", "color": "blue"}`: OpenAI takes strings only; numbers are written as text."""
    if not isinstance(raw, dict):
        raise InvalidValue("must be an object of strings")
    variants = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not key.strip():
            raise InvalidValue("must have non-empty text keys")
        variants[key.strip()] = _parse_text(value)
    return variants


def _read_item(b: _Builder, item: dict[str, object], key: str, position: int, parse):
    raw = item.get(key)
    if raw is None or raw == "":
        return None
    try:
        return parse(raw)
    except InvalidValue as problem:
        # The field name is built only on the error path: this loop runs for every item of every event.
        b.errors.append(Issue(f"data.contents[{position}].{key}", str(problem)))
        return None


# ---- checking a wire event that did not come from build_event -----------------------------

#: Every field an event may carry (openai-events-api.md: "No other event field exists").
EVENT_FIELDS = frozenset(
    {"id", "type", "custom_event_name", "timestamp_ms", "oppref", "source_url", "action_source", "opt_out"}
    | {"user", "data"}
)
#: OpenAI's user list -> the rule each of its values meets, as `_build_user` would have written it.
USER_LIST_RULES: dict[str, Callable[[object], str]] = {
    **dict.fromkeys(HASHED_USER_LISTS.values(), normalize.check_prehashed),
    **{wire_name: normalize.PLAIN[key] for key, wire_name in PLAIN_USER_LISTS.items()},
}
USER_SCALAR_RULES: dict[str, Callable[[object], str]] = {
    wire_name: normalize.PLAIN[key] for key, wire_name in USER_SCALARS.items()
}
#: A content item's fields and their rules, as `_build_item` writes them.
ITEM_RULES: dict[str, Callable[[object], object]] = {
    **dict.fromkeys(ITEM_TEXT_FIELDS, _parse_text),
    "quantity": _parse_quantity,
    "amount": money.parse_minor_units,
    "currency": money.normalize_currency,
    "variant_dict": _parse_variant_dict,
}
NOT_NORMALIZED = "is not in the form the contract requires (not normalized)"
#: User fields the contract asks only to be valid: the connector's own tidying of them (lowercase city and
#: region, canonical IP, lowercase UUID) is not OpenAI's rule, so a value without it is still sent.
VALID_AS_IS = frozenset({"regions", "cities", "android_advertising_id", "ip_address", "user_agent"})


def check_wire_event(event: object) -> list[Issue]:
    """What keeps an already-built event (a queued one) off the wire under the current contract; [] when nothing.

    A value passes when its own rule would write it unchanged, so a message from an older version or from
    anyone else can carry no field, type or unnormalized value that `build_event` would not have sent.
    The timestamp window is judged separately, at send time (`timestamp_window_problem`).
    """
    if not isinstance(event, dict):
        return [Issue("event", "must be an object")]
    issues = [Issue(str(name), "is not a field of an OpenAI event") for name in event if name not in EVENT_FIELDS]
    event_type = event.get("type")
    if event_type not in EVENT_TYPES:
        return [*issues, Issue("type", "must be a standard event name or custom")]
    _check_value(issues, "id", event.get("id"), _parse_event_id, required=True)
    name = event.get("custom_event_name")
    if event_type == "custom" and not (isinstance(name, str) and CUSTOM_EVENT_NAME.fullmatch(name)):
        issues.append(Issue("custom_event_name", "is required for custom events: 1-64 letters, digits, _ or -"))
    elif event_type == "custom" and name in EVENT_TYPES:
        issues.append(Issue("custom_event_name", "must not be a standard event name"))
    stamp = event.get("timestamp_ms")
    if not isinstance(stamp, int) or isinstance(stamp, bool):
        issues.append(Issue("timestamp_ms", "must be an integer (epoch milliseconds)"))
    _check_value(issues, "oppref", event.get("oppref"), _parse_opaque)
    action_source = event.get("action_source")
    _check_value(issues, "action_source", action_source, _parse_action_source, required=True)
    _check_value(issues, "source_url", event.get("source_url"), _parse_url, required=action_source == "web")
    if event_type in MOBILE_APP_ONLY and action_source != "mobile_app":
        issues.append(Issue("action_source", f"{event_type} is accepted from mobile_app only"))
    if "opt_out" in event and not isinstance(event["opt_out"], bool):
        issues.append(Issue("opt_out", "must be true or false"))
    if "user" in event:
        _check_user(issues, event["user"])
    _check_data(issues, event_type, event.get("data"))
    return issues


def _check_value(
    issues: list[Issue], where: str, value: object, rule, *, required: bool = False, exact: bool = True
) -> None:
    if value is None:
        if required:
            issues.append(Issue(where, "is required"))
        return
    try:
        written = rule(value)
    except InvalidValue as problem:
        issues.append(Issue(where, str(problem)))
        return
    if type(written) is not type(value) or (exact and written != value):
        issues.append(Issue(where, NOT_NORMALIZED))


def _check_user(issues: list[Issue], user: object) -> None:
    if not isinstance(user, dict):
        issues.append(Issue("user", "must be an object"))
        return
    for name, value in user.items():
        where = f"user.{name}"
        if name in USER_SCALAR_RULES:
            _check_value(issues, where, value, USER_SCALAR_RULES[name], exact=name not in VALID_AS_IS)
        elif name not in USER_LIST_RULES:
            issues.append(Issue(where, "is not a field of OpenAI's user object"))
        elif not isinstance(value, list) or not 1 <= len(value) <= MAX_USER_LIST_VALUES:
            issues.append(Issue(where, f"must be a list of 1 to {MAX_USER_LIST_VALUES} values"))
        else:
            for position, item in enumerate(value):
                rule = USER_LIST_RULES[name]
                _check_value(issues, f"{where}[{position}]", item, rule, required=True, exact=name not in VALID_AS_IS)


def _check_data(issues: list[Issue], event_type: str, data: object) -> None:
    if not isinstance(data, dict):
        issues.append(Issue("data", "is required: an object"))
        return
    data_type = EVENT_DATA_TYPES[event_type]
    if data.get("type") != data_type:
        issues.append(Issue("data.type", f"must be {data_type} for {event_type}"))
    for name in data:
        # Custom data carries custom properties besides its own fields; nothing else does.
        if data_type != "custom" and name != "type" and name not in DATA_FIELDS[data_type]:
            issues.append(Issue(f"data.{name}", f"is not a field of {data_type} data"))
    _check_value(issues, "data.amount", data.get("amount"), money.parse_minor_units)
    _check_value(issues, "data.currency", data.get("currency"), money.normalize_currency, required="amount" in data)
    _check_value(issues, "data.plan_id", data.get("plan_id"), _parse_text)
    contents = data.get("contents")
    if contents is None:
        return
    if not isinstance(contents, list):
        issues.append(Issue("data.contents", "must be a list"))
        return
    for position, item in enumerate(contents):
        where = f"data.contents[{position}]"
        if not isinstance(item, dict):
            issues.append(Issue(where, "must be an object"))
            continue
        for name, value in item.items():
            if name in ITEM_RULES:
                _check_value(issues, f"{where}.{name}", value, ITEM_RULES[name])
            else:
                issues.append(Issue(f"{where}.{name}", "is not a field of a content item"))


# ---- requests and responses ------------------------------------------------------------


#: Built once: `json.dumps` with options builds a new encoder on every call.
EVENT_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def encode_event(event: Mapping[str, object]) -> bytes:
    return EVENT_ENCODER.encode(event).encode("utf-8")


def _body_prefix(validate_only: bool, integration_source: str | None) -> bytes:
    prefix = b'{"validate_only":' + (b"true" if validate_only else b"false")
    if integration_source:
        # Checked against INTEGRATION_SOURCE at cold start (settings.py): plain ASCII, nothing to escape.
        prefix += b',"integration_source":"' + integration_source.encode("ascii") + b'"'
    return prefix + b',"events":['


BODY_SUFFIX = b"]}"


def request_overhead(validate_only: bool, integration_source: str | None = None) -> int:
    """Bytes of a request body besides its events and the commas between them."""
    return len(_body_prefix(validate_only, integration_source)) + len(BODY_SUFFIX)


def request_body(encoded_events: Sequence[bytes], validate_only: bool, integration_source: str | None = None) -> bytes:
    return _body_prefix(validate_only, integration_source) + b",".join(encoded_events) + BODY_SUFFIX


def request_url(base_url: str, pixel_id: str) -> str:
    return f"{base_url.rstrip('/')}{EVENTS_PATH}?pid={quote(pixel_id, safe='')}"


def request_headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}


@dataclass(frozen=True)
class ErrorDetail:
    message: str
    event_index: int | None


def read_error(body: bytes) -> ErrorDetail:
    """OpenAI's error body: {"error": {"message", "param": "events[1]", "errors": [...]}}."""
    try:
        error = json.loads(body)["error"]
        message = str(error.get("message") or "rejected by OpenAI")
        params = [error.get("param")] + [e.get("param") for e in error.get("errors") or [] if isinstance(e, dict)]
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return ErrorDetail("rejected by OpenAI (no error body)", None)
    for param in params:
        match = ERROR_PARAM.match(param) if isinstance(param, str) else None
        if match:
            return ErrorDetail(message, int(match.group(1)))
    return ErrorDetail(message, None)
