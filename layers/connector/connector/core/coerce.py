"""Reading loosely typed Tealium values: booleans sent as "1"/"0", times in any epoch unit."""

from __future__ import annotations

import math
import re
from datetime import datetime

from connector.core.errors import InvalidValue

#: An integer as text: ASCII digits, an optional minus, short enough for int() to accept.
INTEGER_TEXT = re.compile(r"-?[0-9]{1,4000}")

TRUE_TEXT = frozenset({"1", "true", "yes", "y", "on"})
FALSE_TEXT = frozenset({"0", "false", "no", "n", "off", ""})
#: Consent is granted only by these; anything else (missing, "denied", "maybe") is no consent.
CONSENT_GRANTED_TEXT = frozenset({"1", "true", "yes", "granted"})

#: Epoch values below these magnitudes are seconds, milliseconds, microseconds; above, nanoseconds.
#: 1e11 s is the year 5138 and 1e11 ms is 1973, so the two cannot be confused for real events.
SECONDS_BELOW = 1e11
MILLISECONDS_BELOW = 1e14
MICROSECONDS_BELOW = 1e17
#: Nanoseconds past the year 2262 are no real event time (and larger integers overflow a float).
MAX_EPOCH = 1e19
#: Whole seconds written with at most this many digits are below SECONDS_BELOW.
_SECONDS_DIGITS = 11


def parse_bool(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        text = raw.strip().lower()
        if text in TRUE_TEXT:
            return True
        if text in FALSE_TEXT:
            return False
    raise InvalidValue('must be a boolean (true/false, "1"/"0")')


def grants_consent(raw: object) -> bool:
    """True, 1, "1", "true", "yes" or "granted" (any case); everything else, missing included, does not."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int):
        return raw == 1
    return isinstance(raw, str) and raw.strip().lower() in CONSENT_GRANTED_TEXT


#: Types for isinstance(), built once: a `str | int` union would be built on every call (~10x slower).
_NUMBER = (int, float)


def parse_epoch_ms(raw: object) -> int:
    """Epoch seconds, milliseconds, micro- or nanoseconds (told apart by magnitude), or ISO 8601."""
    # The two commonest forms, read as the general path below reads them: milliseconds as a JSON
    # integer (post_time), and whole seconds as digits (tealium_timestamp_epoch), exact as floats too.
    if type(raw) is int and SECONDS_BELOW <= raw < MILLISECONDS_BELOW:
        return raw
    if type(raw) is str and len(raw) <= _SECONDS_DIGITS and raw.isascii() and raw.isdigit() and int(raw) > 0:
        return int(raw) * 1000
    if isinstance(raw, bool):
        raise InvalidValue("must be an epoch time or an ISO 8601 date-time")
    if isinstance(raw, str):
        text = raw.strip()
        try:
            raw = float(text)
        except ValueError:
            return _parse_iso8601_ms(text)
    if not isinstance(raw, _NUMBER) or raw <= 0 or raw >= MAX_EPOCH or not math.isfinite(raw):
        # Checked before math.isfinite: an integer beyond the float range would overflow there.
        raise InvalidValue("must be a positive epoch time or an ISO 8601 date-time")
    if raw < SECONDS_BELOW:
        return round(raw * 1000)
    if raw < MILLISECONDS_BELOW:
        return round(raw)
    if raw < MICROSECONDS_BELOW:
        return round(raw / 1000)
    return round(raw / 1_000_000)


def _parse_iso8601_ms(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidValue("must be an epoch time or an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise InvalidValue("an ISO 8601 date-time needs a time zone (e.g. Z)")
    return round(moment.timestamp() * 1000)


def parse_int(raw: object) -> int:
    if type(raw) is int:
        return raw
    if isinstance(raw, bool):
        raise InvalidValue("must be an integer")
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and INTEGER_TEXT.fullmatch(raw.strip()):
        return int(raw.strip())
    if isinstance(raw, int):
        return raw
    raise InvalidValue("must be an integer")
