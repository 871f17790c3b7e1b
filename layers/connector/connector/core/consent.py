"""Consent as Tealium writes it: the Consent Manager's CONSENTMGR cookie, or a list of granted categories.

An action with `consent_categories` (docs/actions.md: Consent) reads the value at its `consent_attribute` in
any of the forms Tealium gives it:

- the `CONSENTMGR` cookie (`cp.CONSENTMGR`): `consent:true|ts:1762183974556|c1:1|c3:0|...`, plain or
  percent-encoded (`%7C` for `|`, `%3A` for `:`); `cN:1` grants category N, `cN:0` denies it;
  `consent:false` (the visitor declined) and `dns:true` (a California "do not sell") deny everything;
- a list of granted category names or ids (`["analytics", "display_ads"]`, the Collect tag's
  `consent_categories`), or the same as one text: comma-separated (`"analytics,display_ads"`, how a
  flattened data layer variable carries a list) or a JSON list.

Consent is granted only when every category the action lists is granted; a category the value does not
mention is not granted. A value that is none of these forms is unreadable: no consent, and the caller
warns. Without `consent_categories` the attribute is read by coerce.grants_consent (true, 1, "yes"...).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

#: Tealium Consent Manager's default categories and their numbers (the `cN` keys of CONSENTMGR).
TEALIUM_CATEGORIES: dict[str, int] = {
    "analytics": 1,
    "affiliates": 2,
    "display_ads": 3,
    "search": 4,
    "email": 5,
    "personalization": 6,
    "social": 7,
    "big_data": 8,
    "misc": 9,
    "cookiematch": 10,
    "cdp": 11,
    "mobile": 12,
    "engagement": 13,
    "monitoring": 14,
    "crm": 15,
}
#: A category by id, as CONSENTMGR writes it: `c3` is display_ads.
CATEGORY_ID = re.compile(r"c([1-9][0-9]?)")
#: A category name in a list: what Tealium's names look like (a site may add its own).
_NAME = re.compile(r"[a-z0-9_]+")
_CONSENT_PAIR = re.compile(r"[a-z0-9_]+:[^|]*")
_GRANTED, _DENIED = frozenset({"1", "true"}), frozenset({"0", "false"})


@dataclass(frozen=True)
class Consent:
    """What a consent value says: granted or not, and why it could not be read (never the value)."""

    granted: bool
    problem: str | None = None


NOT_READABLE = Consent(False, "cannot be read as Tealium consent (a CONSENTMGR value or a list of categories)")
MISSING = Consent(False, "is missing")


def category_number(name: str) -> int | None:
    """The number of a category given by name (`display_ads`) or id (`c3`), else None."""
    name = name.strip().lower()
    found = CATEGORY_ID.fullmatch(name)
    return int(found.group(1)) if found else TEALIUM_CATEGORIES.get(name)


def read_consent(raw: object, required: Iterable[int]) -> Consent:
    """Whether `raw`, as Tealium writes consent, grants every one of the `required` category numbers."""
    if isinstance(raw, str):
        text = _decoded(raw.strip())
        if not text:
            return MISSING
        if ":" in text:
            return _read_consentmgr(text, required)
        if text.startswith("["):
            try:
                raw = json.loads(text)
            except ValueError:
                return NOT_READABLE
            return read_consent(raw, required) if isinstance(raw, list) else NOT_READABLE
        return _read_granted_list(text.split(","), required)
    if isinstance(raw, list | tuple):
        return _read_granted_list(raw, required)
    return MISSING if raw is None else NOT_READABLE


def _decoded(text: str) -> str:
    for _ in range(2):  # a cookie value percent-encoded once, or twice by a URL that carried it
        if "%" not in text:
            break
        text = unquote(text)
    return text


def _read_consentmgr(text: str, required: Iterable[int]) -> Consent:
    pairs = [pair for pair in text.lower().split("|") if pair.strip()]  # a trailing `|` is no pair
    if not all(_CONSENT_PAIR.fullmatch(pair.strip()) for pair in pairs):
        return NOT_READABLE
    granted: set[int] = set()
    denied_all = False
    for pair in pairs:
        key, _, value = pair.strip().partition(":")
        value = value.strip()
        if key == "consent":
            if value not in _GRANTED | _DENIED:
                return NOT_READABLE
            denied_all = denied_all or value in _DENIED
        elif key == "dns":
            if value not in _GRANTED | _DENIED:
                return NOT_READABLE
            denied_all = denied_all or value in _GRANTED  # "do not sell": true denies
        elif found := CATEGORY_ID.fullmatch(key):
            if value not in _GRANTED | _DENIED:
                return NOT_READABLE
            if value in _GRANTED:
                granted.add(int(found.group(1)))
        # other keys (ts, v, ...) say nothing about consent
    return Consent(not denied_all and all(number in granted for number in required))


def _read_granted_list(items: Iterable[object], required: Iterable[int]) -> Consent:
    granted: set[int] = set()
    for item in items:
        if not isinstance(item, str) or not _NAME.fullmatch(item.strip().lower()):
            return NOT_READABLE
        number = category_number(item)
        if number is not None:
            granted.add(number)
    return Consent(all(number in granted for number in required))
