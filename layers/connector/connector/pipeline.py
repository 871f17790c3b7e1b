"""The pure core path: request payloads -> mapped, normalized, validated wire events.

Each input gets its own `PreparedEvent`: a serialized wire event ready to send, or the
errors that name why not. One bad event never affects its neighbours.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    # JSON's "\ud800" escapes decode to unpaired surrogates, which no UTF-8 body (or hash) can carry:
    # such a user field is dropped with a warning (as any bad user value is), any other rejects the event.
    unencodable = [name for name, value in values.items() if not _is_unicode(value)]
    dropped = [Issue(f"user.{name}", NOT_UNICODE) for name in unencodable if name in USER_FIELDS]
    errors = [Issue(DATA_FIELDS.get(name, name), NOT_UNICODE) for name in unencodable if name not in USER_FIELDS]
    for name in unencodable:
        del values[name]
    if errors:
        prepared.errors, prepared.warnings = errors, dropped
        prepared.event_id = _event_id(None, values)
        return prepared
    built = wire.build_event(spec, values, now_ms)
    prepared.warnings = [*dropped, *built.warnings]
    prepared.event_id = _event_id(built.event, values)
    if built.event is None:
        prepared.errors = built.errors
        return prepared
    prepared.event = built.event
    prepared.encoded = wire.encode_event(built.event)
    return prepared


NOT_UNICODE = "is not valid Unicode text: it holds an unpaired surrogate escape (\\ud800-\\udfff)"
#: Mapped user fields (the guide's names): a bad one is dropped, the event still goes.
USER_FIELDS = frozenset(
    {*wire.HASHED_USER_LISTS, *(f"{name}_sha256" for name in wire.HASHED_USER_LISTS), *wire.USER_SCALARS}
)
#: Mapped e-commerce names -> the field an error names, as the wire module's errors name them.
DATA_FIELDS = {
    "amount": "data.amount",
    "amount_major": "data.amount",
    "currency": "data.currency",
    "contents": "data.contents",
    "plan_id": "data.plan_id",
}


def _is_unicode(value: object) -> bool:
    """No string in the value (keys included, at any depth) holds a surrogate code point."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return False
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return True


def _event_id(event: dict[str, object] | None, values: dict[str, object]) -> str | None:
    # The id is echoed back to the caller even when the event is rejected, to line results up.
    if event is not None:
        return str(event["id"])
    raw = values.get("id")
    return str(raw)[: wire.MAX_ID_CHARS] if isinstance(raw, str | int) and not isinstance(raw, bool) else None
