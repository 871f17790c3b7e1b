"""A local stand-in of OpenAI's Events API (``POST /v1/events``) for integration, soak and demo runs.

It checks the wire contract in ``/work/shared/openai-events-api.md`` on its own (it imports nothing
from the connector), records what it received, and can be told to misbehave.

Python API::

    with OpenAIStandin(api_keys={"sk-test"}, pixel_ids={"px-1"}) as api:   # started on a free port
        api.base_url                      # "http://127.0.0.1:PORT"; POST {base_url}/v1/events?pid=px-1
        api.requests                      # every request received: list[RecordedRequest] (a snapshot)
        api.events                        # events of accepted, stored requests, in arrival order
        api.event_ids()                   # [event["id"], ...] of api.events
        api.accepted_requests()           # 2xx requests that stored their events
        api.validate_only_requests()      # 2xx requests with validate_only=true (nothing stored)
        api.wait_for_events(n, timeout_s) # block until n events are stored
        api.reject_ids.add("evt-7")       # any event with this id is answered 400, param events[i]
        api.omit_error_param = True       # 400s carry no `param` (the client must bisect)
        api.add_faults(Fault.status(429, retry_after=1), Fault.reset(), Fault.slow(2), Fault.status(500))
        api.outage([Fault.status(503), Fault.reset()], duration_s=5)   # or count=N requests
        api.reset()                       # forget recordings, faults, outage, reject_ids, omit_error_param

Faults: each scripted fault (FIFO) answers one upcoming API request, whatever it holds; while no
scripted fault is pending an active outage cycles through its pattern, one fault per request, until
``duration_s`` has passed or ``count`` requests were answered, then the stand-in recovers.
``Fault.status(code, retry_after=None)`` answers that status (with ``Retry-After`` when given),
``Fault.slow(seconds)`` sleeps then answers normally (the events are stored even if the client gave
up, as a real server would), ``Fault.reset()`` reads the request then closes the TCP connection
without a response, ``Fault.ok()`` answers normally (a gap in an outage pattern).

Admin HTTP surface (not recorded, never faulted)::

    GET  /_standin/requests[?since=N]  accepted requests: [{index, pid, validate_only, event_count,
                                       body_bytes, events, time}]
    POST /_standin/reset
    POST /_standin/faults   [{"status": 429, "retry_after": 1}, {"reset": true}, {"slow": 2}, {"ok": true}]
    POST /_standin/outage   {"pattern": [<fault>, ...], "duration_s": 5}   (or "count": 20)

CLI: ``python -m local.openai_standin --port 8787 --api-key KEY --pixel-id PID`` serves until
interrupted (both options repeatable).

Checks, in order: ``Authorization: Bearer <known key>`` (401), known ``pid`` (403 "unknown pid"),
``Content-Type: application/json`` (415), body at most 1,000,000 bytes (413), a JSON object with
optional boolean ``validate_only`` and 1-1,000 ``events`` (400), then each event in order: the first
invalid one fails the whole request with 400 and ``error.param`` = ``events[i]``. ``action_source``
is optional here because the contract does not mark it required; when present it must be in the enum.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import logging
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

logger = logging.getLogger("openai_standin")

#: The one API path the stand-in serves.
EVENTS_PATH = "/v1/events"
#: Prefix of the admin surface used by other processes (a demo runner).
ADMIN_PREFIX = "/_standin/"
#: OpenAI accepts at most this many events per request.
MAX_EVENTS = 1000
#: Largest accepted request body, in bytes.
MAX_BODY_BYTES = 1_000_000
#: A larger body is not even read: the connection is closed after the 413.
MAX_DRAIN_BYTES = 16 * MAX_BODY_BYTES
#: timestamp_ms must be within the last 7 days ...
MAX_AGE_MS = 7 * 24 * 3600 * 1000
#: ... and at most 10 minutes ahead of the receiver's clock.
MAX_AHEAD_MS = 10 * 60 * 1000
#: user lists hold at most this many values.
MAX_USER_VALUES = 3

#: Each standard event type and the `data.type` it requires; `custom` takes `custom` data.
DATA_TYPE_BY_EVENT = {
    **dict.fromkeys(("page_viewed", "contents_viewed", "items_added", "checkout_started", "order_created"), "contents"),
    **dict.fromkeys(
        ("lead_created", "registration_completed", "appointment_scheduled", "app_installed", "app_opened"),
        "customer_action",
    ),
    **dict.fromkeys(("subscription_created", "trial_started"), "plan_enrollment"),
    "custom": "custom",
}
STANDARD_EVENT_TYPES = frozenset(DATA_TYPE_BY_EVENT) - {"custom"}
#: Events that only exist in an app.
MOBILE_APP_EVENTS = frozenset({"app_installed", "app_opened"})
ACTION_SOURCES = frozenset({"web", "mobile_app", "offline", "physical_store", "phone_call", "email", "other"})
EVENT_FIELDS = frozenset(
    {
        "id",
        "type",
        "custom_event_name",
        "timestamp_ms",
        "oppref",
        "source_url",
        "action_source",
        "opt_out",
        "user",
        "data",
    }
)
#: Fields each data type may carry (customer_action is the order summary only).
DATA_FIELDS = {
    "contents": frozenset({"type", "amount", "currency", "contents"}),
    "customer_action": frozenset({"type", "amount", "currency"}),
    "plan_enrollment": frozenset({"type", "plan_id", "amount", "currency", "contents"}),
    "custom": frozenset({"type", "plan_id", "amount", "currency", "contents"}),
}
CONTENT_STRING_FIELDS = frozenset({"id", "name", "content_type", "group_id", "currency"})
CONTENT_INT_FIELDS = frozenset({"quantity", "amount"})
CONTENT_FIELDS = CONTENT_STRING_FIELDS | CONTENT_INT_FIELDS | {"variant_dict"}

_CUSTOM_NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62}[A-Za-z0-9])?")
_CURRENCY_RE = re.compile(r"[A-Z]{3}")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_COUNTRY_RE = re.compile(r"[A-Z]{2}")
_POSTAL_RE = re.compile(r"[A-Za-z0-9 -]{1,32}")


def _parses_as_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


_SHA256_RULE = (_SHA256_RE.fullmatch, "64 lowercase hex characters")
#: user list fields and the rule each value meets.
USER_LIST_RULES: dict[str, tuple[Callable[[str], object], str]] = {
    "emails_sha256": _SHA256_RULE,
    "phone_numbers_sha256": _SHA256_RULE,
    "external_ids_sha256": _SHA256_RULE,
    "countries_sha256": _SHA256_RULE,
    "cities_sha256": _SHA256_RULE,
    "postal_codes_sha256": _SHA256_RULE,
    "countries": (_COUNTRY_RE.fullmatch, "2 uppercase ASCII letters"),
    "cities": (lambda v: 0 < len(v) <= 128, "1-128 characters"),
    "postal_codes": (_POSTAL_RE.fullmatch, "1-32 ASCII letters, digits, spaces or hyphens"),
}
#: user scalar fields and their rule.
USER_SCALAR_RULES: dict[str, tuple[Callable[[str], object], str]] = {
    "external_id": (len, "a non-empty string"),
    "ip_address": (_parses_as_ip, "an IPv4 or IPv6 address"),
    "user_agent": (len, "a non-empty string"),
}


# --------------------------------------------------------------------------- validation


class EventError(ValueError):
    """One event breaks the contract; `detail` names the field and the rule, never the value."""

    def __init__(self, detail: str, code: str = "invalid_event") -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _check_amount(where: str, obj: dict[str, Any], currency_required: bool) -> None:
    if "amount" in obj and not (_is_int(obj["amount"]) and obj["amount"] >= 0):
        raise EventError(f"{where}.amount: must be a non-negative integer in minor units")
    if "currency" in obj:
        if not (isinstance(obj["currency"], str) and _CURRENCY_RE.fullmatch(obj["currency"])):
            raise EventError(f"{where}.currency: must be an ISO 4217 code, 3 uppercase letters")
    elif currency_required and "amount" in obj:
        raise EventError(f"{where}.currency: required when amount is present")


def _check_content_item(where: str, item: object) -> None:
    if not isinstance(item, dict):
        raise EventError(f"{where}: must be an object")
    unknown = item.keys() - CONTENT_FIELDS
    if unknown:
        raise EventError(f"{where}: unknown field {sorted(unknown)[0]}")
    for name in CONTENT_STRING_FIELDS & item.keys():
        if not isinstance(item[name], str):
            raise EventError(f"{where}.{name}: must be a string")
    for name in CONTENT_INT_FIELDS & item.keys():
        if not (_is_int(item[name]) and item[name] >= 0):
            raise EventError(f"{where}.{name}: must be a non-negative integer")
    _check_amount(where, item, currency_required=False)
    variants = item.get("variant_dict", {})
    if not (isinstance(variants, dict) and all(isinstance(v, str) for v in variants.values())):
        raise EventError(f"{where}.variant_dict: must be an object of strings")


def _check_data(event_type: str, data: object) -> None:
    if not isinstance(data, dict):
        code = "missing_event_data_type" if data is None else "invalid_event"
        raise EventError("data: required object", code)
    if "type" not in data:
        raise EventError("data.type: required", "missing_event_data_type")
    expected = DATA_TYPE_BY_EVENT[event_type]
    if data["type"] != expected:
        raise EventError(f"data.type: must be {expected} for a {event_type} event")
    unknown = data.keys() - DATA_FIELDS[expected]
    if unknown:
        raise EventError(f"data: unknown field {sorted(unknown)[0]} for {expected} data")
    _check_amount("data", data, currency_required=True)
    if "plan_id" in data and not isinstance(data["plan_id"], str):
        raise EventError("data.plan_id: must be a string")
    if "contents" in data:
        if not isinstance(data["contents"], list):
            raise EventError("data.contents: must be a list")
        for index, item in enumerate(data["contents"]):
            _check_content_item(f"data.contents[{index}]", item)


def _check_user(user: object) -> None:
    if not isinstance(user, dict):
        raise EventError("user: must be an object")
    for name, value in user.items():
        if name in USER_LIST_RULES:
            rule, text = USER_LIST_RULES[name]
            if not isinstance(value, list) or len(value) > MAX_USER_VALUES:
                raise EventError(f"user.{name}: must be a list of at most {MAX_USER_VALUES} strings")
            if not all(isinstance(v, str) and rule(v) for v in value):
                raise EventError(f"user.{name}: each value must be {text}")
        elif name in USER_SCALAR_RULES:
            rule, text = USER_SCALAR_RULES[name]
            if not (isinstance(value, str) and rule(value)):
                raise EventError(f"user.{name}: must be {text}")
        else:
            raise EventError(f"user: unknown field {name}")


def validate_event(event: object, now_ms: int, reject_ids: Iterable[str] = ()) -> None:
    """Raise EventError for the first rule `event` breaks; rules from the contract's event table."""
    if not isinstance(event, dict):
        raise EventError("event: must be an object")
    unknown = event.keys() - EVENT_FIELDS
    if unknown:
        raise EventError(f"event: unknown field {sorted(unknown)[0]}")
    event_id = event.get("id")
    if not (isinstance(event_id, str) and event_id):
        raise EventError("id: required non-empty string")
    if event_id in reject_ids:
        raise EventError("id: event rejected by stand-in rule")
    event_type = event.get("type")
    if event_type not in DATA_TYPE_BY_EVENT:
        raise EventError("type: must be a standard event name or custom")
    if event_type == "custom":
        name = event.get("custom_event_name")
        if not (isinstance(name, str) and _CUSTOM_NAME_RE.fullmatch(name)):
            raise EventError("custom_event_name: required for custom, 1-64 letters, digits, _ or -")
        if name in STANDARD_EVENT_TYPES:
            raise EventError("custom_event_name: must not be a standard event name")
    stamp = event.get("timestamp_ms")
    if not _is_int(stamp):
        raise EventError("timestamp_ms: required integer epoch milliseconds")
    if stamp < now_ms - MAX_AGE_MS:
        raise EventError("timestamp_ms: older than 7 days", "event_timestamp_too_old")
    if stamp > now_ms + MAX_AHEAD_MS:
        raise EventError("timestamp_ms: more than 10 minutes in the future")
    source = event.get("action_source")
    if "action_source" in event and source not in ACTION_SOURCES:
        raise EventError("action_source: must be one of " + ", ".join(sorted(ACTION_SOURCES)))
    if event_type in MOBILE_APP_EVENTS and source != "mobile_app":
        raise EventError(f"action_source: must be mobile_app for {event_type}")
    if ("source_url" in event or source == "web") and not _is_http_url(event.get("source_url")):
        raise EventError("source_url: absolute http(s) URL, required when action_source is web")
    if "opt_out" in event and not isinstance(event["opt_out"], bool):
        raise EventError("opt_out: must be a boolean")
    if "oppref" in event and not isinstance(event["oppref"], str):
        raise EventError("oppref: must be a string")
    if "user" in event:
        _check_user(event["user"])
    _check_data(event_type, event.get("data"))


