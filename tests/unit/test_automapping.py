"""Automapping by Tealium name in every payload kind, errors naming the source attribute, consent, item bounds."""

from __future__ import annotations

import json
from dataclasses import replace
from urllib.parse import quote

import pytest
from connector.core.actions import ActionConfig
from connector.core.mapping import map_event, map_values
from connector.core.pipeline import prepare_events
from connector.core.tealium import MAX_ITEMS_PER_EVENT, parse_body, read_payload

from tests.support.core import NOW_MS, bundled_actions, sample_settings
from tests.support.repo import load_event

NOW_S = str(NOW_MS // 1000)
OPPREF, OBREF = "opp_7Yq-2/x=", "obr_5Kd9"


def action(mappings: dict[str, str] | None = None, **options: object) -> ActionConfig:
    return ActionConfig("a", "realtime", "order_created", mappings=mappings or {}, **options)


def mapped(document: dict, **options: object) -> dict[str, object]:
    return map_values(action(**options), read_payload(document))


def stock_purchase() -> dict:
    """The purchase sample as a stock Tealium setup sends it: the order id only in `_corder`, no oppref variable."""
    document = load_event("tealium/purchase-event.json")
    udo = document["data"]["udo"]
    del udo["order_id"], udo["oppref"]
    return document


def prepare(action_config: ActionConfig, *documents: object):
    return prepare_events(action_config, list(documents), sample_settings(), NOW_MS)


# ---- every payload kind ---------------------------------------------------------------


FLAT = {
    "tealium_timestamp_epoch": NOW_S,
    "dom.url": f"https://shop.example.com/?oppref={quote(OPPREF)}",
    "client_ip": "203.0.113.9",
    "useragent": "UA/1.0",
    "_corder": "ORD-FLAT",
    "cp.__obref": OBREF,
    "_csubtotal": "10.00",
    "_ccurrency": "EUR",
}
EXPECTED_FLAT = {
    "id": "ORD-FLAT",
    "timestamp_ms": NOW_S,
    "source_url": FLAT["dom.url"],
    "ip_address": "203.0.113.9",
    "user_agent": "UA/1.0",
    "obref": OBREF,
    "oppref": OPPREF,
    "amount_major": "10.00",
    "currency": "EUR",
}


def test_flat_attributes_are_automapped_by_the_same_names():
    assert mapped(FLAT) == EXPECTED_FLAT


def test_form_data_field_carries_a_flat_object_that_is_automapped():
    [document] = parse_body("data=" + quote(json.dumps(FLAT)), "application/x-www-form-urlencoded", None)
    assert mapped(document) == EXPECTED_FLAT


def test_flat_timestamp_in_milliseconds_and_as_a_number_reaches_the_wire():
    document = {**FLAT, "tealium_timestamp_epoch": NOW_MS}
    [prepared] = prepare(action(), document)
    assert prepared.errors == [] and prepared.event["timestamp_ms"] == NOW_MS


def test_flat_object_without_tealium_timestamp_falls_back_to_post_time():
    document = {key: value for key, value in FLAT.items() if key != "tealium_timestamp_epoch"}
    assert mapped({**document, "post_time": NOW_MS})["timestamp_ms"] == NOW_MS


def test_event_json_reads_query_parameters_and_cookies_from_the_data_layer():
    document = stock_purchase()
    document["data"]["udo"].update({"qp.oppref": OPPREF, "cp.__obref": OBREF})
    values = mapped(document)
    assert (values["id"], values["oppref"], values["obref"]) == ("ORD-10042", OPPREF, OBREF)


def test_event_json_reads_pixel_cookies_from_firstparty_tealium_cookies():
    document = stock_purchase()
    del document["data"]["udo"]["cp.__obref"]  # the cookie only where Tealium's first-party cookie list has it
    document["data"]["firstparty_tealium_cookies"].update({"__oppref": OPPREF, "__obref": OBREF})
    values = mapped(document)
    assert (values["oppref"], values["obref"]) == (OPPREF, OBREF)


def test_visitor_json_reads_the_last_event_url_and_cookies():
    document = load_event("tealium/visitor.json")
    last = document["current_visit"]["last_event"]
    last["data"]["dom"]["url"] = f"https://app.example.com/signup/trial?utm_source=x&oppref={quote(OPPREF)}"
    last["data"]["firstparty_tealium_cookies"] = {"__obref": OBREF}
    values = mapped(document)
    assert (values["id"], values["oppref"], values["obref"]) == (last["event_id"], OPPREF, OBREF)


@pytest.mark.parametrize(
    "udo, cookies, url_query, expected",
    [
        ({"qp.oppref": "from-qp"}, {"__oppref": "from-cookie"}, "oppref=from-url", "from-qp"),
        ({}, {"__oppref": "from-cookie"}, "oppref=from-url", "from-url"),
        ({"cp.__oppref": "from-cookie"}, {}, "utm_source=x", "from-cookie"),
        ({}, {}, "utm_source=x", None),
        ({"qp.oppref": ""}, {}, "oppref=&a=1", None),
    ],
)
def test_oppref_from_the_query_parameter_then_the_url_then_the_cookie(udo, cookies, url_query, expected):
    document = stock_purchase()
    document["data"]["udo"].update(udo)
    document["data"]["firstparty_tealium_cookies"].update(cookies)
    document["data"]["dom"]["url"] = f"https://shop.example.com/thanks?{url_query}"
    assert mapped(document).get("oppref") == expected


def test_oppref_is_read_from_the_url_the_event_carries():
    document = stock_purchase()
    document["data"]["udo"]["landing"] = f"https://shop.example.com/land?oppref={OPPREF}"
    assert mapped(document, mappings={"source_url": "landing"})["oppref"] == OPPREF


def test_event_id_from_corder_else_tealium_event_id():
    document = stock_purchase()
    assert mapped(document)["id"] == "ORD-10042"
    del document["data"]["udo"]["_corder"]
    assert mapped(document)["id"] == document["event_id"]


def test_explicit_mappings_win_and_disable_automapping_turns_all_of_it_off():
    document = stock_purchase()
    document["data"]["udo"].update({"qp.oppref": OPPREF, "cp.__obref": OBREF, "my_ref": "mine", "my_id": "ID-1"})
    explicit = mapped(document, mappings={"id": "my_id", "oppref": "my_ref"})
    assert (explicit["id"], explicit["oppref"], explicit["obref"]) == ("ID-1", "mine", OBREF)
    assert mapped(document, mappings={"id": "my_id"}, disable_automapping=True) == {"id": "ID-1"}


def test_explicit_mapping_by_cookie_name_reads_firstparty_tealium_cookies():
    document = stock_purchase()
    document["data"]["firstparty_tealium_cookies"]["__oppref"] = OPPREF
    assert mapped(document, mappings={"oppref": "cp.__oppref"}, disable_automapping=True) == {"oppref": OPPREF}


def test_the_bundled_purchase_action_less_its_id_mapping_takes_a_stock_tealium_purchase():
    # GIVEN a stock purchase (the order id in _corder only) and the bundled action without its id mapping
    document = stock_purchase()
    document["data"]["firstparty_tealium_cookies"]["__oppref"] = "opp_4f2b9c7e1a"
    bundled = bundled_actions()["purchase"]
    automapped_id = replace(bundled, mappings={k: v for k, v in bundled.mappings.items() if k != "id"})
    # WHEN it is prepared THEN automapping gives the id from _corder and everything else as the sample expects,
    # saying that the oppref the action maps (the data layer's "oppref") came from the Pixel's cookie instead
    [prepared] = prepare(automapped_id, document)
    assert prepared.errors == []
    assert [str(i) for i in prepared.warnings] == [
        'oppref: the mapped attribute "oppref" is missing: automapping filled it from "cp.__oppref"'
    ]
    assert prepared.event == load_event("tealium/purchase-event.expected.json")


def test_a_mapped_id_the_event_lacks_is_never_filled_from_corder_or_event_id():
    # GIVEN the bundled purchase action (id mapped to order_id) and a stock purchase with _corder and event_id
    document = stock_purchase()
    # WHEN it is prepared
    [prepared] = prepare(bundled_actions()["purchase"], document)
    # THEN it is refused, naming the mapped attribute only: another id could count the order twice
    assert [str(i) for i in prepared.errors] == [
        'id: is required; the action reads it from "order_id", which this event does not have'
    ]
    assert prepared.event is None and prepared.event_id is None


@pytest.mark.parametrize(
    "mappings, udo, field, reason",
    [
        (
            {"source_url": "landing_url"},
            {},
            "source_url",
            'the mapped attribute "landing_url" is missing: automapping filled it from "dom.url"',
        ),
        (
            {"amount": "order_total_cents"},
            {},
            "data.amount",
            'the mapped attribute "order_total_cents" is missing: automapping filled it from "_csubtotal"',
        ),
        (
            {"obref": "my_obref"},
            {"cp.__obref": OBREF},
            "user.obref",
            'the mapped attribute "my_obref" is missing: automapping filled it from "cp.__obref"',
        ),
        (
            {"oppref": "campaign_ref"},
            {"qp.oppref": OPPREF},
            "oppref",
            'the mapped attribute "campaign_ref" is missing: automapping filled it from "qp.oppref"',
        ),
    ],
)
def test_a_mapped_field_automapping_fills_carries_a_warning(mappings, udo, field, reason):
    document = stock_purchase()
    document["data"]["udo"].update(udo)
    [prepared] = prepare(action(mappings), document)
    assert prepared.ok
    assert [i.as_dict() for i in prepared.warnings] == [{"field": field, "reason": reason}]


# ---- errors name the attribute, never the value ---------------------------------------


def test_a_missing_mapped_id_names_the_attribute_the_action_reads():
    document = stock_purchase()
    del document["data"]["udo"]["_corder"], document["event_id"]
    [prepared] = prepare(action({"id": "order_ref"}, disable_automapping=True), document)
    assert [i.as_dict() for i in prepared.errors if i.field == "id"] == [
        {"field": "id", "reason": 'is required; the action reads it from "order_ref", which this event does not have'}
    ]


def test_a_missing_automapped_id_names_the_automapped_attributes():
    document = stock_purchase()
    del document["data"]["udo"]["_corder"], document["event_id"]
    [prepared] = prepare(action({"timestamp_ms": "order_time"}), document)
    assert [str(i) for i in prepared.errors] == [
        'id: is required; the action reads it from "_corder" or "event_id", none of which this event has'
    ]


def test_an_unmapped_field_with_automapping_off_says_to_map_it():
    [prepared] = prepare(action({"id": "x"}, disable_automapping=True), {"x": "1"})
    assert "timestamp_ms: is required; the action maps no attribute to it: add actions.a.mappings.timestamp_ms" in [
        str(i) for i in prepared.errors
    ]


@pytest.mark.parametrize(
    "udo, field, attribute",
    [
        ({"_csubtotal": "129,99"}, "data.amount", "_csubtotal"),
        ({"_cprice": ["25,00", "79.99"]}, "data.contents[0].amount", "_cprice"),
        ({"_cquan": ["two", "1"]}, "data.contents[0].quantity", "_cquan"),
        ({"_ccurrency": "euro"}, "data.currency", "_ccurrency"),
        ({"tealium_timestamp_epoch": "yesterday"}, "timestamp_ms", "tealium_timestamp_epoch"),
    ],
)
def test_an_unusable_automapped_value_names_its_attribute_not_its_value(udo, field, attribute):
    document = stock_purchase()
    document["data"]["udo"].update(udo)
    [prepared] = prepare(bundled_actions()["purchase"], document)
    [issue] = [i for i in prepared.errors if i.field == field]
    assert issue.reason.endswith(f'; read from "{attribute}"')
    for value in udo.values():
        assert str(value if isinstance(value, str) else value[0]) not in str(issue)


def test_an_ambiguous_amount_is_refused_saying_how_to_declare_the_format():
    document = stock_purchase()
    document["data"]["udo"].update({"_csubtotal": "1.299,00", "_ccurrency": "EUR"})
    [prepared] = prepare(bundled_actions()["purchase"], document)
    [issue] = [i for i in prepared.errors if i.field == "data.amount"]
    assert 'decimal_separator to ","' in issue.reason and '"_csubtotal"' in issue.reason


def test_a_dropped_user_value_names_its_attribute():
    document = stock_purchase()
    document["data"]["udo"].update(customer_email="not an address", order_id="ORD-10042")
    [prepared] = prepare(bundled_actions()["purchase"], document)
    assert prepared.errors == []
    [issue] = [i for i in prepared.warnings if i.field == "user.email"]
    assert issue.reason.endswith('; read from "customer_email"') and "address" in issue.reason


# ---- decimal comma -------------------------------------------------------------------


def test_a_decimal_comma_action_reads_amounts_and_item_prices():
    document = stock_purchase()
    document["data"]["udo"].update({"_csubtotal": "1.299,50", "_ccurrency": "EUR", "_cprice": ["25,00", "1.249,50"]})
    document["data"]["udo"]["_cquan"] = ["2", "1"]
    [prepared] = prepare(action(decimal_separator=","), document)
    assert prepared.errors == []
    data = prepared.event["data"]
    assert (data["amount"], data["currency"]) == (129950, "EUR")
    assert [item["amount"] for item in data["contents"]] == [2500, 124950]


# ---- bounded content items -----------------------------------------------------------


def test_items_beyond_the_limit_are_dropped_with_a_warning():
    document = stock_purchase()
    document["data"]["udo"].update(
        {"_csku": ",".join(f"S{i}" for i in range(2500)), "_cprod": "", "_cprice": ["1.00"] * 3000}
    )
    document["data"]["udo"].update({"_cprodname": "", "_ccat": "", "_cquan": "", "_csubtotal": "1000.00"})
    found = map_event(action(), read_payload(document))
    assert len(found.values["contents"]) == MAX_ITEMS_PER_EVENT
    assert found.values["contents"][-1]["id"] == f"S{MAX_ITEMS_PER_EVENT - 1}"
    [warning] = found.warnings
    assert warning.field == "data.contents" and "2000 more" in warning.reason and "_cprice" in warning.reason


def test_a_mapped_contents_list_is_bounded_too():
    items = [{"id": f"S{i}", "quantity": 1} for i in range(MAX_ITEMS_PER_EVENT + 5)]
    found = map_event(action({"contents": "cart"}), read_payload({"cart": items}))
    assert len(found.values["contents"]) == MAX_ITEMS_PER_EVENT
    assert [w.field for w in found.warnings] == ["data.contents"] and "5 more in cart" in found.warnings[0].reason


def test_exactly_the_limit_keeps_every_item_without_a_warning():
    document = {"_csku": ",".join(["S"] * MAX_ITEMS_PER_EVENT)}
    found = map_event(action(), read_payload(document))
    assert len(found.values["contents"]) == MAX_ITEMS_PER_EVENT and found.warnings == []


# ---- consent -------------------------------------------------------------------------


def consenting(value: object) -> dict:
    document = stock_purchase()
    document["data"]["udo"].update({"consent_marketing": value, "cp.__obref": OBREF, "qp.oppref": OPPREF})
    if value is None:
        del document["data"]["udo"]["consent_marketing"]
    return document


@pytest.mark.parametrize("value", [None, False, "0", "false", "no", "denied", "DENIED", "maybe"])
def test_no_consent_with_skip_sends_nothing_and_says_why(value):
    [prepared] = prepare(action(consent_attribute="consent_marketing"), consenting(value))
    assert prepared.skipped and not prepared.ok and prepared.encoded is None and prepared.errors == []
    assert prepared.event_id == "ORD-10042"
    [issue] = prepared.warnings
    assert issue.field == "consent" and '"consent_marketing" does not grant consent' in issue.reason


def test_no_consent_with_opt_out_sends_opted_out_without_user_data():
    opt_out = action({"email": "customer_email"}, consent_attribute="consent_marketing", on_no_consent="opt_out")
    [prepared] = prepare(opt_out, consenting("denied"))
    assert prepared.ok and not prepared.skipped
    event = prepared.event
    assert event["opt_out"] is True and "user" not in event and "oppref" not in event
    assert event["data"]["amount"] == 12999
    assert event["source_url"] == "https://shop.example.com/checkout/thank-you"
    for text in (OBREF, OPPREF, "obref", "oppref"):
        assert text.encode() not in prepared.encoded


def test_an_opted_out_event_warns_about_no_field_it_does_not_send():
    # GIVEN an action mapping oppref to a data layer variable the event lacks (the Pixel's cookie has one)
    opt_out = action({"oppref": "campaign_ref"}, consent_attribute="consent_marketing", on_no_consent="opt_out")
    document = consenting("no")
    document["data"]["firstparty_tealium_cookies"]["__oppref"] = OPPREF
    # WHEN it is sent opted out THEN no oppref leaves, and no warning speaks of one
    [prepared] = prepare(opt_out, document)
    assert prepared.ok and "oppref" not in prepared.event and prepared.warnings == []


@pytest.mark.parametrize("value", [True, "1", "true", "Yes", "granted"])
def test_granted_consent_sends_the_event_as_usual(value):
    granted = action({"email": "customer_email"}, consent_attribute="consent_marketing", on_no_consent="opt_out")
    [prepared] = prepare(granted, consenting(value))
    assert prepared.ok and "opt_out" not in prepared.event and prepared.event["user"]["emails_sha256"]


def test_the_pixel_obref_cookie_is_sent_as_user_obref():
    document = stock_purchase()
    del document["data"]["udo"]["cp.__obref"]
    document["data"]["firstparty_tealium_cookies"]["__obref"] = OBREF
    [prepared] = prepare(action(), document)
    assert prepared.errors == []
    assert prepared.event["user"]["obref"] == OBREF
