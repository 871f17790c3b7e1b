"""The event's field rules: the limits, and how one mapped value becomes a field's value or a reason.

`Builder` reads an event's mapped values field by field, collecting its errors (the event is refused)
and warnings (the value is dropped, the event still goes); the `parse_*` rules raise `InvalidValue`
with a reason that never repeats the value. build.py, user.py and items.py apply them; check.py holds a
queued event to the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from connector.core import coerce
from connector.core.errors import InvalidValue
from connector.core.types import Issue

#: OpenAI uses the first three valid values of each user list.
MAX_USER_LIST_VALUES = 3
MAX_ID_CHARS = 512
MAX_URL_CHARS = 8192
MAX_TEXT_CHARS = 1024
#: A content item's quantity: a count, so never negative; the cap keeps it a 32-bit integer.
MAX_QUANTITY = 2**31 - 1
ACTION_SOURCES = ("web", "mobile_app", "offline", "physical_store", "phone_call", "email", "other")


class Builder:
    """Collects one event's errors and warnings while its fields are read."""

    __slots__ = ("decimal_separator", "errors", "values", "warnings")

    def __init__(self, values: Mapping[str, object], decimal_separator: str = ".") -> None:
        self.values = values
        self.decimal_separator = decimal_separator
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []

    def read(self, key: str, field_name: str, parse, *, required: bool = False, drop_only: bool = False):
        raw = self.values.get(key)
        if raw is None or raw == "":
            if required:
                self.errors.append(Issue(field_name, "is required"))
            return None
        try:
            return parse(raw)
        except InvalidValue as problem:
            (self.warnings if drop_only else self.errors).append(Issue(field_name, str(problem)))
            return None


#: Types for isinstance(), built once: a `str | int` union would be built on every call (~10x slower).
TEXT_OR_INT = (str, int)
NUMBER = (int, float)
SEQUENCE = (list, tuple)


def parse_event_id(raw: object) -> str:
    if isinstance(raw, bool) or not isinstance(raw, TEXT_OR_INT):
        raise InvalidValue("must be a string")
    event_id = str(raw).strip()
    if not event_id:
        raise InvalidValue("is empty")
    if len(event_id) > MAX_ID_CHARS:
        raise InvalidValue(f"must be at most {MAX_ID_CHARS} characters")
    return event_id


def parse_opaque(raw: object) -> str:
    # oppref is OpenAI's opaque identifier: passed through byte for byte.
    if not isinstance(raw, str):
        raise InvalidValue("must be a string")
    if len(raw) > MAX_URL_CHARS:
        raise InvalidValue(f"must be at most {MAX_URL_CHARS} characters")
    return raw


def parse_action_source(raw: object) -> str:
    if not isinstance(raw, str) or raw.strip().lower() not in ACTION_SOURCES:
        raise InvalidValue(f"must be one of {', '.join(ACTION_SOURCES)}")
    return raw.strip().lower()


#: An http(s) URL with a plain host name (ASCII letters, digits, hyphens and dots: no user, port, IPv6
#: brackets or non-ASCII), then printable ASCII: urlsplit reads its scheme and a non-empty host name.
PLAIN_WEB_URL = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?:[/?#][!-~]*)?")


def parse_url(raw: object) -> str:
    if not isinstance(raw, str):
        raise InvalidValue("must be an absolute http(s) URL")
    url = raw.strip()
    if len(url) > MAX_URL_CHARS:
        raise InvalidValue(f"must be at most {MAX_URL_CHARS} characters")
    if PLAIN_WEB_URL.fullmatch(url):
        return url  # the common case, which urlsplit would accept: skips its slower parse
    try:
        parts = urlsplit(url)
    except ValueError:
        raise InvalidValue("must be an absolute http(s) URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidValue("must be an absolute http(s) URL")
    return url


def parse_text(raw: object) -> str:
    if type(raw) is str:
        text = raw.strip()
    elif isinstance(raw, bool) or not isinstance(raw, NUMBER):
        raise InvalidValue("must be a string")
    else:
        text = str(raw)
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidValue(f"must be at most {MAX_TEXT_CHARS} characters")
    return text


def parse_quantity(raw: object) -> int:
    quantity = coerce.parse_int(raw)
    if not 0 <= quantity <= MAX_QUANTITY:
        raise InvalidValue(f"must be a whole number from 0 to {MAX_QUANTITY}")
    return quantity


def as_list(raw: object) -> list[object]:
    if raw is None or raw == "":
        return []
    return list(raw) if isinstance(raw, SEQUENCE) else [raw]
