"""What looks like an email address or a phone number in free text and URLs, and cutting it out.

OpenAI asks never to receive raw email addresses or phone numbers (docs/wire-contract.md: User). The
identifier fields are hashed (connector/core/normalize.py); everything else the connector sends as it
came (a page URL, custom properties, item names, a plan id) is held to the rules here, so that a data
layer variable holding an email address is dropped instead of sent. A value is judged as written and
percent-decoded (once and twice, `+` read both as itself and as a space), since URLs and cookies carry
`jane%40example.com` and `%2B14155550123`.

The rules, and why (they must catch real contact data without dropping SKUs, prices or timestamps):

- An email address: one non-space character, `@`, then a domain of at least two dot-separated labels
  (`a@b.co`). A handle (`@shop`) or a bare `user@localhost` is not one.
- A phone number: a run of digits and the separators people write in phone numbers (space, `-`, `.`,
  `(`, `)`; at most two in a row), not following a letter, digit, `.` or `-` unless it starts with `+`,
  whose digits reach 8 to 15 (E.164's range, the bound normalize.py applies to a mapped phone) at the
  end of a group of digits after a `+` or a separator:
    - `+14155550123`, `+44 7700 900417`, `tel:+1 (415) 555-0123`;
    - `415-555-0123`, `07700 900417`, `(415) 555 0123`, `06.12.34.56.78`;
  but not a date with a four-digit year at its start (`2026-11-18`, `18.11.2026 10:30`), a decimal
  number (`3.14159265`), or a run that starts with 8 or more digits together (`14155550123`,
  `1795000000000 2`): without a `+` or a separator nothing tells those from an id, a count or a timestamp.
  Letters break a run, so `ORD-10042`, `SKU-RED-M`, UUIDs and hashes are never phone numbers; prices
  (`1,299.00`) have too few digits, or a comma between them. Dotted IPv4 addresses count as phone numbers:
  an address in free text is personal data too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import unquote, unquote_plus, urlsplit

EMAIL_ADDRESS = "an email address"
PHONE_NUMBER = "a phone number"

#: One non-space character, @, then a domain with a dot: unicode letters count (`jane@exämple.de`).
_EMAIL = re.compile(r"[^\s@]@[\w-]+(?:\.[\w-]+)+")
#: A candidate phone run: a digit, then digits each after at most two separators; it starts at a `+` that
#: follows no digit (`tel+14155550123`), at a `(`, or at a digit that follows no letter, digit, `.` or `-`
#: (so `ORD-10042`, `v4.51.0` and `SKU-415-555-0123` start none).
_PHONE_RUN = re.compile(r"(?:(?<![\d+])\+\(?|(?<![\w+.-])\(\+?|(?<![\w+.(-]))\d(?:[\s().-]{0,2}\d)*")
#: E.164 numbers have at most 15 digits; 8 is the shortest normalize.py accepts as a phone number.
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 8, 15
#: A date with a four-digit year (2026-11-18, 2026.11.18, 18-11-2026, 18.11.2026) at a run's start.
_LEADING_DATE = re.compile(r"(?:\d{4}([-.])\d{1,2}\1\d{1,2}|\d{1,2}([-.])\d{1,2}\2\d{4})(?!\d)")
_DECIMAL = re.compile(r"\d+\.\d+")
#: Percent-decoding is applied at most this many times (double-encoded URLs exist; deeper is noise).
_DECODE_ROUNDS = 2
#: Eight digits, at most two separators between any two: what every phone number holds (`\d` as in the rules).
_EIGHT_DIGITS = re.compile(r"\d(?:[\s().-]{0,2}\d){7}")


#: The same, for ASCII text, where `\d` is `[0-9]`: a third faster than the Unicode class.
_EIGHT_ASCII_DIGITS = re.compile(r"[0-9](?:[\s().-]{0,2}[0-9]){7}")
_ASCII_DIGITS = b"0123456789"


def may_be_personal(text: str) -> bool:
    """False for a text that holds no `@` (every email address), no `%` or `+` (an encoded value) and no eight
    digits (every phone number): most texts, told by three substring tests and a count or one search."""
    if "@" in text or "%" in text or "+" in text:
        return True
    if text.isascii():
        # Fewer than eight digits in all, as bytes.translate counts them (a fifth of a search's cost): no phone.
        raw = text.encode("ascii")
        if len(raw) - len(raw.translate(None, _ASCII_DIGITS)) < 8:
            return False
        return _EIGHT_ASCII_DIGITS.search(text) is not None
    return _EIGHT_DIGITS.search(text) is not None


def personal_kind(text: str) -> str | None:
    """EMAIL_ADDRESS or PHONE_NUMBER when the text (as written or percent-decoded) holds one, else None."""
    if not may_be_personal(text):
        return None
    for form in _forms(text):
        if "@" in form and _EMAIL.search(form):
            return EMAIL_ADDRESS
        if _has_phone_number(form):
            return PHONE_NUMBER
    return None


def personal_id_kind(event_id: str) -> str | None:
    """What an event id looks like when it is an email address, or a phone number written with a `+`.

    An id is required, so one that looks personal refuses its event; order numbers are often written like
    a local phone number (`1234-5678`), so only the international form (`+14155550123`) counts here.
    """
    if "@" not in event_id and "%" not in event_id and "+" not in event_id:
        return None  # the common id: no email address (not even encoded), and a phone number would need a `+`
    kind = personal_kind(event_id)
    if kind == PHONE_NUMBER and "+" not in event_id:
        return None
    return kind


def _forms(text: str) -> Iterator[str]:
    yield text
    if "%" not in text and "+" not in text:
        return  # the common case: nothing to decode
    seen, current = {text}, [text]
    for _ in range(_DECODE_ROUNDS):
        decoded = [form for value in current for form in (unquote(value), unquote_plus(value))]
        current = [form for form in decoded if form not in seen]
        for form in current:
            seen.add(form)
            yield form


def _has_phone_number(text: str) -> bool:
    for match in _PHONE_RUN.finditer(text):
        run = match.group()
        if _LEADING_DATE.match(run) or _DECIMAL.fullmatch(run):
            continue
        if run.isdigit():
            continue  # a bare run of digits: an id, a count or a timestamp
        if _digits_end_a_group_in_range(run):
            return True
    return False


def _digits_end_a_group_in_range(run: str) -> bool:
    """Whether 8 to 15 digits are counted where a group of digits ends, past a separator or after a `+`:
    the whole run, or its start when two numbers stand side by side (`0746 123 456 0746 123 457`)."""
    digits, groups = 0, 1 if run.startswith(("+", "(+")) else 0
    last = len(run) - 1
    for index, char in enumerate(run):
        if not char.isdigit():
            continue
        digits += 1
        if digits > MAX_PHONE_DIGITS:
            return False
        if index == last or not run[index + 1].isdigit():  # a group of digits ends here
            if groups == 0 and digits >= MIN_PHONE_DIGITS:
                return False  # a bare number first (`1795000000 1`): an id or a timestamp, then something else
            groups += 1
            if digits >= MIN_PHONE_DIGITS and groups >= 2:
                return True
    return False


# --------------------------------------------------------------------------- URLs

#: The query parameters a `source_url` keeps when the action does not say: the campaign (utm_*) tags,
#: which say how the visitor came, not who they are.
DEFAULT_KEPT_QUERY_PARAMETERS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


def clean_url(url: str, keep: Iterable[str]) -> tuple[str, list[str]]:
    """The URL with its scheme, host (and port) and path, and only the `keep` query parameters whose
    values look like neither an email address nor a phone number; why each kept part was cut.

    User info (`user:password@`) and the fragment are always dropped. A path segment that looks
    personal (`/unsubscribe/jane%40example.com`) ends the path there. The query parameters kept keep
    their order and their encoding, byte for byte.
    """
    if "?" not in url and "#" not in url and "@" not in url and not personal_kind(url):
        return url, []  # the common page URL: nothing to cut
    scheme, netloc, path, query = urlsplit(url)[:4]  # urlsplit caches: a page's URL repeats
    notes: list[str] = []
    host = netloc.rpartition("@")[2]
    if path and personal_kind(path):
        segments = path.split("/")
        for position, segment in enumerate(segments):
            kind = personal_kind(segment)
            if kind:
                path = "/".join(segments[:position]) + "/"
                notes.append(f"the URL path from the segment that looks like {kind} on was dropped")
                break
    cleaned = f"{scheme}://{host}{path}"
    kept = _kept_query(query, frozenset(keep), notes) if query else []
    return (cleaned + "?" + "&".join(kept) if kept else cleaned), notes


def _kept_query(query: str, keep: frozenset[str], notes: list[str]) -> list[str]:
    kept = []
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if "%" in name or "+" in name:  # else unquote_plus would give the name back as it is
            name = unquote_plus(name)
        if name not in keep:
            continue
        kind = personal_kind(value)
        if kind:
            notes.append(f"the {name} query parameter was dropped: its value looks like {kind}")
        else:
            kept.append(pair)
    return kept


# --------------------------------------------------------------------------- free text at any depth


def scrub(value: object, path: str, notes: list[tuple[str, str]]) -> object:
    """The value without the texts that look personal, at any depth; each cut noted as (path, reason).

    A text that looks personal is dropped (a list loses the item, an object the property); an object
    key that looks personal drops its property, and the note names its parent, never the key.
    """
    if isinstance(value, str):
        return value  # a top-level text is judged by the caller, which knows what dropping it means
    if isinstance(value, dict):
        cleaned: dict[object, object] = {}
        for key, item in value.items():
            if isinstance(key, str) and (kind := personal_kind(key)):
                notes.append((path, f"dropped a property whose name looks like {kind}"))
                continue
            here = f"{path}.{key}"
            if isinstance(item, str) and (kind := personal_kind(item)):
                notes.append((here, f"dropped: looks like {kind}"))
                continue
            cleaned[key] = scrub(item, here, notes)
        return cleaned
    if isinstance(value, list):
        kept = []
        for position, item in enumerate(value):
            here = f"{path}[{position}]"
            if isinstance(item, str) and (kind := personal_kind(item)):
                notes.append((here, f"dropped: looks like {kind}"))
                continue
            kept.append(scrub(item, here, notes))
        return kept
    return value


# --------------------------------------------------------------------------- many texts at once

#: For `may_be_personal_bulk`: every ASCII digit read as 0, and the ASCII characters `[\s().-]` matches.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_ASCII_SEPARATORS = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f().-"


def may_be_personal_bulk(text: str) -> bool:
    """`may_be_personal(text)`, answered faster for a long text (a whole event's data as JSON) holding none.

    The same answer: an `_EIGHT_DIGITS` match is eight digits with only separators between them, so in an
    ASCII text (where `\\d` is 0-9 and `\\s` the separators above) it leaves eight zeros in a row once the
    digits are read as 0 and every separator is deleted; without them there is no match. Two C passes
    over bytes, where the regex steps through the text character by character; any other text, and any
    run of eight, goes to `may_be_personal` itself.
    """
    if not text.isascii():
        return may_be_personal(text)
    raw = text.encode("ascii")
    if b"@" in raw or b"%" in raw or b"+" in raw:
        return True
    if b"00000000" not in raw.translate(_DIGITS_AS_ZERO, _ASCII_SEPARATORS):
        return False
    return may_be_personal(text)
