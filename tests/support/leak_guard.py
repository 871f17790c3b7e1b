"""The raw personal data, oppref and keys the test suite feeds in: none may appear in captured output."""

from __future__ import annotations

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

LEAKS: list[str] = []


def find(text: str) -> list[str]:
    return [value for value in FORBIDDEN if value in text]


def scan(nodeid: str, text: str) -> None:
    for value in find(text):
        line = f"{nodeid}: captured output contains {value!r}"
        if line not in LEAKS:
            LEAKS.append(line)
