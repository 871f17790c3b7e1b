"""The queue message format: one wire event and the name of the action it belongs to.

A message body is JSON: {"v": 2, "action": "<action name>", "event": {...}}; a dead-lettered one
adds "dead_letter": {"reason", "at_ms"}. Anyone allowed to send to the queue can write a message,
so a message names nothing the sender acts on but the action: the base URL, the pixel id and the
API key's secret come from the sender's own settings and actions document (connector/services/batch.py).
A message with any other key, another version or a malformed field is refused whole.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from connector.core.errors import InputError
from connector.core.wire.build import timestamp_window_problem

MESSAGE_VERSION = 2
#: Every key a message may hold; anything else (a `route`, a `base_url`) marks a forged or stale message.
MESSAGE_KEYS = frozenset({"v", "action", "event", "dead_letter"})
#: SQS takes at most 256 KiB per message and per batch, counting bodies and attributes.
MAX_MESSAGE_BYTES = 262_144
#: A dead-letter reason is cut to this many characters, in the body and in the `reason` attribute.
MAX_REASON_CHARS = 400
#: Characters SQS refuses in a message body or attribute (its allowed set: #x9 #xA #xD #x20-#xD7FF
#: #xE000-#xFFFD #x10000-#x10FFFF): one of them in a SendMessageBatch fails every message of the call.
SQS_UNSAFE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
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
        message = _DECODER.decode(body) if type(body) is str else json.loads(body, **_STRICT_NUMBERS)
    except RecursionError:
        # The C decoder stops at its own depth limit; deeper JSON is refused here, not by a crash later.
        raise InputError("message", "is nested too deeply to be read") from None
    except (ValueError, TypeError) as err:
        raise InputError("message", f"is not a connector queue message ({type(err).__name__})") from None
    if not isinstance(message, dict):
        raise InputError("message", "is not a connector queue message (not a JSON object)")
    version = message.get("v")
    if type(version) is not int or version != MESSAGE_VERSION:  # not true, not 2.0: the version this writes
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
    """The body with its `dead_letter` note; raises ValueError (or RecursionError) when it is no JSON object."""
    message = json.loads(body)
    if not isinstance(message, dict):
        raise ValueError("not a JSON object")
    message["dead_letter"] = {"reason": reason[:MAX_REASON_CHARS], "at_ms": at_ms}
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def sqs_safe(text: str) -> str:
    """The text with every character SQS refuses written as a \\uXXXX escape.

    In a JSON text such a character can only stand inside a string, where the escape means the same
    character: the message reads back as the same value. A "\\ud800" escape in a queued or dead-lettered
    body decodes to a lone surrogate, which `ensure_ascii=False` writes raw and UTF-8 cannot carry.
    """
    return SQS_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text) if SQS_UNSAFE.search(text) else text


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # "1e400": beyond the float range, which OpenAI's JSON cannot take
        raise ValueError("a number beyond the float range")
    return number


#: Built once: `json.loads` with options builds a new decoder on every call (`decode` is what it then calls).
_STRICT_NUMBERS = {"parse_constant": _reject_constant, "parse_float": _finite_float}
_DECODER = json.JSONDecoder(**_STRICT_NUMBERS)


def check_message_size(message: str) -> None:
    size = len(message.encode("utf-8"))
    if size + ATTRIBUTE_ALLOWANCE > MAX_MESSAGE_BYTES:
        limit = MAX_MESSAGE_BYTES - ATTRIBUTE_ALLOWANCE
        raise InputError("event", f"is {size} bytes as a queue message; SQS takes at most {limit}")


def without_dead_letter(body: str) -> str:
    """The body as first queued: the `dead_letter` note removed, everything else left as it is."""
    message = _json_object(body)
    if message is None or "dead_letter" not in message:
        return body
    del message["dead_letter"]
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def outside_window(body: str, now_ms: int) -> bool:
    """True when the queued event's timestamp can no longer be accepted; unknown shapes are left to the sender."""
    message = _json_object(body) or {}
    event = message.get("event")
    timestamp_ms = event.get("timestamp_ms") if isinstance(event, dict) else None
    if not isinstance(timestamp_ms, int) or isinstance(timestamp_ms, bool):
        return False
    return timestamp_window_problem(timestamp_ms, now_ms) is not None


def dead_letter_note(body: str) -> dict:
    """The `dead_letter` note the batch sender added to a message body; {} when there is none."""
    note = (_json_object(body) or {}).get("dead_letter")
    return note if isinstance(note, dict) else {}


def _json_object(body: str) -> dict | None:
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return message if isinstance(message, dict) else None
