"""A local stand-in of OpenAI's Events API (``POST /v1/events``) for integration, soak and demo runs.

It checks the wire contract in ``docs/wire-contract.md`` on its own (it imports nothing
from the connector; the checks are in ``local/openai_contract.py``), records what it received, and
can be told to misbehave (``local/standin_faults.py``).

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
optional boolean ``validate_only``, optional ``integration_source`` and 1-1,000 ``events`` (400; any
other field is refused by name, at every level, except custom properties on custom data), then each
event in order: the first invalid one fails the whole request with 400 and ``error.param`` =
``events[i]``. ``action_source`` is optional here because docs/wire-contract.md does not mark it required;
when present it must be in the enum.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# Sibling modules that, like this one, import only the standard library.
from . import openai_contract as contract
from .standin_answers import Answer, error_answer, fault_answer
from .standin_faults import Fault, FaultSchedule
from .standin_http import ADMIN_PREFIX, StandinHandler, StandinServer

__all__ = ["Fault", "OpenAIStandin", "RecordedRequest"]

logger = logging.getLogger("openai_standin")

#: The one API path the stand-in serves.
EVENTS_PATH = "/v1/events"


# --------------------------------------------------------------------------- records


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
    #: The x-request-id the answer carried, as OpenAI's answers carry one.
    request_id: str | None = None

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


# --------------------------------------------------------------------------- the stand-in


class OpenAIStandin:
    """A loopback HTTP server speaking OpenAI's Events API, with recordings and fault injection."""

    def __init__(
        self,
        api_keys: Iterable[str] = ("sk-standin",),
        pixel_ids: Iterable[str] = ("px-standin",),
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
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
        self._faults = FaultSchedule(monotonic)  # outage durations run on it
        self._connections: set[socket.socket] = set()
        self._server: StandinServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> OpenAIStandin:
        if self._server is not None:
            raise RuntimeError("stand-in already started")
        self._server = StandinServer((host, port), StandinHandler)
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

    def connection_opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def connection_closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

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
            self.reject_ids.clear()
            self.omit_error_param = False

    # faults (the schedule is a FaultSchedule) -------------------------------

    def add_faults(self, *faults: Fault) -> None:
        self._faults.add(*faults)

    def outage(self, pattern: Sequence[Fault], *, duration_s: float | None = None, count: int | None = None) -> None:
        """Answer upcoming requests with `pattern`, cycled, for `duration_s` seconds or `count` requests."""
        self._faults.start_outage(pattern, duration_s=duration_s, count=count)

    @property
    def outage_active(self) -> bool:
        return self._faults.outage_active

    @property
    def pending_faults(self) -> int:
        return self._faults.pending

    # request handling ------------------------------------------------------

    def handle_api(self, method: str, target: str, headers: dict[str, str], body: bytes | None) -> Answer:
        received_at = time.time()
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        fault = self._faults.take()
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.seconds)
        parsed: Any = None
        if fault is not None and fault.kind == "reset":
            answer = Answer(0, drop=True)
        elif fault is not None and fault.kind == "status":
            answer = fault_answer(fault)
        else:
            answer, parsed = self._check(method, parts.path, query, headers, body)
        request_id = None if answer.drop else f"req_{uuid.uuid4().hex}"
        if request_id:
            answer = dataclasses.replace(answer, headers=(*answer.headers, ("x-request-id", request_id)))
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
            request_id=request_id,
        )
        with self._lock:
            self._requests.append(record)
            if record.accepted and not record.validate_only:
                self._events.extend(record.events)
                self._stored.notify_all()
        return answer

    def _check(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes | None
    ) -> tuple[Answer, Any]:
        if path != EVENTS_PATH:
            return error_answer(404, f"no route for {path}", "not_found"), None
        if method != "POST":
            answer = error_answer(405, "use POST", "method_not_allowed")
            return Answer(405, answer.payload, (("Allow", "POST"),)), None
        scheme, _, token = (_header(headers, "authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() not in self.api_keys:
            return error_answer(401, "Incorrect API key provided", "invalid_api_key"), None
        if query.get("pid") not in self.pixel_ids:
            return error_answer(403, "unknown pid", "unknown_pid"), None
        content_type = (_header(headers, "content-type") or "").partition(";")[0].strip().lower()
        if content_type != "application/json":
            return error_answer(415, "Content-Type must be application/json", "invalid_content_type"), None
        if body is None and _header(headers, "transfer-encoding"):
            return error_answer(411, "Content-Length required", "length_required"), None
        if body is None or len(body) > contract.MAX_BODY_BYTES:
            return error_answer(413, f"body larger than {contract.MAX_BODY_BYTES} bytes", "request_too_large"), None
        omit = self.omit_error_param
        try:
            parsed = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return error_answer(400, "body must be JSON", "invalid_json", omit_param=omit), None
        problem = contract.check_envelope(parsed)
        if problem is not None:
            return error_answer(400, problem[1], "invalid_request", param=problem[0], omit_param=omit), parsed
        now_ms = int(self.clock() * 1000)
        reject_ids = self.reject_ids
        for index, event in enumerate(parsed["events"]):
            try:
                contract.validate_event(event, now_ms, reject_ids)
            except contract.EventError as err:
                param = f"events[{index}]"
                where = "" if omit else f" at {param}"
                message = f"Invalid event{where}: {err.detail}"
                return error_answer(400, message, err.code, param=param, omit_param=omit), parsed
        validate_only = parsed.get("validate_only", False)
        payload = {"status": "ok", "events_received": len(parsed["events"]), "validate_only": validate_only}
        return Answer(200, payload), parsed

    def handle_admin(self, method: str, target: str, body: bytes | None) -> Answer:
        parts = urlsplit(target)
        route = (method, parts.path.removeprefix(ADMIN_PREFIX.rstrip("/")))
        try:
            spec = json.loads(body) if body else None
        except ValueError:
            return error_answer(400, "body must be JSON", "invalid_json")
        try:
            if route == ("GET", "/requests"):
                since = int(dict(parse_qsl(parts.query)).get("since", 0))
                return Answer(200, {"requests": self._summaries(since)})
            if route == ("POST", "/reset"):
                self.reset()
                return Answer(200, {"status": "ok"})
            if route == ("POST", "/faults"):
                if not isinstance(spec, list):
                    raise ValueError("faults: expected a JSON list")
                self.add_faults(*(Fault.from_spec(item) for item in spec))
                return Answer(200, {"status": "ok", "pending_faults": self.pending_faults})
            if route == ("POST", "/outage"):
                if not isinstance(spec, dict) or not isinstance(spec.get("pattern"), list):
                    raise ValueError("outage: expected {pattern: [...], duration_s | count}")
                self.outage(
                    [Fault.from_spec(item) for item in spec["pattern"]],
                    duration_s=spec.get("duration_s"),
                    count=spec.get("count"),
                )
                return Answer(200, {"status": "ok"})
        except (ValueError, TypeError) as err:
            return error_answer(400, str(err), "invalid_request")
        return error_answer(404, f"no admin route {method} {parts.path}", "not_found")

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
