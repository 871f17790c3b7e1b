"""The actions document: one entry per Tealium-style action, checked whole at load.

A wrong document fails before any event is taken, with a message naming the action and
the field (`actions.purchase.event_type: ...`). `find_problems` lists every problem at once
(for `python -m connector check`); `parse_actions` raises them together.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from connector.core import money
from connector.core.errors import ConfigError
from connector.core.types import Route
from connector.core.wire.build import (
    ACTION_SOURCES,
    CUSTOM_EVENT_NAME,
    EVENT_TYPES,
    MOBILE_APP_ONLY,
    REFUSED_USER_FIELDS,
    RESERVED_DATA_FIELDS,
    USER_FIELDS,
    EventSpec,
)

DELIVERY_MODES = ("realtime", "batched")
#: OpenAI keys start like this; an override holding one is a leak waiting to happen.
PLAIN_KEY_PREFIXES = ("sk-", "Bearer ")

#: Every field an action can map, by its mapping key (docs/actions.md).
MAPPABLE_FIELDS = frozenset(
    {
        # Event Data
        "id",
        "timestamp_ms",
        "oppref",
        "source_url",
        "action_source",
        "opt_out",
        # User Data: both hash columns of each hashed field, External ID (raw), the raw geo and device fields
        *USER_FIELDS,
        # E-Commerce (plan_id for plan_enrollment and custom events)
        "amount",
        "currency",
        "plan_id",
        "contents",  # a list of item objects with OpenAI's item keys
    }
)

ACTION_KEYS = frozenset(
    {
        "delivery",
        "event_type",
        "custom_event_name",
        "action_source",
        "disable_automapping",
        "debug",
        "pixel_id",
        "api_key_secret_id",
        "decimal_separator",
        "consent_attribute",
        "on_no_consent",
        "mappings",
        "custom_data",
    }
)
#: What an action does with an event whose consent attribute does not grant consent.
NO_CONSENT_CHOICES = ("skip", "opt_out")


@dataclass(frozen=True)
class ActionConfig:
    name: str
    delivery: str
    event_type: str
    custom_event_name: str | None = None
    action_source: str | None = None
    disable_automapping: bool = False
    debug: bool = False
    pixel_id: str | None = None
    api_key_secret_id: str | None = None
    mappings: Mapping[str, str] = field(default_factory=dict)
    #: Custom events only: custom data property -> Tealium attribute.
    custom_data: Mapping[str, str] = field(default_factory=dict)
    decimal_separator: str = "."
    consent_attribute: str | None = None
    on_no_consent: str = "skip"

    def spec(self, default_action_source: str) -> EventSpec:
        return EventSpec(
            self.event_type,
            self.custom_event_name,
            self.action_source,
            default_action_source,
            decimal_separator=self.decimal_separator,
        )

    def route(self, pixel_id: str | None, api_key_secret_id: str | None, base_url: str) -> Route:
        return Route(
            self.pixel_id or pixel_id or "",
            self.api_key_secret_id or api_key_secret_id or "",
            self.debug,
            base_url,
        )


def load_actions(path: str | Path) -> dict[str, ActionConfig]:
    return parse_actions(read_actions_text(path))


def read_actions_text(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"ACTIONS_CONFIG: cannot read {path}: {err.strerror}") from None


def parse_actions(text: str) -> dict[str, ActionConfig]:
    problems: list[str] = []
    actions = _parse_document(text, problems)
    if problems:
        # The first problem leads (the message of a single problem is unchanged); the rest follow it.
        raise ConfigError("\n".join(problems))
    return actions


def find_problems(text: str) -> list[str]:
    """Every problem of the document, each naming the action and the field; empty when it is good."""
    problems: list[str] = []
    _parse_document(text, problems)
    return problems


def _parse_document(text: str, problems: list[str]) -> dict[str, ActionConfig]:
    try:
        document = json.loads(text)
    except ValueError as err:
        problems.append(f"actions document: not valid JSON ({err})")
        return {}
    if isinstance(document, dict) and set(document) - {"actions"}:
        for unknown in sorted(set(document) - {"actions"}):
            hint = did_you_mean(unknown, ("actions",))
            problems.append(f'actions document: {unknown}: unknown key{hint} (only "actions" is allowed)')
        return {}
    if not isinstance(document, dict) or set(document) != {"actions"} or not isinstance(document["actions"], dict):
        problems.append('actions document: must be {"actions": {"<name>": {...}}} and nothing else')
        return {}
    if not document["actions"]:
        problems.append("actions document: defines no action")
        return {}
    parsed = {name: _parse_action(name, entry, problems) for name, entry in document["actions"].items()}
    return {name: action for name, action in parsed.items() if action is not None}


def did_you_mean(key: str, allowed: Iterable[str]) -> str:
    """`; did you mean "mappings"?` for a near miss of an allowed key, else nothing."""
    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.75)
    return f'; did you mean "{close[0]}"?' if close else ""


_T = TypeVar("_T")


def _collect(problems: list[str], check: Callable[[], _T]) -> _T | None:
    """Run one field's check; its problem is listed and the field left unset, so the next field is checked too."""
    try:
        return check()
    except ConfigError as err:
        problems.append(str(err))
        return None