# --------------------------------------------------------------------------- faults and records


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour, applied to one request; build with the class methods."""

    kind: str  # "status" | "slow" | "reset" | "ok"
    code: int = 0
    retry_after: float | None = None
    seconds: float = 0.0

    @classmethod
    def status(cls, code: int, retry_after: float | None = None) -> Fault:
        return cls("status", code=code, retry_after=retry_after)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        return cls("slow", seconds=seconds)

    @classmethod
    def reset(cls) -> Fault:
        return cls("reset")

    @classmethod
    def ok(cls) -> Fault:
        return cls("ok")

    @classmethod
    def from_spec(cls, spec: object) -> Fault:
        """`{"status": 429, "retry_after": 1}`, `{"reset": true}`, `{"slow": 2}` or `{"ok": true}`."""
        if isinstance(spec, dict):
            if _is_int(spec.get("status")) and 100 <= spec["status"] <= 599:
                retry_after = spec.get("retry_after")
                if retry_after is None or isinstance(retry_after, int | float):
                    return cls.status(spec["status"], retry_after)
            elif spec.get("reset") is True:
                return cls.reset()
            elif isinstance(spec.get("slow"), int | float) and spec["slow"] >= 0:
                return cls.slow(float(spec["slow"]))
            elif spec.get("ok") is True:
                return cls.ok()
        raise ValueError("fault: expected {status[, retry_after]}, {reset: true}, {slow: s} or {ok: true}")


@dataclass
class _Outage:
    pattern: tuple[Fault, ...]
    until: float | None  # time.monotonic() deadline
    remaining: int | None
    position: int = 0


@dataclass(frozen=True)
class RecordedRequest:
    """One API request as received, with the status it got (None when the connection was reset)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any
    status: int | None
    time: float
    fault: str | None = None
    body_bytes: int = 0

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and self.path == EVENTS_PATH

    @property
    def validate_only(self) -> bool:
        return isinstance(self.json, dict) and self.json.get("validate_only") is True

    @property
    def events(self) -> list[dict[str, Any]]:
        found = self.json.get("events") if isinstance(self.json, dict) else None
        return found if isinstance(found, list) else []


