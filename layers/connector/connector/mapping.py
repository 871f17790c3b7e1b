"""Mapping: an action's explicit attribute mappings first, Tealium automapping fills the blanks."""

from __future__ import annotations

from connector.actions import ActionConfig
from connector.tealium import Payload


def map_values(action: ActionConfig, payload: Payload) -> dict[str, object]:
    """The action's fields for one payload, keyed by the setup guide's parameter names."""
    values: dict[str, object] = {}
    for field, attribute in action.mappings.items():
        value = payload.lookup(attribute)
        if value not in (None, "", []):
            values[field] = value
    if not action.disable_automapping:
        for field, value in payload.automapped_values().items():
            values.setdefault(field, value)
    return values
