"""Checking a wire event that did not come from `build_event` (a queued one) against the event contract."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote_plus, urlsplit

from connector.core import money, normalize
from connector.core.errors import InvalidValue
from connector.core.json_bounds import value_problem
from connector.core.personal_data import clean_url, may_be_personal_bulk, personal_id_kind, personal_kind, scrub
from connector.core.types import Issue
from connector.core.wire.build import (
    CUSTOM_EVENT_NAME,
    DATA_FIELDS,
    EVENT_DATA_TYPES,
    EVENT_TYPES,
    HASHED_USER_LISTS,
    ITEM_TEXT_FIELDS,
    MAX_QUANTITY,
    MAX_TEXT_CHARS,
    MAX_USER_LIST_VALUES,
    MOBILE_APP_ONLY,
    PLAIN_USER_LISTS,
    USER_SCALARS,
    parse_action_source,
    parse_event_id,
    parse_opaque,
    parse_quantity,
    parse_text,
    parse_url,
    parse_variant_dict,
)
from connector.core.wire.request import EVENT_ENCODER

#: Every field an event may carry (docs/wire-contract.md: "An event has no other field").
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
    **dict.fromkeys(ITEM_TEXT_FIELDS, parse_text),
    "quantity": parse_quantity,
    "amount": money.parse_minor_units,
    "currency": money.normalize_currency,
    "variant_dict": parse_variant_dict,
}
#: The item rules that write an `int` from 0 to this bound unchanged (`_item_passes`).
_INT_RANGES = {parse_quantity: MAX_QUANTITY, money.parse_minor_units: money.MAX_AMOUNT}
NOT_NORMALIZED = "is not in the form the contract requires (not normalized)"
#: User fields the contract asks only to be valid: the connector's own tidying of them (lowercase city and
#: region, canonical IP, lowercase UUID) is not OpenAI's rule, so a value without it is still sent.
VALID_AS_IS = frozenset({"regions", "cities", "android_advertising_id", "ip_address", "user_agent"})


def check_wire_event(event: object, *, data_text: str | None = None) -> list[Issue]:
    """What keeps an already-built event (a queued one) off the wire under the current contract; [] when nothing.

    A value passes when its own rule would write it unchanged, so a message from an older version or from
    anyone else can carry no field, type or unnormalized value that `build_event` would not have sent.
    The timestamp window is judged separately, at send time (`timestamp_window_problem`).
    `data_text` is the event's data as `written_data` writes it, when the caller has it (the batch sender
    reuses it for the event's bytes: connector/core/wire/request.py, `encode_event_reusing`).
    """
    if not isinstance(event, dict):
        return [Issue("event", "must be an object")]
    issues = [Issue(str(name), "is not a field of an OpenAI event") for name in event if name not in EVENT_FIELDS]
    event_type = event.get("type")
    if not isinstance(event_type, str) or event_type not in EVENT_TYPES:  # a list or object is not hashable
        return [*issues, Issue("type", "must be a standard event name or custom")]
    _check_value(issues, "id", event.get("id"), parse_event_id, required=True)
    if isinstance(event.get("id"), str) and (kind := personal_id_kind(event["id"])):
        issues.append(Issue("id", f"looks like {kind}: never sent"))
    name = event.get("custom_event_name")
    if event_type == "custom" and not (isinstance(name, str) and CUSTOM_EVENT_NAME.fullmatch(name)):
        issues.append(Issue("custom_event_name", "is required for custom events: 1-64 letters, digits, _ or -"))
    elif event_type == "custom" and name in EVENT_TYPES:
        issues.append(Issue("custom_event_name", "must not be a standard event name"))
    stamp = event.get("timestamp_ms")
    if not isinstance(stamp, int) or isinstance(stamp, bool):
        issues.append(Issue("timestamp_ms", "must be an integer (epoch milliseconds)"))
    _check_value(issues, "oppref", event.get("oppref"), parse_opaque)
    action_source = event.get("action_source")
    _check_value(issues, "action_source", action_source, parse_action_source, required=True)
    _check_value(issues, "source_url", event.get("source_url"), parse_url, required=action_source == "web")
    _check_source_url_is_clean(issues, event.get("source_url"))
    if event_type in MOBILE_APP_ONLY and action_source != "mobile_app":
        issues.append(Issue("action_source", f"{event_type} is accepted from mobile_app only"))
    if "opt_out" in event and not isinstance(event["opt_out"], bool):
        issues.append(Issue("opt_out", "must be true or false"))
    if "user" in event:
        _check_user(issues, event["user"])
    _check_data(issues, event_type, event.get("data"))
    _check_free_text(issues, event.get("data"), data_text)
    return issues


def written_data(data: object) -> str | None:
    """An event's data as the wire writes it (`EVENT_ENCODER`: every text as it is, but for the `"`, `\\`
    and control characters JSON escapes), or None when it is no object or JSON cannot write it."""
    if not isinstance(data, dict):
        return None
    try:
        return EVENT_ENCODER.encode(data)
    except (ValueError, TypeError, RecursionError):  # a value JSON cannot write, or nesting beyond the encoder's
        return None


def _check_source_url_is_clean(issues: list[Issue], url: object) -> None:
    """`build_event` sends a URL without user info, fragment, or a path or parameter that looks personal."""
    if not isinstance(url, str) or not url:
        return
    try:
        # Its own parameters are kept, so only what the rules cut counts; without a `?` there are none to keep.
        query = urlsplit(url).query if "?" in url else ""
        own_parameters = [unquote_plus(pair.partition("=")[0]) for pair in query.split("&")] if query else []
        cleaned, _ = clean_url(url, own_parameters)
    except ValueError:
        return  # parse_url has said why
    if cleaned != url:
        issues.append(
            Issue("source_url", "must carry no user info, fragment or personal data (docs/actions.md: What leaves)")
        )


def _check_free_text(issues: list[Issue], data: object, data_text: str | None) -> None:
    """No text of the data (plan id, items, custom properties, at any depth) may look like an email or phone."""
    if not isinstance(data, dict) or not _may_hold_personal_text(
        written_data(data) if data_text is None else data_text
    ):
        return
    notes: list[tuple[str, str]] = []
    for name, value in data.items():
        if isinstance(value, str) and (kind := personal_kind(value)):
            notes.append((f"data.{name}", f"looks like {kind}"))
        elif not value_problem(value):  # an unbounded value is refused by _check_data; scrub would recurse into it
            scrub(value, f"data.{name}", notes)
    issues.extend(Issue(where, f"{reason.removeprefix('dropped: ')}: never sent") for where, reason in notes)


def _may_hold_personal_text(data_text: str | None) -> bool:
    """False only when no text of the data (value or key, at any depth) can look personal: one C-speed pass
    over the data written as JSON (`written_data`), instead of a walk that tests every text (most events hold none).

    Why False is exact: when the JSON holds no backslash, no text had a `"`, `\\` or control character to
    escape, so every text (and key) stands in it verbatim, as a substring. `may_be_personal` is true of a
    text only when it holds `@`, `%`, `+` or a match of an eight-digit pattern, each of which then stands
    in the whole JSON too; so `may_be_personal(json)` false (`may_be_personal_bulk` gives the same answer,
    faster) means it is false of every text, and `personal_kind` (which asks it first) finds nothing
    anywhere. Anything else (an escape, data JSON cannot write: None) answers True: the full walk decides,
    as before (tests/unit/test_queued_check_shortcuts.py holds the two to the same answers).
    """
    return data_text is None or "\\" in data_text or may_be_personal_bulk(data_text)


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


def _passes(value: object, rule, exact: bool = True) -> bool:
    """Whether `_check_value` would find nothing wrong with a value that is not required: the common case,
    told without building the field's name (it is built, and the rule run again, only for a value that fails)."""
    if value is None:
        return True
    try:
        written = rule(value)
    except InvalidValue:
        return False
    return type(written) is type(value) and (not exact or written == value)