def _parse_action(name: str, entry: object, problems: list[str]) -> ActionConfig | None:
    where = f"actions.{name}"
    if not isinstance(entry, dict):
        problems.append(f"{where}: must be an object")
        return None
    found = len(problems)
    for unknown in sorted(set(entry) - ACTION_KEYS):
        hint = did_you_mean(unknown, ACTION_KEYS)
        problems.append(f"{where}.{unknown}: unknown key{hint} (allowed: {', '.join(sorted(ACTION_KEYS))})")

    delivery = _collect(problems, lambda: _choice(entry, "delivery", DELIVERY_MODES, where, required=True))
    event_type = _collect(problems, lambda: _event_type(entry.get("event_type"), where))
    custom_event_name = _collect(
        problems, lambda: _custom_event_name(entry.get("custom_event_name"), event_type, where)
    )
    action_source = _collect(problems, lambda: _choice(entry, "action_source", ACTION_SOURCES, where))
    if event_type in MOBILE_APP_ONLY and action_source not in (None, "mobile_app"):
        problems.append(f"{where}.action_source: {event_type} is accepted from mobile_app only")
    disable_automapping = _collect(problems, lambda: _flag(entry, "disable_automapping", where))
    debug = _collect(problems, lambda: _flag(entry, "debug", where))
    pixel_id = _collect(problems, lambda: _text(entry, "pixel_id", where))
    api_key_secret_id = _collect(problems, lambda: _secret_reference(entry, where))
    mappings = _mappings(entry.get("mappings"), where, problems)
    custom_data = _collect(problems, lambda: _custom_data(entry.get("custom_data"), event_type, where))
    decimal_separator = _collect(problems, lambda: _choice(entry, "decimal_separator", money.DECIMAL_SEPARATORS, where))
    consent_attribute = _collect(problems, lambda: _text(entry, "consent_attribute", where))
    on_no_consent = _collect(problems, lambda: _choice(entry, "on_no_consent", NO_CONSENT_CHOICES, where))
    if len(problems) > found:
        return None
    return ActionConfig(
        name=name,
        delivery=delivery,
        event_type=event_type,
        custom_event_name=custom_event_name,
        action_source=action_source,
        disable_automapping=disable_automapping,
        debug=debug,
        pixel_id=pixel_id,
        api_key_secret_id=api_key_secret_id,
        mappings=mappings,
        custom_data=custom_data,
        decimal_separator=decimal_separator or ".",
        consent_attribute=consent_attribute,
        on_no_consent=on_no_consent or "skip",
    )


