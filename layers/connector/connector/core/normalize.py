"""Normalization and SHA-256 hashing of user identifiers, as docs/wire-contract.md specifies.

Each rule is keyed by the action's mapping key (docs/user-data.md) (email, phone, external_id, first_name,
last_name, country, region, city, zip, ...). A value that breaks a rule raises `InvalidValue` with a reason that never
repeats the value, so the message is safe to log and to return to the caller.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
import string
from collections.abc import Callable

from connector.core.errors import InvalidValue

#: A pre-hashed value, after trim and lowercase.
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_SHA256_HEX_CHARS = 64
#: Separators a phone number may carry; anything else (letters, "ext.", "#") is refused.
PHONE_SEPARATORS = re.compile(r"[\s().\-]")
PHONE_DIGITS = re.compile(r"[0-9]{8,15}")
EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+")
#: Characters a postal code keeps (docs/wire-contract.md: ASCII letters, digits, spaces, hyphens).
POSTAL_CODE_DROPPED = re.compile(r"[^A-Za-z0-9 \-]")
POSTAL_CODE_ALNUM = re.compile(r"[A-Za-z0-9]")
WHITESPACE = re.compile(r"\s+")
#: Characters a name loses before hashing: ASCII punctuation only, so "José" keeps its "é".
ASCII_PUNCTUATION = frozenset(string.punctuation)
#: An Android advertising id (GAID): a UUID.
ADVERTISING_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: OpenAI ignores the all-zero id a device reports when the user limited ad tracking.
ZERO_ADVERTISING_ID = "00000000-0000-0000-0000-000000000000"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
#: A dotted-quad IPv4 address exactly as ipaddress would print it (no leading zeros).
IPV4_CANONICAL = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")

#: Cities and regions (docs/wire-contract.md: at most 128 characters).
MAX_CITY_CHARS = 128
MAX_POSTAL_CODE_CHARS = 32
MAX_IDENTIFIER_CHARS = 1024
#: obref is an opaque cookie value: bounded like a URL, never trimmed or changed.
MAX_OPAQUE_CHARS = 8192


def sha256_hex(normalized: str) -> str:
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


#: Types for isinstance(), built once: a `str | int` union would be built on every call (~10x slower).
_TEXT_OR_INT = (str, int)


def as_text(raw: object) -> str:
    """Tealium sends numbers for zip codes and phones as often as strings."""
    if type(raw) is str:
        text = raw.strip()  # the common case, ahead of the checks only other types need
    else:
        if isinstance(raw, bool) or not isinstance(raw, _TEXT_OR_INT):
            raise InvalidValue("must be a string")
        if isinstance(raw, int) and raw.bit_length() > MAX_IDENTIFIER_CHARS * 4:
            # str() refuses integers of more than 4300 digits; none is an identifier anyway.
            raise InvalidValue(f"is longer than {MAX_IDENTIFIER_CHARS} characters")
        text = str(raw).strip()
    if not text:
        raise InvalidValue("is empty")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # JSON's "\ud800" escapes decode to unpaired surrogates, which no UTF-8 hash input can carry.
            raise InvalidValue("is not valid Unicode text (an unpaired surrogate)") from None
    if len(text) > MAX_IDENTIFIER_CHARS:
        raise InvalidValue(f"is longer than {MAX_IDENTIFIER_CHARS} characters")
    return text


def normalize_email(raw: object) -> str:
    email = as_text(raw).lower()
    if not EMAIL_SHAPE.fullmatch(email):
        raise InvalidValue("must be one address of the form name@domain")
    if len(email) > MAX_IDENTIFIER_CHARS:
        # Lowercasing can lengthen text ("İ" -> "i̇"): keep the output a valid input.
        raise InvalidValue(f"is longer than {MAX_IDENTIFIER_CHARS} characters")
    return email


def normalize_phone(raw: object) -> str:
    # Refuse rather than guess: only known separators are removed, never other characters.
    text = as_text(raw)
    # The usual separators removed without the regex; a number with any other character (a tab, a
    # letter) takes the regex, which removes every whitespace character too.
    digits = text.replace(" ", "").replace("-", "").replace("(", "").replace(")", "").replace(".", "")
    digits = digits.removeprefix("+")
    if not (digits.isascii() and digits.isdigit()):
        digits = PHONE_SEPARATORS.sub("", text).removeprefix("+")
    digits = digits.lstrip("0")
    if not PHONE_DIGITS.fullmatch(digits):
        raise InvalidValue("must be 8-15 digits after removing spaces, ( ) . - a leading + and leading zeros")
    return digits


def normalize_external_id(raw: object) -> str:
    return as_text(raw)


def normalize_name(raw: object) -> str:
    """First or last name: lowercase, without whitespace or ASCII punctuation; other letters kept as they are."""
    lowered = as_text(raw).lower()
    # Letters are never whitespace or punctuation: a name of letters only, the common case, loses nothing.
    name = lowered
    if not lowered.isalpha():
        name = "".join(c for c in lowered if not c.isspace() and c not in ASCII_PUNCTUATION)
    if not name:
        raise InvalidValue("has nothing left after removing whitespace and punctuation")
    if len(name) > MAX_IDENTIFIER_CHARS:
        # Lowercasing can lengthen text ("İ" -> "i̇"): keep the output a valid input.
        raise InvalidValue(f"is longer than {MAX_IDENTIFIER_CHARS} characters")
    return name


def normalize_country(raw: object) -> str:
    country = as_text(raw)
    # Two ASCII letters (an ISO 3166-1 alpha-2 code in any case).
    if not (len(country) == 2 and country.isascii() and country.isalpha()):
        raise InvalidValue("must be a two-letter ISO 3166-1 alpha-2 code")
    return country.upper()


def normalize_city(raw: object) -> str:
    city = as_text(raw).lower()
    # In printable text the only whitespace is the plain space: without a double one there is nothing to fold.
    if "  " in city or not city.isprintable():
        city = WHITESPACE.sub(" ", city)
    if len(city) > MAX_CITY_CHARS:
        raise InvalidValue(f"must be at most {MAX_CITY_CHARS} characters")
    return city


def normalize_region(raw: object) -> str:
    # A state or province follows the city's rule (docs/wire-contract.md: trim, at most 128 characters).
    return normalize_city(raw)


def normalize_zip(raw: object) -> str:
    text = as_text(raw)
    # ASCII letters and digits only, the common case: nothing to drop, and at least one of them.
    postal_code = text if text.isascii() and text.isalnum() else POSTAL_CODE_DROPPED.sub("", text).strip()
    if not POSTAL_CODE_ALNUM.search(postal_code):
        raise InvalidValue("has no letters or digits")
    if len(postal_code) > MAX_POSTAL_CODE_CHARS:
        raise InvalidValue(f"must be at most {MAX_POSTAL_CODE_CHARS} characters")
    return postal_code


def normalize_ip_address(raw: object) -> str:
    text = as_text(raw)
    if ":" in text:  # IPv6: no IPv4 address has a colon
        try:  # the C library's parser and RFC 5952 printer, ten times faster than ipaddress's
            return socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, text))
        except (OSError, ValueError):
            pass  # e.g. a scoped address (fe80::1%eth0): ipaddress decides
    elif IPV4_CANONICAL.fullmatch(text):
        return text  # the common case, already in canonical form: skips ipaddress's slower parse
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise InvalidValue("must be an IPv4 or IPv6 address") from None


def normalize_user_agent(raw: object) -> str:
    return as_text(raw)


def normalize_advertising_id(raw: object) -> str:
    advertising_id = as_text(raw).lower()
    if not ADVERTISING_ID.fullmatch(advertising_id):
        raise InvalidValue("must be a UUID (8-4-4-4-12 hexadecimal digits)")
    if advertising_id == ZERO_ADVERTISING_ID:
        raise InvalidValue("is all zeros (ad tracking limited on the device), which OpenAI ignores")
    return advertising_id


def normalize_obref(raw: object) -> str:
    # The Pixel's opaque first-party id: passed through unchanged, like oppref.
    if not isinstance(raw, str):
        raise InvalidValue("must be a string")
    if not raw.strip():
        raise InvalidValue("is blank")
    if len(raw) > MAX_OPAQUE_CHARS:
        raise InvalidValue(f"must be at most {MAX_OPAQUE_CHARS} characters")
    return raw


#: The fields sent as they are (after their rule): geo values, device and network ids.
PLAIN: dict[str, Callable[[object], str]] = {
    "country": normalize_country,
    "region": normalize_region,
    "city": normalize_city,
    "zip": normalize_zip,
    "android_advertising_id": normalize_advertising_id,
    "obref": normalize_obref,
    "ip_address": normalize_ip_address,
    "user_agent": normalize_user_agent,
}


#: The form each field takes right before SHA-256. OpenAI takes no hashed geo values any more.
BEFORE_HASH: dict[str, Callable[[object], str]] = {
    "email": normalize_email,
    "phone": normalize_phone,
    "external_id": normalize_external_id,
    # The seed's External ID (raw): OpenAI takes no raw external id, so it is hashed like the others.
    "external_id_raw": normalize_external_id,
    "first_name": normalize_name,
    "last_name": normalize_name,
}

HASHABLE_FIELDS = tuple(BEFORE_HASH)


def _hasher(field: str) -> Callable[[object], str]:
    """The function that normalizes a raw `field` value and returns its SHA-256 hex digest."""
    before_hash = BEFORE_HASH[field]
    already_hashed = f"already looks like a SHA-256 hash: map it to {field.removesuffix('_raw')}_sha256 instead"

    def hash_value(raw: object) -> str:
        # Hashing a hash would send a value OpenAI can never match. Only ASCII hex digits lowercase to hex
        # digits, so only a 64-character value can be one: the others skip the lowercasing and the regex.
        if (
            isinstance(raw, str)
            and len(text := raw.strip()) == _SHA256_HEX_CHARS
            and SHA256_HEX.fullmatch(text.lower())
        ):
            raise InvalidValue(already_hashed)
        return hashlib.sha256(before_hash(raw).encode("utf-8")).hexdigest()

    return hash_value


#: Field -> its hashing function, built once (user fields are hashed for every event).
HASHERS: dict[str, Callable[[object], str]] = {field: _hasher(field) for field in BEFORE_HASH}


def hash_identifier(field: str, raw: object) -> str:
    """Normalize a raw identifier and return its SHA-256 hex digest."""
    return HASHERS[field](raw)


def check_prehashed(raw: object) -> str:
    """A value the caller hashed: validated and lowercased, never hashed again."""
    digest = as_text(raw).lower()
    if not SHA256_HEX.fullmatch(digest):
        raise InvalidValue("must be a SHA-256 digest: 64 hexadecimal characters")
    return digest


def normalize_plain(field: str, raw: object) -> str:
    return PLAIN[field](raw)