def _check_user(issues: list[Issue], user: object) -> None:
    if not isinstance(user, dict):
        issues.append(Issue("user", "must be an object"))
        return
    for name, value in user.items():
        exact = name not in VALID_AS_IS
        if rule := USER_SCALAR_RULES.get(name):
            if not _passes(value, rule, exact):
                _check_value(issues, f"user.{name}", value, rule, exact=exact)
        elif (rule := USER_LIST_RULES.get(name)) is None:
            issues.append(Issue(f"user.{name}", "is not a field of OpenAI's user object"))
        elif not isinstance(value, list) or not 1 <= len(value) <= MAX_USER_LIST_VALUES:
            issues.append(Issue(f"user.{name}", f"must be a list of 1 to {MAX_USER_LIST_VALUES} values"))
        else:
            for position, item in enumerate(value):
                if item is None or not _passes(item, rule, exact):  # a list's values are required
                    _check_value(issues, f"user.{name}[{position}]", item, rule, required=True, exact=exact)


def _check_data(issues: list[Issue], event_type: str, data: object) -> None:
    if not isinstance(data, dict):
        issues.append(Issue("data", "is required: an object"))
        return
    data_type = EVENT_DATA_TYPES[event_type]
    if data.get("type") != data_type:
        issues.append(Issue("data.type", f"must be {data_type} for {event_type}"))
    for name, value in data.items():
        # Custom data carries custom properties besides its own fields; nothing else does.
        if name == "type" or name in DATA_FIELDS[data_type]:
            continue
        if data_type != "custom":
            issues.append(Issue(f"data.{name}", f"is not a field of {data_type} data"))
        elif problem := value_problem(value):  # sent as it is: bounded as `build_event` bounds it
            issues.append(Issue(f"data.{name}", problem))
    _check_value(issues, "data.amount", data.get("amount"), money.parse_minor_units)
    _check_value(issues, "data.currency", data.get("currency"), money.normalize_currency, required="amount" in data)
    _check_value(issues, "data.plan_id", data.get("plan_id"), parse_text)
    contents = data.get("contents")
    if contents is None:
        return
    if not isinstance(contents, list):
        issues.append(Issue("data.contents", "must be a list"))
        return
    for position, item in enumerate(contents):
        if not _item_passes(item):
            _check_item(issues, position, item)


