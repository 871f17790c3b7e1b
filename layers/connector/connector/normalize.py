"""Normalization and SHA-256 hashing of user identifiers, as openai-events-api.md specifies.

Each rule is keyed by the setup guide's field name (email, phone, external_id, country,
city, zip). A value that breaks a rule raises `InvalidValue` with a reason that never
repeats the value, so the message is safe to log and to return to the caller.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
from collections.abc import Callable

from connector.errors import InvalidValue

#: A pre-hashed value, after trim and lowercase.
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
#: Separators a phone number may carry; anything else (letters, "ext.", "#") is refused.
PHONE_SEPARATORS = re.compile(r"[\s().\-]")
PHONE_DIGITS = re.compile(r"[0-9]{8,15}")
EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+")
COUNTRY_CODE = re.compile(r"[A-Za-z]{2}")
#: Characters a postal code keeps (the contract: ASCII letters, digits, spaces, hyphens).
POSTAL_CODE_DROPPED = re.compile(r"[^A-Za-z0-9 \-]")
POSTAL_CODE_ALNUM = re.compile(r"[A-Za-z0-9]")
WHITESPACE = re.compile(r"\s+")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
#: A dotted-quad IPv4 address exactly as ipaddress would print it (no leading zeros).
IPV4_CANONICAL = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")

MAX_CITY_CHARS = 128
MAX_POSTAL_CODE_CHARS = 32
MAX_IDENTIFIER_CHARS = 1024


def sha256_hex(normalized: str) -> str:
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def as_text(raw: object) -> str:
    """Tealium sends numbers for zip codes and phones as often as strings."""
    if isinstance(raw, bool) or not isinstance(raw, str | int):
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
    digits = PHONE_SEPARATORS.sub("", as_text(raw)).removeprefix("+").lstrip("0")
    if not PHONE_DIGITS.fullmatch(digits):
        raise InvalidValue("must be 8-15 digits after removing spaces, ( ) . - a leading + and leading zeros")
    return digits


def normalize_external_id(raw: object) -> str:
    return as_text(raw)


def normalize_country(raw: object) -> str:
    country = as_text(raw)
    if not COUNTRY_CODE.fullmatch(country):
        raise InvalidValue("must be a two-letter ISO 3166-1 alpha-2 code")
    return country.upper()


def normalize_city(raw: object) -> str:
    city = WHITESPACE.sub(" ", as_text(raw).lower())
    if len(city) > MAX_CITY_CHARS:
        raise InvalidValue(f"must be at most {MAX_CITY_CHARS} characters")
    return city


def normalize_zip(raw: object) -> str:
    postal_code = POSTAL_CODE_DROPPED.sub("", as_text(raw)).strip()
    if not POSTAL_CODE_ALNUM.search(postal_code):
        raise InvalidValue("has no letters or digits")
    if len(postal_code) > MAX_POSTAL_CODE_CHARS:
        raise InvalidValue(f"must be at most {MAX_POSTAL_CODE_CHARS} characters")
    return postal_code


def normalize_ip_address(raw: object) -> str:
    text = as_text(raw)
    if IPV4_CANONICAL.fullmatch(text):
        return text  # the common case, already in canonical form: skips ipaddress's slower parse
    if ":" in text:
        try:  # the C library's parser and RFC 5952 printer, ten times faster than ipaddress's
            return socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, text))
        except (OSError, ValueError):
            pass  # e.g. a scoped address (fe80::1%eth0): ipaddress decides
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise InvalidValue("must be an IPv4 or IPv6 address") from None


def normalize_user_agent(raw: object) -> str:
    return as_text(raw)


#: The plain (unhashed) form of each field that can be sent without hashing.
PLAIN: dict[str, Callable[[object], str]] = {
    "country": normalize_country,
    "city": normalize_city,
    "zip": normalize_zip,
    "external_id_raw": normalize_external_id,
    "ip_address": normalize_ip_address,
    "user_agent": normalize_user_agent,
}


def _lower_no_spaces(value: str) -> str:
    return value.lower().replace(" ", "")


#: The form each field takes right before SHA-256 ("New York" -> "newyork" for the geo fields).
BEFORE_HASH: dict[str, Callable[[object], str]] = {
    "email": normalize_email,
    "phone": normalize_phone,
    "external_id": normalize_external_id,
    "country": lambda raw: normalize_country(raw).lower(),
    "city": lambda raw: _lower_no_spaces(normalize_city(raw)),
    "zip": lambda raw: _lower_no_spaces(normalize_zip(raw)),
}

HASHABLE_FIELDS = tuple(BEFORE_HASH)


def hash_identifier(field: str, raw: object) -> str:
    """Normalize a raw identifier and return its SHA-256 hex digest."""
    if isinstance(raw, str) and SHA256_HEX.fullmatch(raw.strip().lower()):
        # Hashing a hash would send a value OpenAI can never match.
        raise InvalidValue(f"already looks like a SHA-256 hash: map it to {field}_sha256 instead")
    return sha256_hex(BEFORE_HASH[field](raw))


def check_prehashed(raw: object) -> str:
    """A value the caller hashed: validated and lowercased, never hashed again."""
    digest = as_text(raw).lower()
    if not SHA256_HEX.fullmatch(digest):
        raise InvalidValue("must be a SHA-256 digest: 64 hexadecimal characters")
    return digest


def normalize_plain(field: str, raw: object) -> str:
    return PLAIN[field](raw)
