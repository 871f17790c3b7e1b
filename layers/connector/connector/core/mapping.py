"""Mapping: an action's explicit attribute mappings first, Tealium automapping fills the blanks.

It also remembers which Tealium attribute gave each field, so that an error can name the
attribute to look at (or to map) instead of quoting the value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from connector.core.actions import ActionConfig
from connector.core.tealium import AUTOMAP_SOURCES, ITEM_SOURCES, MAX_ITEMS_PER_EVENT, OPPREF_SOURCES, Payload
from connector.core.types import Issue
from connector.core.wire.build import CUSTOM_DATA, USER_FIELDS

#: Mapped fields that identify neither the person nor their click: what an event keeps when it is sent
#: opted out. Not oppref (the ad click's id ties the conversion to a person's click), not obref, no user field.
NOT_USER_DATA = frozenset(
    {"id", "timestamp_ms", "source_url", "action_source", "amount", "amount_major", "currency"}
    | {"plan_id", "contents", "custom_data"}
)
#: A field the action maps that automapping never fills: OpenAI deduplicates on the id, so another id
#: (Tealium's event_id for a missing lead id) would count a conversion twice. The event is refused instead.
NEVER_AUTOMAPPED_WHEN_MAPPED = frozenset({"id"})
#: Where automapping fills a mapped field under another key: a mapped `amount` (minor units) from `_csubtotal`.
AUTOMAPPED_AS = {"amount": "amount_major"}
#: Mapping key -> the wire field a warning about it names, where the two differ.
WIRE_FIELDS = {
    "amount": "data.amount",
    "currency": "data.currency",
    "plan_id": "data.plan_id",
    "contents": "data.contents",
}
#: Fields automapping can fill, and the attributes it reads them from (for error messages).
AUTOMAP_CANDIDATES: dict[str, tuple[str, ...]] = {**AUTOMAP_SOURCES, "oppref": OPPREF_SOURCES}


@dataclass(slots=True)
class Mapped:
    """An event's mapped values, the Tealium attribute each came from, and what mapping dropped."""

    values: dict[str, object]
    sources: dict[str, str] = field(default_factory=dict)
    warnings: list[Issue] = field(default_factory=list)


def map_values(action: ActionConfig, payload: Payload) -> dict[str, object]:
    """The action's fields for one payload, keyed by the mapping keys (docs/actions.md)."""
    return map_event(action, payload).values


def map_event(action: ActionConfig, payload: Payload) -> Mapped:
    mapped = Mapped({}, {}, [])  # given, not made by the default factories: one is built per event
    values, sources = mapped.values, mapped.sources
    attributes = payload.attributes
    every_mapping_found = True
    for name, attribute in action.mappings.items():
        # What lookup() answers, probing the merged attributes first without the call (most names are there).
        value = attributes.get(attribute)
        if value is None:
            value = payload.lookup(attribute)
        # Anything but None, "" and []; a truthy value, the common case, is none of them (one cheap test).
        if value or (value is not None and value != "" and value != []):
            values[name], sources[name] = value, attribute
        else:
            every_mapping_found = False
    # Custom properties keep their JSON type; an attribute the payload lacks is left out, not sent as null.
    if action.custom_data:  # most actions have none: no dicts to build
        custom = {name: payload.lookup(attribute) for name, attribute in action.custom_data.items()}
        custom = {name: value for name, value in custom.items() if value is not None}
        if custom:
            values[CUSTOM_DATA] = custom
    if isinstance(values.get("contents"), list) and len(values["contents"]) > MAX_ITEMS_PER_EVENT:
        dropped = len(values["contents"]) - MAX_ITEMS_PER_EVENT
        values["contents"] = values["contents"][:MAX_ITEMS_PER_EVENT]
        mapped.warnings.append(_items_dropped(dropped, sources["contents"]))
    if action.disable_automapping:
        return mapped
    # Mapped, but the event lacks it; nothing removed a value set above, so none when every mapping found one.
    explicit = () if every_mapping_found else {name for name in action.mappings if name not in values}
    dropped_items = payload.automap_into(values, sources, values.get("source_url"))
    if dropped_items:
        mapped.warnings.append(_items_dropped(dropped_items, sources["contents"]))
    if explicit:
        _keep_mappings_meaning(action, mapped, explicit)
    return mapped


