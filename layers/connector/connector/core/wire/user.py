"""The event's `user` object: hashed identifier lists, raw geo lists and single device values."""

from __future__ import annotations

from collections.abc import Callable

from connector.core import normalize
from connector.core.errors import InvalidValue
from connector.core.types import Issue
from connector.core.wire.fields import MAX_USER_LIST_VALUES, SEQUENCE, Builder

#: Mapping key -> OpenAI's hashed user list: the apply-hash column hashes, the `_sha256` column is checked.
HASHED_USER_LISTS: dict[str, str] = {
    "email": "emails_sha256",
    "phone": "phone_numbers_sha256",
    "external_id": "external_ids_sha256",
    "first_name": "first_names_sha256",
    "last_name": "last_names_sha256",
}
#: The seed's External ID (raw): OpenAI takes no raw external id, so it joins the hashed list.
RAW_HASHED_USER_LISTS: dict[str, str] = {"external_id_raw": "external_ids_sha256"}
#: Mapping key -> OpenAI's raw user list ("Send geographic values as raw strings").
PLAIN_USER_LISTS: dict[str, str] = {
    "country": "countries",
    "region": "regions",
    "city": "cities",
    "zip": "postal_codes",
}
#: Single-valued user fields -> OpenAI's name.
USER_SCALARS: dict[str, str] = {
    "android_advertising_id": "android_advertising_id",
    "obref": "obref",
    "ip_address": "ip_address",
    "user_agent": "user_agent",
}
#: The seed's already-hashed geo columns: OpenAI has no field for them, and a hash cannot be unhashed.
REFUSED_USER_FIELDS: dict[str, str] = {"country_sha256": "country", "city_sha256": "city", "zip_sha256": "zip"}


def _add_distinct(b: Builder, target: list[str], wire_name: str, value: str) -> None:
    if value in target:
        return
    if len(target) >= MAX_USER_LIST_VALUES:
        b.warnings.append(Issue(f"user.{wire_name}", f"only the first {MAX_USER_LIST_VALUES} distinct values are sent"))
        return
    target.append(value)


def _user_field_rules() -> dict[str, tuple[str, Callable[[object], str], str | None]]:
    """Mapping key -> (OpenAI's name, its rule, and for a single-valued field the field its warning names),
    in the user object's order: the lists (hashed, then raw), then the single values."""
    rules: dict[str, tuple[str, Callable[[object], str], str | None]] = {}
    for name, hashed_list in HASHED_USER_LISTS.items():
        rules[name] = (hashed_list, normalize.HASHERS[name], None)
        rules[f"{name}_sha256"] = (hashed_list, normalize.check_prehashed, None)
    for name, hashed_list in RAW_HASHED_USER_LISTS.items():
        rules[name] = (hashed_list, normalize.HASHERS[name], None)
    for name, plain_list in PLAIN_USER_LISTS.items():
        rules[name] = (plain_list, normalize.PLAIN[name], None)
    for name, wire_name in USER_SCALARS.items():
        rules[name] = (wire_name, normalize.PLAIN[name], f"user.{name}")
    return rules


USER_FIELD_RULES = _user_field_rules()
#: Every user mapping key.
USER_FIELDS = frozenset(USER_FIELD_RULES)
#: A user field's place in USER_FIELD_RULES: the order of the user object's lists and of their warnings.
_user_position = {key: position for position, key in enumerate(USER_FIELD_RULES)}.__getitem__


def build_user(b: Builder) -> dict[str, object]:
    """The user object: lists, then single values (USER_FIELD_RULES' order); a bad value is dropped and warned."""
    values = b.values
    # Only the user fields the event has are visited (most events map a few of the nineteen), in the
    # order of USER_FIELD_RULES, which is the order of the lists and of their warnings.
    keys = USER_FIELDS.intersection(values)
    user: dict[str, object] = {}
    for key in sorted(keys, key=_user_position) if len(keys) > 1 else keys:
        raw = values[key]
        if raw is None:
            continue
        wire_name, normalizer, scalar_field = USER_FIELD_RULES[key]
        if scalar_field is not None:
            # What b.read(key, scalar_field, normalizer, drop_only=True) does, without the call: None was skipped above.
            if raw == "":
                continue
            try:
                user[wire_name] = normalizer(raw)
            except InvalidValue as problem:
                b.warnings.append(Issue(scalar_field, str(problem)))
            continue
        if type(raw) is str and wire_name not in user:
            # One text value for a list not started yet, the common case: what the loop below does, in short.
            if raw.strip():
                try:
                    user[wire_name] = [normalizer(raw)]
                except InvalidValue as problem:
                    b.warnings.append(Issue(f"user.{key}", str(problem)))
            continue
        for item in raw if isinstance(raw, SEQUENCE) else (raw,):
            if item is None or (isinstance(item, str) and not item.strip()):
                continue  # docs/wire-contract.md: empty or null values are ignored
            try:
                value = normalizer(item)
            except InvalidValue as problem:
                b.warnings.append(Issue(f"user.{key}", str(problem)))
                continue
            found = user.setdefault(wire_name, [])
            if len(found) < MAX_USER_LIST_VALUES and value not in found:
                found.append(value)
            else:  # a repeat, or one too many (warned)
                _add_distinct(b, found, wire_name, value)
    return user
