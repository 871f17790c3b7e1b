"""The ingest service behind `POST /actions/{action}`: one result per input event.

Real-time actions send at once through the shared `Sender`; what cannot be sent now (OpenAI
down, key refused) is enqueued for the batch sender instead, so an accepted event is never
dropped. Batched actions enqueue every valid event.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from connector.core.actions import ActionConfig
from connector.core.errors import InputError
from connector.core.pipeline import PreparedEvent, prepare_events
from connector.core.ports import EventTrail, MessageQueue, NoTrail
from connector.core.queue_message import check_message_size, to_message
from connector.core.settings import Settings
from connector.core.tealium import parse_body
from connector.core.tealium_batch import body_too_large
from connector.core.trail import trail_record
from connector.core.types import DELIVERED, EventStatus, Issue, Outcome, SendResult
from connector.services.delivery import Sender

#: Bodies above this are refused with 413 (Lambda takes 6 MB per synchronous invocation).
MAX_BODY_BYTES = 5 * 1024 * 1024
#: Events in one call; one real-time call then fits one OpenAI request.
MAX_EVENTS_PER_CALL = 1000


@dataclass
class IngestAnswer:
    status_code: int
    body: dict[str, object]
    counts: Counter = field(default_factory=Counter)


@dataclass
class _Result:
    event: PreparedEvent
    status: EventStatus | None = None
    errors: list[Issue] = field(default_factory=list)
    sent: SendResult | None = None  # OpenAI's answer, for the trail

    def as_dict(self) -> dict[str, object]:
        return {
            "index": self.event.index,
            "id": self.event.event_id,
            "status": self.status,
            "errors": [issue.as_dict() for issue in [*self.event.errors, *self.errors]],
            "warnings": [issue.as_dict() for issue in self.event.warnings],
        }


class IngestService:
    def __init__(
        self,
        settings: Settings,
        actions: Mapping[str, ActionConfig],
        sender: Sender,
        event_queue: MessageQueue | None,
        clock: Callable[[], float] = time.time,
        trail: EventTrail | None = None,
    ) -> None:
        self.settings = settings
        self.actions = actions
        self.sender = sender
        self.queue = event_queue
        self.clock = clock
        self.trail = trail or NoTrail()

    def handle(
        self,
        action_name: str,
        body: str | bytes | None,
        content_type: str | None,
        query: Mapping[str, str] | None,
        base64_encoded: bool = False,
    ) -> IngestAnswer:
        action = self.actions.get(action_name)
        if action is None:
            return _refusal(404, "action", f"unknown action; configured: {', '.join(sorted(self.actions))}")
        if body is not None and _body_bytes(body, base64_encoded) > MAX_BODY_BYTES:
            return _refusal(413, "body", body_too_large(MAX_BODY_BYTES))
        try:
            if base64_encoded and body:
                body = _unbase64(body)
            documents = parse_body(body, content_type, query)
        except InputError as err:
            return _refusal(400, err.field, err.reason)
        if not documents:
            return _refusal(400, "body", "holds an empty list: send at least one event")
        if len(documents) > MAX_EVENTS_PER_CALL:
            return _refusal(413, "body", f"holds {len(documents)} events; at most {MAX_EVENTS_PER_CALL} per call")

        prepared = prepare_events(action, documents, self.settings, round(self.clock() * 1000))
        results = [_Result(p, _first_status(p)) for p in prepared]
        self._trail(action, results, received=True)
        ready = [r for r in results if r.status is None]
        if action.delivery == "realtime":
            ready = self._send_now(ready)
        self._enqueue(action.name, ready)
        self._trail(action, results)
        return _answer(results)

    def _trail(self, action: ActionConfig, results: list[_Result], received: bool = False) -> None:
        """One trail line per event: as received, then its outcome (the first error's field and reason, or
        OpenAI's answer: a real-time event queued instead says why)."""
        for r in results:
            ids = {"event_id": r.event.event_id, "event_type": action.event_type}
            if received:
                self.trail.write(trail_record("ingest", "received", action.name, r.event.event, **ids))
                continue
            problem = next(iter([*r.event.errors, *r.errors]), None)
            answer = r.sent or SendResult(Outcome.RETRY)
            self.trail.write(
                trail_record(
                    "ingest",
                    str(r.status),
                    action.name,
                    r.event.event,
                    **ids,
                    reason_field=problem.field if problem else None,
                    reason=str(problem) if problem else answer.reason or None,
                    http_status=answer.http_status,
                    openai_request_id=answer.request_id,
                )
            )

    def _send_now(self, ready: list[_Result]) -> list[_Result]:
        """Send; return what must be enqueued instead."""
        if not ready:
            return []
        # The setting REALTIME_BUDGET_SECONDS (connector/core/settings.py): the caller must have its answer in time.
        deadline = time.monotonic() + self.settings.realtime_budget_seconds
        route = ready[0].event.route  # one action, one route
        outcomes = self.sender.send(route, [r.event.encoded for r in ready], deadline)
        later = []
        for result, sent in zip(ready, outcomes, strict=True):
            result.sent = sent
            if sent.outcome in DELIVERED:
                result.status = DELIVERED[sent.outcome]
            elif sent.outcome is Outcome.REJECTED:
                result.status = EventStatus.REJECTED
                result.errors.append(Issue("event", f"OpenAI rejected it: {sent.reason}"))
            else:
                later.append(result)
        return later

    def _enqueue(self, action_name: str, ready: list[_Result]) -> None:
        fits = []
        for result in ready:
            # The action's name only: the batch sender finds its route in its own configuration.
            message = to_message(action_name, result.event.encoded)
            try:
                check_message_size(message)
            except InputError as err:
                result.status = EventStatus.REJECTED
                result.errors.append(Issue(err.field, err.reason))
                continue
            fits.append((result, message))
        if not fits:
            return
        if self.queue is None:
            failures = ["no queue configured (QUEUE_URL)"] * len(fits)
        else:
            failures = self.queue.send([message for _, message in fits])
        for (result, _), failure in zip(fits, failures, strict=True):
            if failure is None:
                result.status = EventStatus.QUEUED
            else:
                result.status = EventStatus.FAILED
                result.errors.append(Issue("queue", f"could not enqueue ({failure}); send the event again"))


def _first_status(prepared: PreparedEvent) -> EventStatus | None:
    """An event's status before any send: skipped, rejected, or None while it is still to go."""
    if prepared.skipped:
        return EventStatus.SKIPPED
    return None if prepared.ok else EventStatus.REJECTED


def _body_bytes(body: str | bytes, base64_encoded: bool) -> int:
    """The body's size as the client sent it: UTF-8 bytes, not characters ("é" is 2 bytes)."""
    if base64_encoded:
        padding = body[-2:].count("=" if isinstance(body, str) else b"=")
        return len(body) * 3 // 4 - padding  # the decoded size, for well-formed base64
    if isinstance(body, bytes) or body.isascii():
        return len(body)
    return len(body.encode("utf-8", "surrogatepass"))


def _unbase64(body: str | bytes) -> bytes:
    """API Gateway hands binary bodies over base64-encoded; the bytes may still be bad UTF-8."""
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("body", "is marked base64-encoded but is not valid base64") from None


def _answer(results: list[_Result]) -> IngestAnswer:
    counts = Counter(r.status for r in results)
    if counts[EventStatus.FAILED]:
        status_code = 503  # our fault, not the caller's: a retry is safe (OpenAI deduplicates on id)
    elif counts[EventStatus.QUEUED]:
        status_code = 202
    elif counts[EventStatus.SENT] or counts[EventStatus.VALIDATED] or counts[EventStatus.SKIPPED]:
        status_code = 200
    else:
        status_code = 400
    return IngestAnswer(status_code, {"results": [r.as_dict() for r in results]}, counts)


def _refusal(status_code: int, field_name: str, reason: str) -> IngestAnswer:
    return IngestAnswer(status_code, {"errors": [Issue(field_name, reason).as_dict()], "results": []})