def _keep_mappings_meaning(action: ActionConfig, mapped: Mapped, missing: set[str]) -> None:
    """A mapped field the event lacks: never the id from elsewhere; any other field filled by automapping
    is said so in a warning (the attribute the action names is missing)."""
    values, sources = mapped.values, mapped.sources
    for name in sorted(missing):
        key = AUTOMAPPED_AS.get(name, name)
        if key not in values:
            continue
        if name in NEVER_AUTOMAPPED_WHEN_MAPPED:
            del values[key], sources[key]
            continue
        wire_field = f"user.{name}" if name in USER_FIELDS else WIRE_FIELDS.get(name, name)
        reason = (
            f'the mapped attribute "{action.mappings[name]}" is missing: automapping filled it from "{sources[key]}"'
        )
        mapped.warnings.append(Issue(wire_field, reason))


def _items_dropped(dropped: int, source: str) -> Issue:
    return Issue(
        "data.contents", f"only the first {MAX_ITEMS_PER_EVENT} items are kept: {dropped} more in {source} dropped"
    )


def without_user_data(values: dict[str, object]) -> dict[str, object]:
    """An event for a visitor without consent: opted out, with no user field, no oppref and no obref."""
    return {name: value for name, value in values.items() if name in NOT_USER_DATA} | {"opt_out": True}


def name_sources(issues: Sequence[Issue], action: ActionConfig, mapped: Mapped) -> list[Issue]:
    """Each issue's reason, followed by the Tealium attribute its field was read from (or would be)."""
    return [Issue(issue.field, issue.reason + _source_note(issue, action, mapped)) for issue in issues]


def _source_note(issue: Issue, action: ActionConfig, mapped: Mapped) -> str:
    custom_property = _custom_property(issue.field)
    if custom_property in action.custom_data:
        return f'; read from "{action.custom_data[custom_property]}"'
    key, item_field = _mapping_key(issue.field, mapped.values)
    if key is None:
        return ""
    source = mapped.sources.get(key)
    if source is not None:
        if item_field is not None and key == "contents" and source not in action.mappings.values():
            source = ITEM_SOURCES.get(item_field, source)
        return f'; read from "{source}"'
    if not issue.reason.startswith("is required"):
        return ""
    explicit = (action.mappings[key],) if key in action.mappings else ()
    no_automapping = action.disable_automapping or (explicit and key in NEVER_AUTOMAPPED_WHEN_MAPPED)
    candidates = explicit + (() if no_automapping else AUTOMAP_CANDIDATES.get(key, ()))
    if not candidates:
        return f"; the action maps no attribute to it: add actions.{action.name}.mappings.{key}"
    which = "which this event does not have" if len(candidates) == 1 else "none of which this event has"
    names = " or ".join(f'"{name}"' for name in candidates)
    return f"; the action reads it from {names}, {which}"


def _custom_property(field_name: str) -> str | None:
    """`data.prefs.contact[0]` -> `prefs`: the custom property a data field belongs to (or a data field's name)."""
    if not field_name.startswith("data."):
        return None
    return re.split(r"[.\[]", field_name[len("data.") :], maxsplit=1)[0]


#: Wire field -> mapping key, where the two differ.
DATA_FIELD_KEYS = {"data.currency": "currency", "data.plan_id": "plan_id"}


def _mapping_key(field_name: str, values: dict[str, object]) -> tuple[str | None, str | None]:
    """The mapping key an issue's field was built from, and the content item field for an item issue."""
    if field_name.startswith("user."):
        return field_name.removeprefix("user."), None
    if field_name.startswith("data.contents"):
        item_field = field_name.rpartition(".")[2] if "]." in field_name else None
        return "contents", item_field
    if field_name == "data.amount":
        return ("amount" if "amount" in values else "amount_major"), None
    if field_name in DATA_FIELD_KEYS:
        return DATA_FIELD_KEYS[field_name], None
    return (field_name if "." not in field_name else None), None
