"""Against a peer: the purchase's user data normalized and hashed by us and by Meta's facebook_business SDK."""

from __future__ import annotations

from connector.core import normalize

from bench.timing import paired

#: The purchase shape's identifiers, raw as Tealium sends them; every one is hashed on both sides.
EMAILS = [" Ada@Example.COM ", "ada.lovelace@example.org"]
PHONES = ["+40 746 123 456", "001 (555) 123-4567"]
EXTERNAL_IDS = ["  CUST-00042  "]
COUNTRY, CITY, ZIP = "us", "New York", "10001"
CALLS = 2000


def run() -> dict:
    try:
        from facebook_business.adobjects.serverside.normalize import Normalize
        from facebook_business.adobjects.serverside.user_data import UserData
    except ImportError:
        return {"skipped": "facebook_business is not installed: pip install -r bench/requirements.txt"}

    fields = [("email", v) for v in EMAILS] + [("phone", v) for v in PHONES]
    fields += [("external_id", v) for v in EXTERNAL_IDS] + [("country", COUNTRY), ("city", CITY), ("zip", ZIP)]

    def ours() -> dict[str, list[str]]:
        lists: dict[str, list[str]] = {}
        for field, raw in fields:
            if field in normalize.BEFORE_HASH:
                digest = normalize.hash_identifier(field, raw)
            else:  # geo goes to OpenAI plain now (normalize.PLAIN): hashed here too, so each side makes 8 digests
                digest = normalize.sha256_hex(normalize.normalize_plain(field, raw))
            target = lists.setdefault(field, [])
            if digest not in target:
                target.append(digest)
        return lists

    def meta() -> dict:
        user = UserData(
            emails=EMAILS,
            phones=PHONES,
            external_ids=EXTERNAL_IDS,
            cities=[CITY],
            zip_codes=[ZIP],
            country_codes=[COUNTRY],
        )
        payload = user.normalize()
        # UserData.normalize dedups external ids without hashing them; hash them so both sides do 8 digests.
        payload["external_id"] = [Normalize.hash_sha_256(v.strip()) for v in payload["external_id"]]
        return payload

    if len(meta()["em"]) != len(ours()["email"]):
        raise RuntimeError("peer benchmark: the two sides disagree on the inputs")
    times = paired({"ours": ours, "meta": meta}, CALLS)
    return {
        "digests": len(fields),
        "us_per_user_ours": times["ours"] * 1e6,
        "us_per_user_meta": times["meta"] * 1e6,
        "ratio": times["ours"] / times["meta"],
        "target": 1.0,
    }