def _choice(entry: dict, key: str, allowed: tuple[str, ...], where: str, required: bool = False) -> str | None:
    value = entry.get(key)
    if value is None and not required:
        return None
    if value not in allowed:
        hint = did_you_mean(value, allowed) if isinstance(value, str) else ""
        raise ConfigError(f"{where}.{key}: must be one of {', '.join(allowed)}{hint}")
    return value


def _event_type(value: object, where: str) -> str:
    # Display names ("Order Created", docs/actions.md) are accepted as well as the wire names.
    if isinstance(value, str):
        value = value.strip().lower().replace(" ", "_")
    if value not in EVENT_TYPES:
        hint = did_you_mean(value, EVENT_TYPES) if isinstance(value, str) else ""
        raise ConfigError(f"{where}.event_type: must be one of {', '.join(sorted(EVENT_TYPES))}{hint}")
    return value


def _custom_event_name(value: object, event_type: str, where: str) -> str | None:
    if event_type != "custom":
        return None  # docs/wire-contract.md: ignored for all other event types
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}.custom_event_name: is required when event_type is custom")
    if not CUSTOM_EVENT_NAME.fullmatch(value):
        raise ConfigError(
            f"{where}.custom_event_name: must be 1-64 letters, digits, _ or -, starting and ending "
            "with a letter or digit"
        )
    if value in EVENT_TYPES:
        raise ConfigError(f"{where}.custom_event_name: must not be a standard event name")
    return value


def _flag(entry: dict, key: str, where: str) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}.{key}: must be true or false")
    return value


def _text(entry: dict, key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ConfigError(f"{where}.{key}: must be a non-empty string or null")
    return value


def _secret_reference(entry: dict, where: str) -> str | None:
    value = _text(entry, "api_key_secret_id", where)
    if value and value.strip().startswith(PLAIN_KEY_PREFIXES):
        # The message names the field only: the value may be a live key.
        raise ConfigError(f"{where}.api_key_secret_id: must name a Secrets Manager secret, not hold the key itself")
    return value


def _mappings(value: object, where: str, problems: list[str]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{where}.mappings: must be an object of field -> Tealium attribute")
        return {}
    for key, attribute in value.items():
        if key in REFUSED_USER_FIELDS:
            raw = REFUSED_USER_FIELDS[key]
            problems.append(
                f"{where}.mappings.{key}: OpenAI no longer takes hashed {raw} values and a hash cannot be turned "
                f'back into the raw value: map the raw attribute to "{raw}" instead'
            )
        elif key not in MAPPABLE_FIELDS:
            hint = did_you_mean(key, MAPPABLE_FIELDS)
            problems.append(
                f"{where}.mappings.{key}: unknown field{hint} (allowed: {', '.join(sorted(MAPPABLE_FIELDS))})"
            )
        elif not isinstance(attribute, str) or not attribute.strip():
            problems.append(f"{where}.mappings.{key}: must name a Tealium attribute or a dotted path")
    return {key: attribute.strip() for key, attribute in value.items() if isinstance(attribute, str)}


def _custom_data(value: object, event_type: str, where: str) -> dict[str, str]:
    """Custom properties: only custom data carries them, and none may take a name `data` already uses."""
    if value is None:
        return {}
    if event_type != "custom":
        raise ConfigError(f"{where}.custom_data: only custom events carry custom properties")
    if not isinstance(value, dict):
        raise ConfigError(f"{where}.custom_data: must be an object of property -> Tealium attribute")
    for name, attribute in value.items():
        if name in RESERVED_DATA_FIELDS:
            reserved = ", ".join(sorted(RESERVED_DATA_FIELDS))
            raise ConfigError(f"{where}.custom_data.{name}: is a reserved data field ({reserved}), not a property")
        if not name.strip():
            raise ConfigError(f"{where}.custom_data: a property name must not be empty")
        if not isinstance(attribute, str) or not attribute.strip():
            raise ConfigError(f"{where}.custom_data.{name}: must name a Tealium attribute or a dotted path")
    return {name: attribute.strip() for name, attribute in value.items()}
