"""The raw personal data, oppref and keys the test suite feeds in: none may appear where it must not.

Checked everywhere the connector writes (tests/conftest.py wires it in):

- captured output and log records of every test (`scan`): none of FORBIDDEN;
- every answer a handler gives through tests/support/loopback.call (`scan_answer`): none of FORBIDDEN;
- every request body OpenAI receives, field by field (source_url, custom data, items, keys and values,
  each also percent-decoded) (`scan_body`): none of NEVER_SENT, nor the raw emails and phone numbers a
  test declared its inputs carried (`carried`). The oppref and obref the samples carry are sent as they
  are, by design (docs/wire-contract.md), so they are not in NEVER_SENT.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from urllib.parse import unquote, unquote_plus

#: Values used as raw inputs in tests and samples (never their normalized hashes, which are safe).
FORBIDDEN = (
    "Ada@Example.COM",
    "ada@example.com",
    "user@example.com",
    "USER@EXAMPLE.COM",
    "+40 746 123 456",
    "40746123456",
    "001 (555) 123-4567",
    "15551234567",
    "CUST-00042",
    "opp_4f2b9c7e1a",
    # names and obref of events/tealium/purchase-event.json and tests/integration/test_contract_end_to_end.py
    "Ștefănescu",
    "ob_7d2e9a41c0",
    "O'Connor",
    "Mary Jane",
    "ob.1.Zx9-kQ",
    "LOYAL-5521-RAW",
    "sk-standin-0123456789abcdef",
    "sk-rotated-fedcba9876543210",
    # tests/integration/test_privacy.py's canaries
    "Canary.Leak+7731@privacy-probe.example",
    "canary.leak+7731@privacy-probe.example",
    "+44 7700 900417",
    "447700900417",
    "EXT-CANARY-55213",
    "opp_canary_9d8c7b6a5f",
    "ob_canary_6e1f0a9b",
    "Canarina-Marie",
    "canarinamarie",
    "Leakwright",
    "leakwright",
    "sk-env-var-ignored-4242aa",
    # tests/integration/test_key_hygiene.py's key, stored with a line break and a note after it
    "Zq8Lw2Nx7Rv4Tb1Ky6Pc3Hd9Mf5",
    # events/tealium/batched-events.json and batched-visitors.json (Tealium's batched webhook samples)
    "mara.ionescu@example.org",
    "Liam.Walsh@Example.NET",
    "liam.walsh@example.net",
    "+40 721 555 010",
    "+44 20 7946 0012",
    "+1 (212) 555-0147",
    "CUST-20001",
    "CUST-20005",
    "opp_b1a2c3d4e5",
    "opp_0a9b8c7d6e",
    "elena.popa@example.org",
    "james.okafor@example.com",
    "CUST-7801",
)

#: Values OpenAI is sent as they are: the samples' and canaries' oppref and obref.
SENT_AS_IS = frozenset(
    {
        "opp_4f2b9c7e1a",
        "ob_7d2e9a41c0",
        "ob.1.Zx9-kQ",
        "opp_canary_9d8c7b6a5f",
        "ob_canary_6e1f0a9b",
        "opp_b1a2c3d4e5",
        "opp_0a9b8c7d6e",
    }
)
#: What no request body may hold, in any field: the raw emails, phone numbers, names, ids (and the keys).
NEVER_SENT = tuple(value for value in FORBIDDEN if value not in SENT_AS_IS)

LEAKS: list[str] = []
#: The raw emails and phone numbers the running test's inputs carried (`carried`); cleared per test.
CARRIED: list[str] = []


def find(text: str) -> list[str]:
    return [value for value in FORBIDDEN if value in text]


def scan(nodeid: str, text: str) -> None:
    for value in find(text):
        line = f"{nodeid}: captured output contains {value!r}"
        if line not in LEAKS:
            LEAKS.append(line)


def carried(*values: str) -> None:
    """Declare raw values the running test feeds in: no request body may hold them either."""
    CARRIED.extend(value for value in values if value and value not in CARRIED)


def _nodeid() -> str:
    return os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" (", 1)[0]


def _record(line: str) -> None:
    if line not in LEAKS:
        LEAKS.append(line)


def scan_answer(text: str) -> list[str]:
    """Record (and return) the forbidden values in a handler's answer."""
    found = find(text)
    for value in found:
        _record(f"{_nodeid()}: an answer contains {value!r}")
    return found


#: What a phone number is written with besides its digits: a body may carry it in any of these shapes.
_PHONE_SEPARATORS = re.compile(r"[\s().+-]")
_PHONE_WRITTEN = re.compile(r"[\d\s().+-]*\d{2}[\d\s().+-]*")


def _never_sent() -> re.Pattern[str]:
    values = {*NEVER_SENT, *CARRIED}
    # a phone number's digits too, found in a text's digits (`+40+746+123+456` in a query is `40746123456`)
    values |= {_PHONE_SEPARATORS.sub("", v) for v in values if _PHONE_WRITTEN.fullmatch(v)}
    ordered = sorted((v for v in values if v), key=len, reverse=True)
    return re.compile("|".join(re.escape(value) for value in ordered), re.IGNORECASE)


def _texts(node: object, path: str = "") -> Iterator[tuple[str, str]]:
    """(field path, text) for every key and string value of a JSON document."""
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            yield here, str(key)
            yield from _texts(value, here)
    elif isinstance(node, list):
        for position, value in enumerate(node):
            yield from _texts(value, f"{path}[{position}]")


def scan_body(body: bytes | str, where: str = "request") -> list[str]:
    """Record (and return) `field: value` for each field of a request body holding a raw value, decoded or not."""
    try:
        document = json.loads(body)
    except ValueError:
        document = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    pattern = _never_sent()
    found = []
    for path, text in _texts(document):
        forms = (text, unquote(text), unquote_plus(text)) if ("%" in text or "+" in text) else (text,)
        for form in (*forms, *(_PHONE_SEPARATORS.sub("", form) for form in forms)):
            match = pattern.search(form)
            if match:
                found.append(f"{path}: {match.group()!r}")
                _record(f"{_nodeid()}: {where} body field {path} contains {match.group()!r}")
                break
    return found
