"""Building one OpenAI event from mapped values, and the event's fields, types and rules.

`build_event` turns mapped values (keyed by the mapping keys, docs/actions.md) into one wire
event, or into errors that name the field and the reason. The constants and `parse_*` rules here
are the event contract; connector/core/wire/check.py holds a queued event to the same rules.
At about 420 lines it stays one module: the rules and the builder that applies them are one idea.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter
from urllib.parse import urlsplit

from connector.core import coerce, money, normalize
from connector.core.errors import InvalidValue
from connector.core.json_bounds import value_problem
from connector.core.types import Issue

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


@dataclass(frozen=True)
class EventSpec:
    """What an action fixes about every event it sends."""

    event_type: str
    custom_event_name: str | None = None
    action_source: str | None = None
    default_action_source: str = "web"
    #: How the action's major-unit amounts write their decimals (money.DECIMAL_SEPARATORS).
    decimal_separator: str = "."


@dataclass(slots=True)
class BuiltEvent:
    event: dict[str, object] | None
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)


class _Builder:
    """Collects one event's errors and warnings while its fields are read."""

    __slots__ = ("decimal_separator", "errors", "values", "warnings")

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
    """Mapped values (by mapping key) -> one wire event, or the reasons it cannot be."""
    b = _Builder(values, spec.decimal_separator)
    event: dict[str, object] = {}
    event["id"] = b.read("id", "id", parse_event_id, required=True)
    event["type"] = spec.event_type
    if spec.event_type == "custom":
        event["custom_event_name"] = spec.custom_event_name
    timestamp_ms = b.read("timestamp_ms", "timestamp_ms", coerce.parse_epoch_ms, required=True)
    if timestamp_ms is not None:
        problem = timestamp_window_problem(timestamp_ms, now_ms)
        if problem:
            b.errors.append(Issue("timestamp_ms", problem))
    event["timestamp_ms"] = timestamp_ms
    # An optional field the values lack is None without the read call (read() answers None for it).
    oppref = b.read("oppref", "oppref", parse_opaque) if "oppref" in values else None
    if oppref is not None:  # the optional fields are left out when None, as the final filter would
        event["oppref"] = oppref

    mapped_source = b.read("action_source", "action_source", parse_action_source) if "action_source" in values else None
    action_source = mapped_source or spec.action_source or spec.default_action_source
    is_web = action_source == "web"
    source_url = b.read("source_url", "source_url", parse_url, required=is_web, drop_only=not is_web)
    if source_url is not None:
        event["source_url"] = source_url
    event["action_source"] = action_source
    if spec.event_type in MOBILE_APP_ONLY and action_source != "mobile_app":
        b.errors.append(Issue("action_source", f"{spec.event_type} is accepted from mobile_app only"))
    opt_out = b.read("opt_out", "opt_out", coerce.parse_bool) if "opt_out" in values else None
    if opt_out is not None:
        event["opt_out"] = opt_out
    user = _build_user(b)
    if user:
        event["user"] = user
    event["data"] = _build_data(b, spec.event_type)

    if b.errors:
        return BuiltEvent(None, b.errors, b.warnings)
    # The optional fields were left out as read: a copy without None values is needed only if one remains.
    if None in event.values():
        event = {k: v for k, v in event.items() if v is not None}
    return BuiltEvent(event, [], b.warnings)


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


def parse_event_id(raw: object) -> str:
    if isinstance(raw, bool) or not isinstance(raw, _TEXT_OR_INT):
        raise InvalidValue("must be a string")
    event_id = str(raw).strip()
    if not event_id:
        raise InvalidValue("is empty")
    if len(event_id) > MAX_ID_CHARS:
        raise InvalidValue(f"must be at most {MAX_ID_CHARS} characters")
    return event_id


def parse_opaque(raw: object) -> str:
    # oppref is OpenAI's opaque identifier: passed through byte for byte.
    if not isinstance(raw, str):
        raise InvalidValue("must be a string")
    if len(raw) > MAX_URL_CHARS:
        raise InvalidValue(f"must be at most {MAX_URL_CHARS} characters")
    return raw


def parse_action_source(raw: object) -> str:
    if not isinstance(raw, str) or raw.strip().lower() not in ACTION_SOURCES:
        raise InvalidValue(f"must be one of {', '.join(ACTION_SOURCES)}")
    return raw.strip().lower()


