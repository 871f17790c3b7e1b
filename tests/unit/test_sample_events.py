"""The sample events in events/tealium/, end to end through the bundled actions, against their expected wire events.

The expected files were generated once and then checked field by field against the
contract (docs/wire-contract.md); the hashes are the contract's test vectors.
"""

from __future__ import annotations

import json

import pytest
from connector.core.pipeline import prepare_events

from tests.support.core import (
    EMAIL_ADA_SHA256,
    EMAIL_USER_SHA256,
    EXTERNAL_ID_SHA256,
    FIRST_NAME_JOSE_SHA256,
    LAST_NAME_STEFANESCU_SHA256,
    NOW_MS,
    PHONE_RO_SHA256,
    bundled_actions,
    sample_settings,
)
from tests.support.repo import load_event

SAMPLES = [
    ("purchase-event.json", "purchase", "purchase-event.expected.json"),
    ("visitor.json", "trial_started", "visitor.expected.json"),
    ("pageview-event.json", "page_view", "pageview-event.expected.json"),
]


def prepare(sample: str, action: str):
    [prepared] = prepare_events(bundled_actions()[action], [load_event(f"tealium/{sample}")], sample_settings(), NOW_MS)
    return prepared


@pytest.mark.parametrize("sample, action, expected", SAMPLES)
def test_sample_gives_exactly_the_expected_wire_event(sample, action, expected):
    prepared = prepare(sample, action)
    assert prepared.errors == [] and prepared.warnings == []
    assert prepared.event == load_event(f"tealium/{expected}")
    assert json.loads(prepared.encoded) == load_event(f"tealium/{expected}")


def test_purchase_sample_hashes_are_the_contract_vectors():
    user = load_event("tealium/purchase-event.expected.json")["user"]
    assert user["emails_sha256"] == [EMAIL_ADA_SHA256]  # " Ada@Example.COM "
    assert user["phone_numbers_sha256"] == [PHONE_RO_SHA256]  # "+40 746 123 456"
    assert user["external_ids_sha256"] == [EXTERNAL_ID_SHA256]  # "  CUST-00042  "
    assert user["first_names_sha256"] == [FIRST_NAME_JOSE_SHA256]  # "José"
    assert user["last_names_sha256"] == [LAST_NAME_STEFANESCU_SHA256]  # "Ștefănescu"


def test_purchase_sample_amounts_are_minor_units():
    data = load_event("tealium/purchase-event.expected.json")["data"]
    assert (data["amount"], data["currency"]) == (12999, "USD")  # "129.99" "usd"
    assert [(item["quantity"], item["amount"]) for item in data["contents"]] == [(2, 2500), (1, 7999)]
    assert sum(item["quantity"] * item["amount"] for item in data["contents"]) == data["amount"]


def test_visitor_sample_hashes_are_the_contract_vectors():
    user = load_event("tealium/visitor.expected.json")["user"]
    assert user["emails_sha256"] == [EMAIL_USER_SHA256]  # "user@example.com"
    assert user["external_ids_sha256"] == [EXTERNAL_ID_SHA256]  # "CUST-00042"


def test_pageview_sample_carries_no_retail_data():
    data = load_event("tealium/pageview-event.expected.json")["data"]
    assert data == {"type": "contents"}
