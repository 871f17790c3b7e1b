"""SQS adapter: queue messages that carry one wire event and the name of the action it belongs to.

A message body is JSON: {"v": 2, "action": "<action name>", "event": {...}}; a dead-lettered one
adds "dead_letter": {"reason", "at_ms"}. Anyone allowed to send to the queue can write a message,
so a message names nothing the sender acts on but the action: the base URL, the pixel id and the
API key's secret come from the sender's own settings and actions document (connector/batch.py).
A message with any other key, another version or a malformed field is refused whole.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from connector.errors import InputError
from connector.packing import pack_sizes

MESSAGE_VERSION = 2
#: Every key a message may hold; anything else (a `route`, a `base_url`) marks a forged or stale message.
MESSAGE_KEYS = frozenset({"v", "action", "event", "dead_letter"})
#: SQS takes at most 10 messages per SendMessageBatch...
MAX_BATCH_ENTRIES = 10
#: ...and at most 256 KiB per message and per batch, counting bodies and attributes.
MAX_MESSAGE_BYTES = 262_144
#: A dead-letter reason is cut to this many characters, in the body and in the `reason` attribute.
MAX_REASON_CHARS = 400
#: Bytes ingest keeps back in every message for what dead-lettering adds to it: the reason in the body
#: (JSON-escaped, at most 6 bytes a character) and again as an attribute (UTF-8, at most 4), with keys.
#: Without it the largest events could be queued but not dead-lettered with their reason.
ATTRIBUTE_ALLOWANCE = 10 * MAX_REASON_CHARS + 96


@dataclass(frozen=True)
class QueuedEvent:
    action: str
    event: dict[str, object]
    dead_letter_reason: str | None = None


def to_message(action_name: str, encoded_event: bytes) -> str:
    # The event is already serialized once for size checks; splice it rather than dump it again.
    head = json.dumps({"v": MESSAGE_VERSION, "action": action_name}, separators=(",", ":"))
    return head[:-1] + ',"event":' + encoded_event.decode("utf-8") + "}"


def from_message(body: str) -> QueuedEvent:
    """The message's parts, or an InputError naming the first thing wrong (never quoting the message)."""
    try:
        message = json.loads(body)
    except (ValueError, TypeError) as err:
        raise InputError("message", f"is not a connector queue message ({type(err).__name__})") from None
    if not isinstance(message, dict):
        raise InputError("message", "is not a connector queue message (not a JSON object)")
    version = message.get("v")
    if version != MESSAGE_VERSION or isinstance(version, bool):
        raise InputError("message.v", f"unknown message version; this sender reads version {MESSAGE_VERSION} only")
    if set(message) - MESSAGE_KEYS:
        # The unknown key is not quoted: it is the sender's untrusted input too.
        raise InputError("message", f"holds a key other than {', '.join(sorted(MESSAGE_KEYS))}: refused whole")
    action, event = message.get("action"), message.get("event")
    if not isinstance(action, str) or not action:
        raise InputError("message.action", "must name an action")
    if not isinstance(event, dict):
        raise InputError("message.event", "must be an object")
    dead_letter = message.get("dead_letter")
    reason = dead_letter.get("reason") if isinstance(dead_letter, dict) else None
    return QueuedEvent(action, event, reason if isinstance(reason, str) else None)


def with_dead_letter_reason(body: str, reason: str, at_ms: int) -> str:
    message = json.loads(body)
    message["dead_letter"] = {"reason": reason[:MAX_REASON_CHARS], "at_ms": at_ms}
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def check_message_size(message: str) -> None:
    size = len(message.encode("utf-8"))
    if size + ATTRIBUTE_ALLOWANCE > MAX_MESSAGE_BYTES:
        limit = MAX_MESSAGE_BYTES - ATTRIBUTE_ALLOWANCE
        raise InputError("event", f"is {size} bytes as a queue message; SQS takes at most {limit}")


def _attribute_bytes(reason: str | None) -> int:
    """What SQS counts for the `reason` attribute: its name, its data type and its value."""
    return len("reason") + len("String") + len(reason[:MAX_REASON_CHARS].encode("utf-8")) if reason else 0


class EventQueue:
    """SendMessageBatch in groups of 10 within 256 KiB; reports which messages could not be sent."""

    def __init__(self, sqs_client, queue_url: str) -> None:
        self._sqs = sqs_client
        self.queue_url = queue_url

    def send(self, messages: Sequence[str], reasons: Sequence[str | None] | None = None) -> list[str | None]:
        """Send each message; returns per message None (sent) or why it was not."""
        failures: list[str | None] = [None] * len(messages)
        sizes = [
            len(m.encode("utf-8")) + _attribute_bytes(reasons[p] if reasons else None) for p, m in enumerate(messages)
        ]
        batches, too_large = pack_sizes(
            sizes, overhead=0, max_events=MAX_BATCH_ENTRIES, max_bytes=MAX_MESSAGE_BYTES, separator=0
        )
        for position in too_large:
            failures[position] = f"message exceeds SQS's {MAX_MESSAGE_BYTES}-byte limit"
        for batch in batches:
            entries = [self._entry(p, messages[p], reasons[p] if reasons else None) for p in batch]
            for position, failure in self._send_batch(entries).items():
                failures[position] = failure
        return failures

    @staticmethod
    def _entry(position: int, body: str, reason: str | None) -> dict[str, object]:
        entry: dict[str, object] = {"Id": str(position), "MessageBody": body}
        if reason:
            entry["MessageAttributes"] = {"reason": {"DataType": "String", "StringValue": reason[:MAX_REASON_CHARS]}}
        return entry

    def _send_batch(self, entries: list[dict[str, object]], attempts: int = 3) -> dict[int, str]:
        failed: dict[int, str] = {}
        for _ in range(attempts):
            try:
                answer = self._sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except (BotoCoreError, ClientError) as err:
                failed = {int(e["Id"]): f"SQS: {type(err).__name__}" for e in entries}
                continue
            failed = {int(f["Id"]): f"SQS: {f.get('Code', 'failed')}" for f in answer.get("Failed", [])}
            retry_ids = {str(p) for p in failed}
            entries = [e for e in entries if e["Id"] in retry_ids]
            if not entries:
                return {}
        return failed