def _item_passes(item: object) -> bool:
    """Whether `_check_item` would find nothing wrong: the common case, one loop without field names.

    A text already trimmed and within MAX_TEXT_CHARS is what `parse_text` writes unchanged, and an `int` in
    its range what `parse_quantity` and `parse_minor_units` write unchanged (connector/core/wire/fields.py,
    connector/core/money.py): those, most of an item, pass without a call; anything else meets its rule.
    """
    if type(item) is not dict:
        return False
    try:
        for name, value in item.items():
            rule = ITEM_RULES[name]
            if value is None:
                continue
            kind = type(value)
            if kind is str and rule is parse_text and len(value) <= MAX_TEXT_CHARS and value.strip() == value:
                continue
            if kind is int and 0 <= value <= _INT_RANGES.get(rule, -1):
                continue
            written = rule(value)
            if type(written) is not kind or written != value:
                return False
    except (KeyError, InvalidValue):  # a field no item has, or a value its rule refuses
        return False
    return True


def _check_item(issues: list[Issue], position: int, item: object) -> None:
    if not isinstance(item, dict):
        issues.append(Issue(f"data.contents[{position}]", "must be an object"))
        return
    for name, value in item.items():
        if (rule := ITEM_RULES.get(name)) is None:
            issues.append(Issue(f"data.contents[{position}].{name}", "is not a field of a content item"))
        else:
            _check_value(issues, f"data.contents[{position}].{name}", value, rule)
