"""OpenAI's request and response format and limits: the body, URL and headers of a POST, and its error answer."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from json.encoder import c_make_encoder, encode_basestring
from urllib.parse import quote

#: OpenAI accepts at most this many events per request.
MAX_EVENTS_PER_REQUEST = 1000
#: OpenAI's request cap is "1 MB"; the decimal reading keeps us under either reading.
MAX_REQUEST_BYTES = 1_000_000

DEFAULT_BASE_URL = "https://bzr.openai.com"
EVENTS_PATH = "/v1/events"

#: `integration_source`: 1-64 ASCII characters, starting with a letter or digit.
INTEGRATION_SOURCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

ERROR_PARAM = re.compile(r"events\[(\d+)\]")


#: Built once: `json.dumps` with options builds a new encoder on every call.
EVENT_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
#: EVENT_ENCODER's C encoder, built once too: its `encode` builds one per call, a third of a small event's
#: encoding. The arguments are the ones `JSONEncoder.iterencode` passes, less the circular-reference check:
#: an event is a tree (parsed JSON; custom data is bounded by connector/core/json_bounds.py), so the check's
#: dict of ids per call would find nothing.
_EVENT_CHUNKS = (
    c_make_encoder(None, EVENT_ENCODER.default, encode_basestring, None, ":", ",", False, False, True)
    if c_make_encoder is not None
    else None
)


def encode_event(event: Mapping[str, object]) -> bytes:
    if _EVENT_CHUNKS is None:  # a Python without the _json accelerator
        return EVENT_ENCODER.encode(event).encode("utf-8")
    return "".join(_EVENT_CHUNKS(event, 0)).encode("utf-8")


#: Data written in fewer characters is encoded again with its event rather than spliced into it.
SPLICE_FROM_CHARS = 256


def encode_event_reusing(event: Mapping[str, object], data_text: str | None) -> bytes:
    """`encode_event(event)`, reusing `data_text` (its data as EVENT_ENCODER wrote it) when the data is the
    event's last field, as `build_event` writes it: compact, an object is `{` + `"name":value` joined by
    `,` + `}`, so the data's text goes last as it is. Any other event is encoded whole, and so is one whose
    data is short (a page view's), where writing it again costs less than splicing (bench/batch.py)."""
    if data_text is None or len(data_text) < SPLICE_FROM_CHARS or len(event) < 2 or next(reversed(event)) != "data":
        return encode_event(event)
    head = EVENT_ENCODER.encode({name: value for name, value in event.items() if name != "data"})
    return f'{head[:-1]},"data":{data_text}}}'.encode()


def _body_prefix(validate_only: bool, integration_source: str | None) -> bytes:
    prefix = b'{"validate_only":' + (b"true" if validate_only else b"false")
    if integration_source:
        # Checked against INTEGRATION_SOURCE at cold start (connector/core/settings.py): plain ASCII, nothing to escape.
        prefix += b',"integration_source":"' + integration_source.encode("ascii") + b'"'
    return prefix + b',"events":['


BODY_SUFFIX = b"]}"


def request_overhead(validate_only: bool, integration_source: str | None = None) -> int:
    """Bytes of a request body besides its events and the commas between them."""
    return len(_body_prefix(validate_only, integration_source)) + len(BODY_SUFFIX)


def request_body(encoded_events: Sequence[bytes], validate_only: bool, integration_source: str | None = None) -> bytes:
    return _body_prefix(validate_only, integration_source) + b",".join(encoded_events) + BODY_SUFFIX


def request_url(base_url: str, pixel_id: str) -> str:
    return f"{base_url.rstrip('/')}{EVENTS_PATH}?pid={quote(pixel_id, safe='')}"


def request_headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}


@dataclass(frozen=True)
class ErrorDetail:
    message: str
    event_index: int | None


def read_error(body: bytes) -> ErrorDetail:
    """OpenAI's error body: {"error": {"message", "param": "events[1]", "errors": [...]}}."""
    try:
        error = json.loads(body)["error"]
        message = str(error.get("message") or "rejected by OpenAI")
        params = [error.get("param")] + [e.get("param") for e in error.get("errors") or [] if isinstance(e, dict)]
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return ErrorDetail("rejected by OpenAI (no error body)", None)
    for param in params:
        match = ERROR_PARAM.match(param) if isinstance(param, str) else None
        if match:
            return ErrorDetail(message, int(match.group(1)))
    return ErrorDetail(message, None)
