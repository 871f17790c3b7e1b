"""Mapping: an action's explicit attribute mappings first, Tealium automapping fills the blanks."""

from __future__ import annotations

from connector.actions import ActionConfig
from connector.tealium import Payload
from connector.wire import CUSTOM_DATA


def map_values(action: ActionConfig, payload: Payload) -> dict[str, object]:
    """The action's fields for one payload, keyed by the setup guide's parameter names."""
    values: dict[str, object] = {}
    for field, attribute in action.mappings.items():
        value = payload.lookup(attribute)
        if value not in (None, "", []):
            values[field] = value
    # Custom properties keep their JSON type; an attribute the payload lacks is left out, not sent as null.
    custom = {name: payload.lookup(attribute) for name, attribute in action.custom_data.items()}
    custom = {name: value for name, value in custom.items() if value is not None}
    if custom:
        values[CUSTOM_DATA] = custom
    if not action.disable_automapping:
        for field, value in payload.automapped_values().items():
            values.setdefault(field, value)
    return values
