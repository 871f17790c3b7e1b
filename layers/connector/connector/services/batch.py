"""The batch sender: an SQS batch in, the records SQS must redeliver out.

A queued message names only its action; the route (base URL, pixel id, API key secret, Debug
Mode) is the one this sender's own configuration gives that action, so a forged message can
choose none of them. Records are grouped by route and sent through the shared `Sender` (so
1,000 queued events become one request). Every record ends one of three ways: delivered (deleted by SQS),
handed back for a retry (a batch item failure), or dead-lettered with its reason: OpenAI
rejected it, it names no action this sender holds, its timestamp left the window while it
waited, or it failed too many times.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from connector.core.errors import InputError
from connector.core.packing import group_by
from connector.core.pipeline import NOT_UNICODE, unencodable_field
from connector.core.ports import EventTrail, MessageQueue, NoTrail
from connector.core.queue_message import from_message, with_dead_letter_reason
from connector.core.settings import DEFAULT_MAX_RECEIVE_COUNT
from connector.core.trail import reason_field, trail_record, trail_view
from connector.core.types import DELIVERED, EventStatus, Outcome, Route
from connector.core.wire.build import timestamp_window_problem
from connector.core.wire.check import check_wire_event, written_data
from connector.core.wire.request import encode_event_reusing
from connector.services.delivery import Sender


@dataclass(frozen=True)
class Record:
    message_id: str
    body: str
    receive_count: int = 1


@dataclass
class BatchReport:
    failed_message_ids: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)


@dataclass
class _Pending:
    record: Record
    route: Route
    encoded: bytes


class BatchService:
    def __init__(
        self,
        sender: Sender,
        dead_letters: MessageQueue | None,
        routes: Mapping[str, Route],  # action name -> where its events go, from this sender's configuration
        max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT,  # on the last receive we dead-letter
        # ourselves, so the message carries its reason (SQS's own redrive moves it without one)
        clock: Callable[[], float] = time.time,
        trail: EventTrail | None = None,
    ) -> None:
        self.sender = sender
        self.dead_letters = dead_letters
        self.routes = routes
        self.max_receive_count = max_receive_count
        self.clock = clock
        self.trail = trail or NoTrail()
        # Message id -> its action and the parts of its event the trail reads, for the trail of one batch.
        self._queued: dict[str, tuple[str, dict[str, object]]] = {}

    def handle(self, records: Sequence[Record], deadline: float | None = None) -> BatchReport:
        report = BatchReport()
        now_ms = round(self.clock() * 1000)
        to_dead_letter: list[tuple[Record, str]] = []
        pending: list[_Pending] = []
        self._queued = {}
        for record in records:
            read = self._read(record, now_ms)
            if isinstance(read, str):
                to_dead_letter.append((record, read))
            else:
                pending.append(read)

        for route, group in group_by(pending, lambda p: p.route).items():
            outcomes = self.sender.send(route, [p.encoded for p in group], deadline)
            for item, result in zip(group, outcomes, strict=True):
                if result.outcome in DELIVERED:
                    report.counts[DELIVERED[result.outcome]] += 1
                    self._trail(
                        item.record, str(result.outcome), http_status=result.http_status, request=result.request_id
                    )
                elif result.outcome is Outcome.REJECTED:
                    to_dead_letter.append((item.record, f"OpenAI rejected it: {result.reason}"))
                elif item.record.receive_count >= self.max_receive_count:
                    reason = f"gave up after {item.record.receive_count} tries: {result.reason}"
                    to_dead_letter.append((item.record, reason))
                else:
                    report.counts[EventStatus.RETRY] += 1
                    report.failed_message_ids.append(item.record.message_id)
                    self._trail(item.record, "retried", result.reason)

        self._dead_letter(to_dead_letter, now_ms, report)
        return report

    def _read(self, record: Record, now_ms: int) -> _Pending | str:
        """The record ready to send, or why it must be dead-lettered. Whatever its body holds (any JSON,
        any nesting, lone surrogates, numbers beyond range), it costs that record only, never the batch."""
        try:
            queued = from_message(record.body)
        except InputError as err:
            return str(err)
        except Exception as err:  # the body is untrusted: any failure to read it is its own
            return f"message: could not be read ({type(err).__name__})"
        self._queued[record.message_id] = (queued.action, trail_view(queued.event))
        route = self.routes.get(queued.action)  # outside the guard: a configuration failure is not the record's
        if route is None:
            # The name is not repeated: it is whatever the message's writer put there.
            return "message.action: not an action this sender is configured with"
        try:
            data_text = written_data(queued.event.get("data"))  # written once: checked, then sent
            problem = _queued_event_problem(queued.event, now_ms, data_text)
            return problem or _Pending(record, route, encode_event_reusing(queued.event, data_text))
        except UnicodeEncodeError:
            # Checked first, so it nests only as deep as the contract allows: the walk is bounded.
            return f"{unencodable_field(queued.event) or 'event'}: {NOT_UNICODE}"
        except Exception as err:  # as above: a check or encoding failure is the event's own
            return f"event: could not be checked ({type(err).__name__})"

    def _dead_letter(self, items: list[tuple[Record, str]], now_ms: int, report: BatchReport) -> None:
        if not items:
            return
        if self.dead_letters is None:
            failures: list[str | None] = ["no dead-letter queue configured"] * len(items)
        else:
            bodies = [_dead_letter_body(record.body, reason, now_ms) for record, reason in items]
            failures = self.dead_letters.send(bodies, [reason for _, reason in items])
        for (record, reason), failure in zip(items, failures, strict=True):
            if failure is None:
                report.counts[EventStatus.DEAD_LETTERED] += 1
                self._trail(record, "dead_lettered", reason)
            else:
                # Not parked yet: SQS redelivers it, and its own redrive is the last resort.
                report.counts[EventStatus.RETRY] += 1
                report.failed_message_ids.append(record.message_id)
                self._trail(record, "retried", f"could not be dead-lettered ({failure}): {reason}")

    def _trail(
        self,
        record: Record,
        outcome: str,
        reason: str | None = None,
        http_status: int | None = None,
        request: str | None = None,
    ) -> None:
        """The record's trail line; the action is logged only when this sender holds it (the message is untrusted)."""
        action, event = self._queued.get(record.message_id, (None, None))
        action = action if action in self.routes else None
        field = reason_field(reason) if reason and outcome == "dead_lettered" else None
        self.trail.write(
            trail_record(
                "batch",
                outcome,
                action,
                event,
                reason_field=field,
                reason=reason,
                http_status=http_status,
                openai_request_id=request,
            )
        )


def _queued_event_problem(event: dict[str, object], now_ms: int, data_text: str | None = None) -> str | None:
    """Why a queued event must not be sent, or None. The queue is untrusted: the event is checked again.

    Whoever wrote the message (an older version, anyone with sqs:SendMessage), nothing reaches OpenAI that
    the current contract does not take; then the timestamp window, as it stands at send time.
    """
    issues = check_wire_event(event, data_text=data_text)
    if issues:
        return "not a valid OpenAI event: " + "; ".join(map(str, issues))
    return _send_time_problem(event, now_ms)


def _send_time_problem(event: dict[str, object], now_ms: int) -> str | None:
    timestamp_ms = event.get("timestamp_ms")
    if not isinstance(timestamp_ms, int) or isinstance(timestamp_ms, bool):
        return "timestamp_ms: missing from the queued event"
    problem = timestamp_window_problem(timestamp_ms, now_ms)
    return f"timestamp_ms: {problem} at send time" if problem else None


def _dead_letter_body(body: str, reason: str, now_ms: int) -> str:
    try:
        return with_dead_letter_reason(body, reason, now_ms)
    except Exception:  # not a JSON object, or too deep to write again: whatever the body holds
        return body  # parked as received; the reason rides in the message attribute
