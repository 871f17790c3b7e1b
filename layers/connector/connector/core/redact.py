"""Vendor error messages made safe to return, log and dead-letter: OpenAI may quote what it received.

A rejection's message travels on: into the caller's answer, the dead-letter queue and its reason
attribute. OpenAI received the event's oppref, obref, IP address and user agent (and the API key,
in a header), so its message may quote them; a message is therefore cut free of every value
of the events it is about, of the key, and of anything shaped like an email address or a phone
number, before it goes anywhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

REDACTED = "[redacted]"
#: Shorter values are too common to mean anything ("web", "USD") and would shred the message.
MIN_VALUE_CHARS = 4
#: A message is kept to this length: enough for OpenAI's reason, too short to carry a payload.
MAX_MESSAGE_CHARS = 300
EMAIL = re.compile(r"[^\s@'\"`<>()\[\]{},;:]+@[^\s@'\"`<>()\[\]{},;:]+")
#: Phone-like runs: 7 or more digits, maybe with separators (timestamps go too, which is harmless).
DIGIT_RUN = re.compile(r"\+?\d(?:[\s().-]{0,2}\d){6,}")


def redact_vendor_message(message: str, encoded_events: Iterable[bytes], secrets: Iterable[str] = ()) -> str:
    """The message with the events' values, the secrets, email addresses and phone-like digit runs cut out."""
    values = {value for encoded in encoded_events for value in _string_values(encoded)} | set(secrets)
    for value in sorted(values, key=len, reverse=True):  # longest first: a value may contain another
        if len(value) >= MIN_VALUE_CHARS:
            message = message.replace(value, REDACTED)
    message = DIGIT_RUN.sub(REDACTED, EMAIL.sub(REDACTED, message))
    return message if len(message) <= MAX_MESSAGE_CHARS else message[: MAX_MESSAGE_CHARS - 1] + "…"


def _string_values(encoded: bytes) -> Iterator[str]:
    try:
        stack: list[object] = [json.loads(encoded)]
    except (ValueError, RecursionError):
        return
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
