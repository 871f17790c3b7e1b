"""The event trail: one record per event per step, built from the wire event, and the journey read back from them.

A record holds the action, the event's `id` (the client's own order or event id) and `type`, the step
(`ingest`, `batch`, `redrive`), the outcome, and one boolean per match key (connector/core/wire/match.py):
never the value of an identifier, an IP address, a user agent or `oppref`. The adapter
(connector/adapters/trail_log.py) writes each as one JSON log line whose message is TRAIL_MESSAGE; the
Lambda request id is the log line's own `function_request_id` (Powertools adds it).
`python -m connector trace` reads them back (`journey_lines`, `where_now`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from connector.core.printable import printable
from connector.core.wire.build import MAX_ID_CHARS
from connector.core.wire.match import MATCH_KEYS, has_strong_key, match_keys

#: The log message of every trail line: Logs Insights finds them with `filter message = "event_trail"`.
TRAIL_MESSAGE = "event_trail"
#: The log message of the once-per-container warning about an action sending events without a strong key.
WEAK_MATCH_MESSAGE = "weak_match_keys"
#: Steps an event goes through.
STEPS = ("ingest", "batch", "redrive")
#: The outcomes at which an event reached OpenAI: the match report counts these.
DELIVERED_OUTCOMES = ("sent", "validated")
#: A reason is cut to this many characters (the dead-letter reason's own cap, connector/core/queue_message.py).
MAX_REASON_CHARS = 400
#: The field name each match key is logged under.
KEY_FIELDS = {name: f"has_{name}" for name in MATCH_KEYS}

_SINCE = re.compile(r"(\d{1,6})([smhd])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: Control characters (C0, DEL, C1) and the line and paragraph separators: escaped before printing.


def trail_record(
    step: str,
    outcome: str,
    action: str | None,
    event: Mapping[str, object] | None,
    *,
    event_id: object = None,
    event_type: object = None,
    reason_field: str | None = None,
    reason: str | None = None,
    http_status: int | None = None,
    openai_request_id: str | None = None,
) -> dict[str, object]:
    """One trail record. `event` is the wire event (None when none could be built); `event_id` and
    `event_type` default to its own. Optional parts that are None are left out of the line."""
    source = event if isinstance(event, Mapping) else {}
    keys = match_keys(event)
    record: dict[str, object] = {
        "step": step,
        "outcome": outcome,
        "action": action,
        "event_id": _text(event_id if event_id is not None else source.get("id"), MAX_ID_CHARS),
        "event_type": _text(event_type if event_type is not None else source.get("type"), 64),
    }
    record.update({KEY_FIELDS[name]: present for name, present in keys.items()})
    record["strong_key"] = has_strong_key(keys)
    optional = {
        "reason_field": _text(reason_field, 128),
        "reason": _text(reason, MAX_REASON_CHARS),
        "http_status": http_status,
        "openai_request_id": openai_request_id,
    }
    record.update({name: value for name, value in optional.items() if value is not None})
    return record


#: The parts of a wire event `trail_record` reads: its own `id` and `type`, and what `match_keys` reads.
TRAIL_PARTS = ("id", "type", "oppref", "user")


def trail_view(event: Mapping[str, object]) -> dict[str, object]:
    """The parts of the event its trail record is built from, without its data: what the batch sender keeps of
    each of a batch's 1,000 events until it knows their outcome (the same record, a fraction of the memory)."""
    return {name: event[name] for name in TRAIL_PARTS if name in event}


def _text(value: object, limit: int) -> str | None:
    """Text as logged: a string, cut to `limit`; anything else (a queued message's junk) is left out.

    A lone surrogate (a queued id holding "\\udc80") is written as that escape: raw, the log line could not be
    encoded and would be lost, with a "Logging error" traceback in its place.
    """
    if not isinstance(value, str) or not value:
        return None
    text = value[:limit]
    if text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


#: A dead-letter reason's leading field path ("timestamp_ms: ...", "message.action: ...").
_LEADING_FIELD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+|\[\d+\])*): ")
#: Dead-letter reasons the batch sender writes without a leading field (connector/services/batch.py).
_REASON_FIELDS = (("OpenAI rejected it", "event"), ("gave up after", "retries"), ("not a valid OpenAI event: ", ""))


def reason_field(reason: str) -> str:
    """The field a dead-letter reason is about, for counting rejections by field; "event" when it names none."""
    for prefix, field in _REASON_FIELDS:
        if reason.startswith(prefix):
            if field:
                return field
            reason = reason[len(prefix) :]
    found = _LEADING_FIELD.match(reason)
    return found.group(1) if found else "event"