#: An http(s) URL with a plain host name (ASCII letters, digits, hyphens and dots: no user, port, IPv6
#: brackets or non-ASCII), then printable ASCII: urlsplit reads its scheme and a non-empty host name.
PLAIN_WEB_URL = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?:[/?#][!-~]*)?")


def parse_url(raw: object) -> str:
    if not isinstance(raw, str):
        raise InvalidValue("must be an absolute http(s) URL")
    url = raw.strip()
    if len(url) > MAX_URL_CHARS:
        raise InvalidValue(f"must be at most {MAX_URL_CHARS} characters")
    if PLAIN_WEB_URL.fullmatch(url):
        return url  # the common case, which urlsplit would accept: skips its slower parse
    try:
        parts = urlsplit(url)
    except ValueError:
        raise InvalidValue("must be an absolute http(s) URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidValue("must be an absolute http(s) URL")
    return url


def parse_text(raw: object) -> str:
    if type(raw) is str:
        text = raw.strip()
    elif isinstance(raw, bool) or not isinstance(raw, _NUMBER):
        raise InvalidValue("must be a string")
    else:
        text = str(raw)
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidValue(f"must be at most {MAX_TEXT_CHARS} characters")
    return text


def parse_quantity(raw: object) -> int:
    quantity = coerce.parse_int(raw)
    if not 0 <= quantity <= MAX_QUANTITY:
        raise InvalidValue(f"must be a whole number from 0 to {MAX_QUANTITY}")
    return quantity


def _as_list(raw: object) -> list[object]:
    if raw is None or raw == "":
        return []
    return list(raw) if isinstance(raw, _SEQUENCE) else [raw]


def _add_distinct(b: _Builder, target: list[str], wire_name: str, value: str) -> None:
    if value in target:
        return
    if len(target) >= MAX_USER_LIST_VALUES:
        b.warnings.append(Issue(f"user.{wire_name}", f"only the first {MAX_USER_LIST_VALUES} distinct values are sent"))
        return
    target.append(value)


def _user_field_rules() -> dict[str, tuple[str, Callable[[object], str], str | None]]:
    """Mapping key -> (OpenAI's name, its rule, and for a single-valued field the field its warning names),
    in the user object's order: the lists (hashed, then raw), then the single values."""
    rules: dict[str, tuple[str, Callable[[object], str], str | None]] = {}
    for name, hashed_list in HASHED_USER_LISTS.items():
        rules[name] = (hashed_list, normalize.HASHERS[name], None)
        rules[f"{name}_sha256"] = (hashed_list, normalize.check_prehashed, None)
    for name, hashed_list in RAW_HASHED_USER_LISTS.items():
        rules[name] = (hashed_list, normalize.HASHERS[name], None)
    for name, plain_list in PLAIN_USER_LISTS.items():
        rules[name] = (plain_list, normalize.PLAIN[name], None)
    for name, wire_name in USER_SCALARS.items():
        rules[name] = (wire_name, normalize.PLAIN[name], f"user.{name}")
    return rules


USER_FIELD_RULES = _user_field_rules()
#: Every user mapping key.
USER_FIELDS = frozenset(USER_FIELD_RULES)
#: A user field's place in USER_FIELD_RULES: the order of the user object's lists and of their warnings.
_user_position = {key: position for position, key in enumerate(USER_FIELD_RULES)}.__getitem__


def _build_user(b: _Builder) -> dict[str, object]:
    """The user object: lists, then single values (USER_FIELD_RULES' order); a bad value is dropped and warned."""
    values = b.values
    # Only the user fields the event has are visited (most events map a few of the nineteen), in the
    # order of USER_FIELD_RULES, which is the order of the lists and of their warnings.
    keys = USER_FIELDS.intersection(values)
    user: dict[str, object] = {}
    for key in sorted(keys, key=_user_position) if len(keys) > 1 else keys:
        raw = values[key]
        if raw is None:
            continue
        wire_name, normalizer, scalar_field = USER_FIELD_RULES[key]
        if scalar_field is not None:
            value = b.read(key, scalar_field, normalizer, drop_only=True)
            if value is not None:
                user[wire_name] = value
            continue
        if type(raw) is str and wire_name not in user:
            # One text value for a list not started yet, the common case: what the loop below does, in short.
            if raw.strip():
                try:
                    user[wire_name] = [normalizer(raw)]
                except InvalidValue as problem:
                    b.warnings.append(Issue(f"user.{key}", str(problem)))
            continue
        for item in raw if isinstance(raw, _SEQUENCE) else (raw,):
            if item is None or (isinstance(item, str) and not item.strip()):
                continue  # docs/wire-contract.md: empty or null values are ignored
            try:
                value = normalizer(item)
            except InvalidValue as problem:
                b.warnings.append(Issue(f"user.{key}", str(problem)))
                continue
            found = user.setdefault(wire_name, [])
            if len(found) < MAX_USER_LIST_VALUES and value not in found:
                found.append(value)
            else:  # a repeat, or one too many (warned)
                _add_distinct(b, found, wire_name, value)
    return user


def _build_data(b: _Builder, event_type: str) -> dict[str, object]:
    data_type = EVENT_DATA_TYPES[event_type]
    accepted = DATA_FIELDS[data_type]
    values = b.values
    currency = b.read("currency", "data.currency", money.normalize_currency) if "currency" in values else None
    amount = b.read("amount", "data.amount", money.parse_minor_units) if "amount" in values else None
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
        else:  # kept only when it has something: blank text, a bad value or no valid item leave it out
            value = b.read("plan_id", "data.plan_id", parse_text) if name == "plan_id" else _build_contents(b, currency)
            if value:
                data[name] = value
    if data_type == "custom":
        _add_custom_properties(b, data)
    return data


def _add_custom_properties(b: _Builder, data: dict[str, object]) -> None:
    """Custom data carries the action's custom properties as they came: any JSON type, null included."""
    properties = b.values.get(CUSTOM_DATA)
    if not isinstance(properties, Mapping):
        return
    for name, value in properties.items():
        # connector/core/actions.py refuses these at load; a direct caller may not have.
        if name in RESERVED_DATA_FIELDS:
            b.errors.append(Issue(f"data.{name}", "is a reserved data field, not a custom property"))
        elif problem := value_problem(value):  # passed on as it came: bounded before anything recursive reads it
            b.errors.append(Issue(f"data.{name}", problem))
        else:
            data[name] = value


#: A content item's text fields.
ITEM_TEXT_FIELDS = ("id", "group_id", "name", "content_type")
#: Every key an item may hold on the way in (a mapped `contents` list or the Tealium adapter's items).
ITEM_KEYS = frozenset({*CONTENT_ITEM_FIELDS, *ITEM_PRICE_KEYS})
#: Digits of a quantity that can never exceed MAX_QUANTITY (2**31 - 1 has ten).
_QUANTITY_DIGITS = 9


#: The keys of the commonest item: the one connector/core/tealium.py builds from a full set of retail columns.
PLAIN_ITEM_KEYS = ("id", "name", "content_type", "quantity", "price_major")
_plain_item_values = itemgetter(*PLAIN_ITEM_KEYS)


def _build_contents(b: _Builder, currency: str | None) -> list[dict[str, object]]:
    items = _as_list(b.values.get("contents"))
    contents = _plain_contents(items, currency, b.decimal_separator)
    if contents is not None:
        return contents
    contents = []
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            b.errors.append(Issue(f"data.contents[{position}]", "must be an object"))
            continue
        wire_item = _build_item(b, item, position, currency)
        if wire_item is not None:
            contents.append(wire_item)
    return contents


def _plain_contents(items: list[object], currency: str | None, separator: str) -> list[dict[str, object]] | None:
    """The wire items `_build_item` makes of these items when all are plain, else None (it then reads them).

    Plain: a dict of exactly PLAIN_ITEM_KEYS, all text; id, name and content_type not blank and together
    within MAX_TEXT_CHARS; a quantity of at most _QUANTITY_DIGITS ASCII digits; prices that
    money.cents_column reads in a two-decimal currency. No rule can refuse or warn about such an item, so
    each value is checked once: this runs for every item of every event that carries retail items.
    """
    if currency is None or money.exponent(currency) != 2:
        return None  # no price could be read by money.cents_column: the general path decides
    contents, prices = [], []
    for item in items:
        if type(item) is not dict or len(item) != len(PLAIN_ITEM_KEYS):
            return None
        try:
            item_id, name, content_type, quantity, price = _plain_item_values(item)
        except KeyError:
            return None
        if not (type(item_id) is type(name) is type(content_type) is type(quantity) is type(price) is str):
            return None
        # Within the limit together, so each is; longer texts take the general path.
        if len(item_id) + len(name) + len(content_type) > MAX_TEXT_CHARS:
            return None
        item_id, name, content_type = item_id.strip(), name.strip(), content_type.strip()
        if not (item_id and name and content_type and len(quantity) <= _QUANTITY_DIGITS):
            return None
        if not (quantity.isascii() and quantity.isdigit()):
            return None
        # The amount is read below, with the whole column; its key is written now, in OpenAI's order.
        wire_item = {
            "id": item_id,
            "name": name,
            "content_type": content_type,
            "quantity": int(quantity),
            "amount": None,
            "currency": currency,
        }
        contents.append(wire_item)
        prices.append(price)
    amounts = money.cents_column(prices, currency, separator)
    if amounts is None:
        return None
    for wire_item, amount in zip(contents, amounts, strict=True):
        wire_item["amount"] = amount
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
            value = raw.strip()  # what parse_text returns for such text
        else:
            value = _read_item(b, item, name, position, parse_text)
        if value:
            wire_item[name] = value
    raw = item.get("quantity")
    if type(raw) is str and len(raw) <= _QUANTITY_DIGITS and raw.isascii() and raw.isdigit():
        quantity = int(raw)  # what parse_quantity returns for plain digits
    else:
        quantity = _read_item(b, item, "quantity", position, parse_quantity)
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
    variants = _read_item(b, item, "variant_dict", position, parse_variant_dict) if "variant_dict" in item else None
    if variants:
        wire_item["variant_dict"] = variants
    unknown = [] if ITEM_KEYS.issuperset(item) else sorted(k for k in item if k not in ITEM_KEYS)
    if unknown:
        allowed = ", ".join(sorted(ITEM_KEYS - {"price_major"}))
        b.warnings.append(Issue(f"data.contents[{position}].{unknown[0]}", f"dropped: an item holds only {allowed}"))
    return wire_item


def parse_variant_dict(raw: object) -> dict[str, str]:
    """`{"size": "M", "color": "blue"}`: OpenAI takes strings only; numbers are written as text."""
    if not isinstance(raw, dict):
        raise InvalidValue("must be an object of strings")
    variants = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not key.strip():
            raise InvalidValue("must have non-empty text keys")
        variants[key.strip()] = parse_text(value)
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