@dataclass(frozen=True)
class _Answer:
    status: int
    payload: dict[str, Any] | None = None
    headers: tuple[tuple[str, str], ...] = ()
    drop: bool = False  # close the connection without a response


#: status -> (error.type, error.code, error.message) for scripted faults and auth failures.
_ERROR_SHAPES = {
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided"),
    403: ("invalid_request_error", "unknown_pid", "unknown pid"),
    429: ("rate_limit_error", "rate_limit_exceeded", "Rate limit reached, retry later"),
}


def _error(
    status: int,
    message: str,
    code: str | None,
    param: str | None = None,
    error_type: str = "invalid_request_error",
    omit_param: bool = False,
) -> _Answer:
    error: dict[str, Any] = {"message": message, "type": error_type, "param": param, "code": code}
    if param is not None:
        error["errors"] = [{"message": message, "param": param, "code": code}]
    if omit_param:
        error.pop("param")
        for item in error.get("errors", ()):
            item.pop("param")
    return _Answer(status, {"error": error})


def _fault_answer(fault: Fault) -> _Answer:
    default = (
        ("server_error", "server_error", "The server had an error")
        if fault.code >= 500
        else ("invalid_request_error", "stand_in_fault", f"stand-in fault {fault.code}")
    )
    error_type, code, message = _ERROR_SHAPES.get(fault.code, default)
    answer = _error(fault.code, message, code, error_type=error_type)
    if fault.retry_after is not None:
        value = fault.retry_after
        text = str(int(value)) if float(value).is_integer() else str(value)
        answer = _Answer(answer.status, answer.payload, (("Retry-After", text),))
    return answer


