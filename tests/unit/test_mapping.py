"""mapping: explicit mappings first, Tealium automapping fills only the blanks."""

from __future__ import annotations

import pytest
from connector.core.actions import ActionConfig
from connector.core.mapping import map_values
from connector.core.tealium import read_payload

from tests.support.repo import load_event

PURCHASE = load_event("tealium/purchase-event.json")


def action(mappings: dict[str, str], disable_automapping: bool = False) -> ActionConfig:
    return ActionConfig("a", "realtime", "order_created", mappings=mappings, disable_automapping=disable_automapping)


def test_explicit_mappings_win_over_automapping():
    # GIVEN an action mapping the fields automapping would also fill
    mappings = {
        "source_url": "page_url.domain",
        "ip_address": "data.dom.domain",
        "currency": "order_id",
        "timestamp_ms": "post_time",
    }
    # WHEN the purchase sample is mapped
    values = map_values(action(mappings), read_payload(PURCHASE))
    # THEN the explicit values are kept and automapping fills the rest
    assert values["source_url"] == "shop.example.com"
    assert values["ip_address"] == "shop.example.com"
    assert values["currency"] == "ORD-10042"
    assert values["timestamp_ms"] == 1795000000000
    assert values["user_agent"] == PURCHASE["useragent"]
    assert values["amount_major"] == "129.99"


def test_automapping_fills_only_the_blanks():
    values = map_values(action({"id": "order_id", "email": "customer_email"}), read_payload(PURCHASE))
    assert values == {
        "id": "ORD-10042",
        "email": " Ada@Example.COM ",
        "timestamp_ms": "1795000000",
        "source_url": "https://shop.example.com/checkout/thank-you?order=ORD-10042",
        "ip_address": "203.0.113.42",
        "user_agent": PURCHASE["useragent"],
        "amount_major": "129.99",
        "currency": "usd",
        "contents": values["contents"],
        "obref": "ob_7d2e9a41c0",  # the sample's cp.__obref cookie
    }
    assert len(values["contents"]) == 2


def test_disable_automapping_turns_automapping_off():
    values = map_values(
        action({"id": "order_id", "email": "customer_email"}, disable_automapping=True), read_payload(PURCHASE)
    )
    assert values == {"id": "ORD-10042", "email": " Ada@Example.COM "}


@pytest.mark.parametrize("blank", [None, "", []])
def test_unmapped_and_empty_values_are_skipped(blank):
    payload = read_payload({"order_id": "A", "blank": blank})
    values = map_values(
        action({"id": "order_id", "email": "blank", "phone": "not_there"}, disable_automapping=True), payload
    )
    assert values == {"id": "A"}


def test_an_empty_explicit_value_lets_automapping_fill_the_field():
    payload = read_payload({"client_ip": "10.0.0.1", "ip": ""})
    assert map_values(action({"ip_address": "ip"}), payload)["ip_address"] == "10.0.0.1"


def test_false_and_zero_are_values_not_blanks():
    payload = read_payload({"flag": False, "cents": 0})
    values = map_values(action({"opt_out": "flag", "amount": "cents"}, disable_automapping=True), payload)
    assert values == {"opt_out": False, "amount": 0}
