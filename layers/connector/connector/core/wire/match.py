"""Which match keys a wire event carries: OpenAI's user fields read as booleans, never as values.

The trail (connector/core/trail.py) logs these, so the only place that spells the fields stays this package.
"""

from __future__ import annotations

from collections.abc import Mapping

#: The match keys, in the order the trail and the match report list them.
MATCH_KEYS = ("oppref", "obref", "email", "phone", "external_id", "names", "ip_ua", "android_id")
#: Keys that identify one person or one click on their own: without any, OpenAI can hardly attribute an event.
STRONG_KEYS = ("oppref", "email", "phone", "external_id")


def match_keys(event: Mapping[str, object] | None) -> dict[str, bool]:
    """Match key -> whether the event carries it (a non-empty value). None (no wire event): all False."""
    if not isinstance(event, Mapping):
        return dict.fromkeys(MATCH_KEYS, False)
    user = event.get("user")
    user = user if isinstance(user, Mapping) else {}
    return {
        "oppref": _has(event.get("oppref")),
        "obref": _has(user.get("obref")),
        "email": _has(user.get("emails_sha256")),
        "phone": _has(user.get("phone_numbers_sha256")),
        "external_id": _has(user.get("external_ids_sha256")),
        "names": _has(user.get("first_names_sha256")) or _has(user.get("last_names_sha256")),
        # Together only: OpenAI matches on the pair, not on an IP alone.
        "ip_ua": _has(user.get("ip_address")) and _has(user.get("user_agent")),
        "android_id": _has(user.get("android_advertising_id")),
    }


def has_strong_key(keys: Mapping[str, bool]) -> bool:
    return any(keys.get(name) for name in STRONG_KEYS)


def _has(value: object) -> bool:
    return bool(value) and not isinstance(value, bool)
