"""The pure core path: request payloads -> mapped, normalized, validated wire events.

Each input gets its own `PreparedEvent`: a serialized wire event ready to send, or the
errors that name why not. One bad event never affects its neighbours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from connector import wire
from connector.actions import ActionConfig, Route
from connector.errors import InputError
from connector.mapping import map_values
from connector.settings import Settings
from connector.tealium import read_payload
from connector.wire import Issue


@dataclass
class PreparedEvent:
    index: int
    route: Route
    event_id: str | None = None
    event: dict[str, object] | None = None
    encoded: bytes | None = None
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.encoded is not None and not self.errors

    def reject(self, issue: Issue) -> None:
        self.errors.append(issue)
        self.encoded = None


def prepare_events(
    action: ActionConfig, documents: Sequence[object], settings: Settings, now_ms: int
) -> list[PreparedEvent]:
    route = action.route(settings.pixel_id, settings.api_key_secret_id, settings.base_url)
    spec = action.spec(settings.default_action_source, settings.geo_format)
    return [prepare_event(index, document, action, spec, route, now_ms) for index, document in enumerate(documents)]


def prepare_event(
    index: int, document: object, action: ActionConfig, spec: wire.EventSpec, route: Route, now_ms: int
) -> PreparedEvent:
    prepared = PreparedEvent(index, route)
    try:
        payload = read_payload(document, index)
    except InputError as err:
        prepared.errors.append(Issue(err.field, err.reason))
        return prepared
    values = map_values(action, payload)
    built = wire.build_event(spec, values, now_ms)
    prepared.warnings = built.warnings
    prepared.event_id = _event_id(built.event, values)
    if built.event is None:
        prepared.errors = built.errors
        return prepared
    prepared.event = built.event
    prepared.encoded = wire.encode_event(built.event)
    return prepared


def _event_id(event: dict[str, object] | None, values: dict[str, object]) -> str | None:
    # The id is echoed back to the caller even when the event is rejected, to line results up.
    if event is not None:
        return str(event["id"])
    raw = values.get("id")
    return str(raw)[: wire.MAX_ID_CHARS] if isinstance(raw, str | int) and not isinstance(raw, bool) else None