class WeakMatchWatch:
    """Says once per container (per instance) when an action's delivered events carry no strong match key."""

    def __init__(self) -> None:
        self._warned: set[str] = set()

    def first_weak(self, record: Mapping[str, object]) -> bool:
        action = record.get("action")
        if record.get("outcome") not in DELIVERED_OUTCOMES or record.get("strong_key") or not isinstance(action, str):
            return False
        if action in self._warned:
            return False
        self._warned.add(action)
        return True


def weak_match_warning(action: str) -> dict[str, object]:
    """The warning's fields: the action and what it means; no event, no value."""
    return {
        "action": action,
        "problem": f"{action}: events go to OpenAI without oppref, email, phone or external id;"
        " OpenAI can hardly attribute them (map one of them in the action)",
    }


# ---- reading the trail back --------------------------------------------------------------------------


def parse_since(text: str) -> int:
    """'24h', '30m', '7d', '90s' -> seconds; ValueError naming the format otherwise."""
    found = _SINCE.fullmatch(text.strip())
    if not found or int(found.group(1)) == 0:
        raise ValueError("--since: must be a number and a unit, s, m, h or d (e.g. 24h)")
    return int(found.group(1)) * _SECONDS[found.group(2)]


def log_time(text: object) -> float | None:
    """Seconds since the epoch of a log line's time: Powertools' `2026-12-04 15:29:06,582+0000` or Logs
    Insights' `2026-12-04 15:29:06.582` (UTC); None when it is neither."""
    if not isinstance(text, str):
        return None
    for form in ("%Y-%m-%d %H:%M:%S,%f%z", "%Y-%m-%d %H:%M:%S.%f"):
        try:
            parsed = datetime.strptime(text, form)
        except ValueError:
            continue
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    return None


def is_trail_line(line: object) -> bool:
    return isinstance(line, Mapping) and line.get("message") == TRAIL_MESSAGE


def in_order(lines: Iterable[Mapping[str, object]]) -> list[Mapping[str, object]]:
    """By time; at the same millisecond `received` comes before the outcome of the same step."""
    indexed = list(enumerate(lines))
    indexed.sort(key=lambda item: (log_time(item[1].get("timestamp")) or 0.0, item[1].get("outcome") != "received"))
    return [line for _, line in indexed]


def journey_line(line: Mapping[str, object]) -> str:
    keys = [name for name in MATCH_KEYS if line.get(KEY_FIELDS[name]) is True]
    parts = [
        str(line.get("timestamp", "?")),
        f"{line.get('step', '?'):<7}",
        f"{line.get('outcome', '?'):<13}",
        f"action {line.get('action') or '-'}",
        f"type {line.get('event_type') or '-'}",
    ]
    details = []
    if line.get("http_status") is not None:
        details.append(f"HTTP {line['http_status']}")
    if line.get("openai_request_id"):
        details.append(f"OpenAI request {line['openai_request_id']}")
    if line.get("reason"):
        details.append(str(line["reason"]))
    elif line.get("reason_field"):
        details.append(f"field {line['reason_field']}")
    if line.get("outcome") == "received" or line.get("outcome") in DELIVERED_OUTCOMES:
        details.append("keys: " + (", ".join(keys) if keys else "none"))
    if line.get("function_request_id"):
        details.append(f"Lambda request {line['function_request_id']}")
    return printable("  ".join(parts) + ("  " + "; ".join(details) if details else ""))


def journey_lines(lines: Sequence[Mapping[str, object]]) -> list[str]:
    return [journey_line(line) for line in in_order(lines)]


def where_now(lines: Sequence[Mapping[str, object]]) -> str:
    """Where the event is now, from its last trail line."""
    if not lines:
        return "never arrived: no trail line names this id"
    last = in_order(lines)[-1]
    outcome, reason = last.get("outcome"), last.get("reason") or last.get("reason_field") or ""
    request = f", OpenAI request {last['openai_request_id']}" if last.get("openai_request_id") else ""
    status = f" (HTTP {last['http_status']}{request})" if last.get("http_status") is not None else ""
    now = {
        "sent": f"at OpenAI{status}",
        "validated": f"validated by OpenAI, not stored (Debug Mode){status}",
        "queued": "queued: waiting for the batch sender",
        "retried": f"queued: handed back to SQS for another try ({reason})",
        "moved": "queued again: redriven from the dead-letter queue",
        "dead_lettered": f"dead-lettered: {reason}",
        "rejected": f"rejected, never sent: {reason}",
        "skipped": "skipped, never sent: no consent",
        "failed": f"not queued, lost unless the client sends it again: {reason}",
        "received": "received, no outcome logged (the function may have stopped: look for its errors)",
    }.get(str(outcome), f"unknown outcome {outcome}")
    return printable(now)
