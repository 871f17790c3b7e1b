"""Building one OpenAI event from mapped values: the event's types, its data object, and the builder.

`build_event` turns mapped values (keyed by the mapping keys, docs/actions.md) into one wire
event, or into errors that name the field and the reason. The field rules are in fields.py, the user
object in user.py, the content items in items.py; connector/core/wire/check.py holds a queued event to
the same rules. Nothing personal leaves in free text (connector/core/personal_data.py): the source URL
keeps its scheme, host, path and the action's kept query parameters, and a plan id or custom property
that looks like an email address or a phone number is dropped with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial

from connector.core import coerce, money, personal_data
from connector.core.json_bounds import value_problem
from connector.core.types import Issue

# The names other modules and tests read from here, where they have always been.
from connector.core.wire.fields import (  # noqa: F401
    ACTION_SOURCES,
    MAX_ID_CHARS,
    MAX_QUANTITY,
    MAX_TEXT_CHARS,
    MAX_URL_CHARS,
    MAX_USER_LIST_VALUES,
    Builder,
    parse_action_source,
    parse_event_id,
    parse_opaque,
    parse_quantity,
    parse_text,
    parse_url,
)
from connector.core.wire.items import (  # noqa: F401
    CONTENT_ITEM_FIELDS,
    ITEM_KEYS,
    ITEM_PRICE_KEYS,
    ITEM_TEXT_FIELDS,
    PLAIN_ITEM_KEYS,
    build_contents,
    parse_variant_dict,
)
from connector.core.wire.user import (  # noqa: F401
    HASHED_USER_LISTS,
    PLAIN_USER_LISTS,
    RAW_HASHED_USER_LISTS,
    REFUSED_USER_FIELDS,
    USER_FIELD_RULES,
    USER_FIELDS,
    USER_SCALARS,
    build_user,
)

#: An event may be at most this old when it is sent...
MAX_EVENT_AGE_MS = 7 * 24 * 3600 * 1000
#: ...and at most this far in the future.
MAX_EVENT_LEAD_MS = 10 * 60 * 1000

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
CUSTOM_EVENT_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62}[A-Za-z0-9])?")
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
    #: The query parameters `source_url` keeps (docs/actions.md: What leaves); every other one is dropped.
    kept_query_parameters: frozenset[str] = frozenset(personal_data.DEFAULT_KEPT_QUERY_PARAMETERS)


@dataclass(slots=True)
class BuiltEvent:
    event: dict[str, object] | None
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)


def build_event(spec: EventSpec, values: Mapping[str, object], now_ms: int) -> BuiltEvent:
    """Mapped values (by mapping key) -> one wire event, or the reasons it cannot be."""
    b = Builder(values, spec.decimal_separator)
    event: dict[str, object] = {}
    event["id"] = event_id = b.read("id", "id", parse_event_id, required=True)
    if event_id is not None and (kind := personal_data.personal_id_kind(event_id)):
        # The id cannot be dropped (it is required) nor hashed (OpenAI deduplicates on it as sent).
        b.errors.append(Issue("id", f"looks like {kind}: an id is sent as it is, so map an attribute that is not"))
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
        event["source_url"] = _without_personal_data(b, source_url, spec.kept_query_parameters)
    event["action_source"] = action_source
    if spec.event_type in MOBILE_APP_ONLY and action_source != "mobile_app":
        b.errors.append(Issue("action_source", f"{spec.event_type} is accepted from mobile_app only"))
    opt_out = b.read("opt_out", "opt_out", coerce.parse_bool) if "opt_out" in values else None
    if opt_out is not None:
        event["opt_out"] = opt_out
    user = build_user(b)
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


def _build_data(b: Builder, event_type: str) -> dict[str, object]:
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
            value = b.read("plan_id", "data.plan_id", parse_text) if name == "plan_id" else build_contents(b, currency)
            if name == "plan_id" and value and (kind := personal_data.personal_kind(value)):
                b.warnings.append(Issue("data.plan_id", f"dropped: looks like {kind}"))
                continue
            if value:
                data[name] = value
    if data_type == "custom":
        _add_custom_properties(b, data)
    return data


def _add_custom_properties(b: Builder, data: dict[str, object]) -> None:
    """Custom data carries the action's custom properties as they came (any JSON type, null included),
    less any text at any depth that looks like an email address or a phone number."""
    properties = b.values.get(CUSTOM_DATA)
    if not isinstance(properties, Mapping):
        return
    notes: list[tuple[str, str]] = []
    for name, value in properties.items():
        # connector/core/actions.py refuses these at load; a direct caller may not have.
        if name in RESERVED_DATA_FIELDS:
            b.errors.append(Issue(f"data.{name}", "is a reserved data field, not a custom property"))
        elif problem := value_problem(value):  # passed on as it came: bounded before anything recursive reads it
            b.errors.append(Issue(f"data.{name}", problem))
        elif isinstance(value, str):
            kind = personal_data.personal_kind(value)
            if kind:
                notes.append((f"data.{name}", f"dropped: looks like {kind}"))
            else:
                data[name] = value
        else:
            data[name] = personal_data.scrub(value, f"data.{name}", notes)
    b.warnings.extend(Issue(path, reason) for path, reason in notes)


def _without_personal_data(b: Builder, url: str, kept_query_parameters: frozenset[str]) -> str:
    """The source URL with scheme, host, path and only the kept query parameters that look personal in no way."""
    cleaned, notes = personal_data.clean_url(url, kept_query_parameters)
    if notes:  # most URLs lose nothing: no generator to build
        b.warnings.extend(Issue("source_url", note) for note in notes)
    return cleaned
