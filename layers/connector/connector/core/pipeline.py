"""The pure core path: request payloads -> mapped, normalized, validated wire events.

Each input gets its own `PreparedEvent`: a serialized wire event ready to send, or the
errors that name why not. One bad event never affects its neighbours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from connector.core import coerce
from connector.core.actions import ActionConfig
from connector.core.consent import Consent, read_consent
from connector.core.errors import InputError
from connector.core.mapping import map_event, name_sources, without_user_data
from connector.core.settings import Settings
from connector.core.tealium import read_payload
from connector.core.types import Issue, Route
from connector.core.wire.build import MAX_ID_CHARS, EventSpec, build_event
from connector.core.wire.request import encode_event


@dataclass(slots=True)
class PreparedEvent:
    index: int
    route: Route
    event_id: str | None = None
    event: dict[str, object] | None = None
    encoded: bytes | None = None
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    #: No consent and the action skips such events: nothing is sent or queued.
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return self.encoded is not None and not self.errors


def prepare_events(
    action: ActionConfig, documents: Sequence[object], settings: Settings, now_ms: int
) -> list[PreparedEvent]:
    route = action.route(settings.pixel_id, settings.api_key_secret_id, settings.base_url)
    spec = action.spec(settings.default_action_source)
    return [_prepare_bounded(index, document, action, spec, route, now_ms) for index, document in enumerate(documents)]


def _prepare_bounded(
    index: int, document: object, action: ActionConfig, spec: EventSpec, route: Route, now_ms: int
) -> PreparedEvent:
    """`prepare_event`, with a payload too deep for anything recursive refused as that event's error alone.

    Custom properties are bounded before they are encoded (connector/core/json_bounds.py); this is the
    guard for any other path, so that one event's nesting can reject that event, never the call.
    """
    try:
        return prepare_event(index, document, action, spec, route, now_ms)
    except RecursionError:
        return PreparedEvent(index, route, errors=[Issue("event", "is nested too deeply to be read")])


def prepare_event(
    index: int, document: object, action: ActionConfig, spec: EventSpec, route: Route, now_ms: int
) -> PreparedEvent:
    try:
        payload = read_payload(document, index)
    except InputError as err:
        return PreparedEvent(index, route, errors=[Issue(err.field, err.reason)])
    mapped = map_event(action, payload)
    values = mapped.values
    if action.consent_attribute:
        consent = _consent(action, payload.lookup(action.consent_attribute))
        if not consent.granted:
            if action.on_no_consent == "skip":
                warning = Issue("consent", _no_consent(action.consent_attribute, consent.problem))
                return PreparedEvent(index, route, _event_id(values), warnings=[warning], skipped=True)
            # docs/actions.md: What leaves. Opted out, and nothing that identifies the person or their click.
            values = without_user_data(values)
            spec = replace(spec, kept_query_parameters=frozenset())
            # A note about a field no longer sent (automapping filled a mapped oppref, say) would mislead.
            mapped.warnings = [w for w in mapped.warnings if w.field != "oppref" and not w.field.startswith("user.")]
            if consent.problem:
                mapped.warnings.append(Issue("consent", _unreadable_consent(action.consent_attribute, consent.problem)))
    built = build_event(spec, values, now_ms)
    # Most events have no warning: nothing to name.
    warnings = mapped.warnings + name_sources(built.warnings, action, mapped) if built.warnings else mapped.warnings
    event = built.event
    if event is None:
        errors = name_sources(built.errors, action, mapped)
        return PreparedEvent(index, route, _event_id(values), errors=errors, warnings=warnings)
    event_id = event["id"]  # parse_event_id made it text
    try:
        encoded = encode_event(event)
    except UnicodeEncodeError:
        # JSON's "\ud800" escapes decode to unpaired surrogates, which UTF-8 cannot carry. Identifiers
        # were already checked as they were hashed; any other text is found here, once, at no cost
        # to the events without it.
        errors = name_sources([Issue(unencodable_field(event) or "event", NOT_UNICODE)], action, mapped)
        return PreparedEvent(index, route, event_id, errors=errors, warnings=warnings)
    # Built whole, in one call: the common case sets no field twice.
    return PreparedEvent(index, route, event_id, event, encoded, [], warnings)


def _consent(action: ActionConfig, raw: object) -> Consent:
    """The consent value as the action reads it: Tealium's categories when it lists some, else a plain flag."""
    if action.consent_categories:
        return read_consent(raw, action.consent_categories)
    return Consent(coerce.grants_consent(raw))


def _no_consent(attribute: str, problem: str | None) -> str:
    why = f"{problem}, so it grants no consent" if problem else "does not grant consent"
    return f'skipped: "{attribute}" {why}; nothing was sent (the action\'s on_no_consent is "skip")'


def _unreadable_consent(attribute: str, problem: str) -> str:
    return f'"{attribute}" {problem}, so it grants no consent: sent opted out, without user data, oppref or obref'


NOT_UNICODE = "is not valid Unicode text: it holds an unpaired surrogate escape (\\ud800-\\udfff)"


def unencodable_field(node: object, path: str = "") -> str:
    """The dotted path of the first text (key or value) that UTF-8 cannot encode."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        here = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and not _encodable(key):
            return here
        if isinstance(value, str) and not _encodable(value):
            return here
        found = unencodable_field(value, here) if isinstance(value, dict | list) else ""
        if found:
            return found
    return ""


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


#: Types for isinstance(), built once: a `str | int` union would be built on every call (~10x slower).
_TEXT_OR_INT = (str, int)


def _event_id(values: dict[str, object]) -> str | None:
    # The id is echoed back to the caller even when the event is rejected, to line results up.
    raw = values.get("id")
    return str(raw)[:MAX_ID_CHARS] if isinstance(raw, _TEXT_OR_INT) and not isinstance(raw, bool) else None