# --------------------------------------------------------------------------- the stand-in


class OpenAIStandin:
    """A loopback HTTP server speaking OpenAI's Events API, with recordings and fault injection."""

    def __init__(
        self,
        api_keys: Iterable[str] = ("sk-standin",),
        pixel_ids: Iterable[str] = ("px-standin",),
        *,
        clock: Callable[[], float] = time.time,
        record_bodies: bool = True,
    ) -> None:
        self.api_keys: set[str] = set(api_keys)
        self.pixel_ids: set[str] = set(pixel_ids)
        self.reject_ids: set[str] = set()
        self.omit_error_param = False
        #: Wall clock (seconds) the timestamp window is checked against; tests may replace it.
        self.clock = clock
        #: False keeps memory flat in long soaks: `RecordedRequest.body` is then b"".
        self.record_bodies = record_bodies
        self._lock = threading.Lock()
        self._stored = threading.Condition(self._lock)
        self._requests: list[RecordedRequest] = []
        self._events: list[dict[str, Any]] = []
        self._faults: deque[Fault] = deque()
        self._outage: _Outage | None = None
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> OpenAIStandin:
        if self._server is not None:
            raise RuntimeError("stand-in already started")
        self._server = _Server((host, port), _Handler)
        self._server.standin = self
        # A short poll interval keeps stop() quick: shutdown() waits for the serve loop's next poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="openai-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # wake handler threads idling on keep-alive connections
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> OpenAIStandin:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("stand-in not started")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("stand-in not started")
        host = self._server.server_address[0]
        return f"http://{host}:{self.port}"

    # recordings ------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._events)

    def event_ids(self) -> list[str]:
        with self._lock:
            return [event["id"] for event in self._events]

    def accepted_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.accepted and not r.validate_only]

    def validate_only_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.accepted and r.validate_only]

    def wait_for_events(self, count: int, timeout_s: float = 5.0) -> list[dict[str, Any]]:
        with self._stored:
            if not self._stored.wait_for(lambda: len(self._events) >= count, timeout_s):
                raise TimeoutError(f"stand-in stored {len(self._events)} events, expected {count}")
            return list(self._events)

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._events.clear()
            self._faults.clear()
            self._outage = None
            self.reject_ids.clear()
            self.omit_error_param = False

    # faults ----------------------------------------------------------------

    def add_faults(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def outage(self, pattern: Sequence[Fault], *, duration_s: float | None = None, count: int | None = None) -> None:
        """Answer upcoming requests with `pattern`, cycled, for `duration_s` seconds or `count` requests."""
        if not pattern or (duration_s is None and count is None):
            raise ValueError("outage: needs a non-empty pattern and duration_s or count")
        if count is not None and not (_is_int(count) and count > 0):
            raise ValueError("outage: count must be a positive integer")
        if duration_s is not None and not (isinstance(duration_s, int | float) and duration_s > 0):
            raise ValueError("outage: duration_s must be a positive number of seconds")
        until = None if duration_s is None else time.monotonic() + duration_s
        with self._lock:
            self._outage = _Outage(tuple(pattern), until, count)

    @property
    def outage_active(self) -> bool:
        with self._lock:
            return self._outage_live()

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    def _outage_live(self) -> bool:
        outage = self._outage
        if outage is None:
            return False
        if (outage.until is not None and time.monotonic() >= outage.until) or outage.remaining == 0:
            self._outage = None
            return False
        return True

    def _take_fault(self) -> Fault | None:
        with self._lock:
            if self._faults:
                return self._faults.popleft()
            if not self._outage_live():
                return None
            outage = self._outage
            assert outage is not None
            fault = outage.pattern[outage.position % len(outage.pattern)]
            outage.position += 1
            if outage.remaining is not None:
                outage.remaining -= 1
            return fault

    # request handling ------------------------------------------------------

    def _handle_api(self, method: str, target: str, headers: dict[str, str], body: bytes | None) -> _Answer:
        received_at = time.time()
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        fault = self._take_fault()
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.seconds)
        parsed: Any = None
        if fault is not None and fault.kind == "reset":
            answer = _Answer(0, drop=True)
        elif fault is not None and fault.kind == "status":
            answer = _fault_answer(fault)
        else:
            answer, parsed = self._check(method, parts.path, query, headers, body)
        record = RecordedRequest(
            method=method,
            path=parts.path,
            query=query,
            headers=headers,
            body=(body or b"") if self.record_bodies else b"",
            json=parsed,
            status=None if answer.drop else answer.status,
            time=received_at,
            fault=None if fault is None else fault.kind,
            body_bytes=len(body or b""),
        )
        with self._lock:
            self._requests.append(record)
            if record.accepted and not record.validate_only:
                self._events.extend(record.events)
                self._stored.notify_all()
        return answer

    def _check(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes | None
    ) -> tuple[_Answer, Any]:
        if path != EVENTS_PATH:
            return _error(404, f"no route for {path}", "not_found"), None
        if method != "POST":
            answer = _error(405, "use POST", "method_not_allowed")
            return _Answer(405, answer.payload, (("Allow", "POST"),)), None
        scheme, _, token = (_header(headers, "authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() not in self.api_keys:
            return _error(401, "Incorrect API key provided", "invalid_api_key"), None
        if query.get("pid") not in self.pixel_ids:
            return _error(403, "unknown pid", "unknown_pid"), None
        content_type = (_header(headers, "content-type") or "").partition(";")[0].strip().lower()
        if content_type != "application/json":
            return _error(415, "Content-Type must be application/json", "invalid_content_type"), None
        if body is None and _header(headers, "transfer-encoding"):
            return _error(411, "Content-Length required", "length_required"), None
        if body is None or len(body) > MAX_BODY_BYTES:
            return _error(413, f"body larger than {MAX_BODY_BYTES} bytes", "request_too_large"), None
        omit = self.omit_error_param
        try:
            parsed = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _error(400, "body must be JSON", "invalid_json", omit_param=omit), None
        problem = _check_envelope(parsed)
        if problem is not None:
            return _error(400, problem[1], "invalid_request", param=problem[0], omit_param=omit), parsed
        now_ms = int(self.clock() * 1000)
        reject_ids = self.reject_ids
        for index, event in enumerate(parsed["events"]):
            try:
                validate_event(event, now_ms, reject_ids)
            except EventError as err:
                param = f"events[{index}]"
                where = "" if omit else f" at {param}"
                message = f"Invalid event{where}: {err.detail}"
                return _error(400, message, err.code, param=param, omit_param=omit), parsed
        validate_only = parsed.get("validate_only", False)
        payload = {"status": "ok", "events_received": len(parsed["events"]), "validate_only": validate_only}
        return _Answer(200, payload), parsed

    def _admin(self, method: str, target: str, body: bytes | None) -> _Answer:
        parts = urlsplit(target)
        route = (method, parts.path.removeprefix(ADMIN_PREFIX.rstrip("/")))
        try:
            spec = json.loads(body) if body else None
        except ValueError:
            return _error(400, "body must be JSON", "invalid_json")
        try:
            if route == ("GET", "/requests"):
                since = int(dict(parse_qsl(parts.query)).get("since", 0))
                return _Answer(200, {"requests": self._summaries(since)})
            if route == ("POST", "/reset"):
                self.reset()
                return _Answer(200, {"status": "ok"})
            if route == ("POST", "/faults"):
                if not isinstance(spec, list):
                    raise ValueError("faults: expected a JSON list")
                self.add_faults(*(Fault.from_spec(item) for item in spec))
                return _Answer(200, {"status": "ok", "pending_faults": self.pending_faults})
            if route == ("POST", "/outage"):
                if not isinstance(spec, dict) or not isinstance(spec.get("pattern"), list):
                    raise ValueError("outage: expected {pattern: [...], duration_s | count}")
                self.outage(
                    [Fault.from_spec(item) for item in spec["pattern"]],
                    duration_s=spec.get("duration_s"),
                    count=spec.get("count"),
                )
                return _Answer(200, {"status": "ok"})
        except (ValueError, TypeError) as err:
            return _error(400, str(err), "invalid_request")
        return _error(404, f"no admin route {method} {parts.path}", "not_found")

    def _summaries(self, since: int) -> list[dict[str, Any]]:
        with self._lock:
            window = list(enumerate(self._requests[since:], start=since))
        return [
            {
                "index": index,
                "pid": r.query.get("pid"),
                "validate_only": r.validate_only,
                "event_count": len(r.events),
                "body_bytes": r.body_bytes,
                "events": r.events,
                "time": r.time,
            }
            for index, r in window
            if r.accepted
        ]


def _header(headers: dict[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _check_envelope(parsed: object) -> tuple[str | None, str] | None:
    """(param, message) when the request body is not {validate_only?, events: [1..1000]}."""
    if not isinstance(parsed, dict):
        return None, "body must be a JSON object"
    unknown = parsed.keys() - {"validate_only", "events"}
    if unknown:
        return sorted(unknown)[0], "unknown request field"
    if "validate_only" in parsed and not isinstance(parsed["validate_only"], bool):
        return "validate_only", "validate_only must be a boolean"
    events = parsed.get("events")
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS:
        return "events", f"events must be a list of 1 to {MAX_EVENTS} events"
    return None


# --------------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive threads must not hold up stop()
    request_queue_size = 128
    standin: OpenAIStandin


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every response carries Content-Length
    server_version = "OpenAIStandin/1"
    sys_version = ""
    disable_nagle_algorithm = True  # headers and body go out as two writes
    timeout = 120  # seconds an idle keep-alive connection is kept
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.standin._lock:
            self.server.standin._connections.add(self.connection)

    def finish(self) -> None:
        with self.server.standin._lock:
            self.server.standin._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _dispatch(self) -> None:
        body = self._read_body()
        standin = self.server.standin
        if self.path.startswith(ADMIN_PREFIX):
            answer = standin._admin(self.command, self.path, body)
        else:
            answer = standin._handle_api(self.command, self.path, dict(self.headers.items()), body)
        if answer.drop:
            self._drop_connection()
            return
        payload = json.dumps(answer.payload, separators=(",", ":")).encode()
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers:
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up (e.g. timed out during a slow fault)
            self.close_connection = True

    def _read_body(self) -> bytes | None:
        """The request body; None (and the connection closed afterwards) when too big to drain."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # chunked bodies are not supported; framing is lost
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_DRAIN_BYTES:
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def _drop_connection(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        self.connection.close()


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.openai_standin", description="Serve the stand-in.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--api-key", action="append", required=True, help="a valid bearer token (repeatable)")
    parser.add_argument("--pixel-id", action="append", required=True, help="a known pid (repeatable)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(message)s")
    standin = OpenAIStandin(api_keys=args.api_key, pixel_ids=args.pixel_id).start(args.host, args.port)
    logger.info("OpenAI stand-in serving on %s", standin.base_url)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
