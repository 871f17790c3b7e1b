"""tealium: request bodies, payload kinds, attribute lookup and the automapped values."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from connector.core import tealium
from connector.core.errors import InputError

from tests.support.repo import load_event

EVENT = {"account": "acme", "post_time": 1795000000000, "data": {"udo": {"order_id": "ORD-1"}}}

# ---- parse_body ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, content_type, query, expected",
    [
        ('{"a": 1}', "application/json", None, [{"a": 1}]),
        (b'{"a": 1}', None, None, [{"a": 1}]),
        ('[{"a": 1}, {"b": 2}]', "application/json", None, [{"a": 1}, {"b": 2}]),
        ("data=" + quote('{"a": "x y"}'), "application/x-www-form-urlencoded; charset=utf-8", None, [{"a": "x y"}]),
        ("other=1&data=" + quote('[{"a": 1}]'), "application/x-www-form-urlencoded", None, [{"a": 1}]),
        ("", None, {"data": '{"a": 1}'}, [{"a": 1}]),
        (None, None, {"data": '[{"a": 1}]'}, [{"a": 1}]),
        ('{"a": 1.5e3}', None, None, [{"a": 1500.0}]),
        ('"text"', None, None, ["text"]),
    ],
)
def test_parse_body_reads_json_form_and_query(body, content_type, query, expected):
    assert tealium.parse_body(body, content_type, query) == expected


@pytest.mark.parametrize(
    "body, content_type, query, field",
    [
        ("", None, None, "body"),
        ("  \n", None, {"data": ""}, "body"),
        (None, None, None, "body"),
        ("{not json", None, None, "body"),
        (b"\xff\xfe{}", None, None, "body"),
        ('{"a": NaN}', None, None, "body"),
        ('{"a": Infinity}', None, None, "body"),
        ('{"a": -Infinity}', None, None, "body"),
        ('{"a": 1e999}', None, None, "body"),
        ("[" * 100_000 + "]" * 100_000, None, None, "body"),
        ('{"a": ' * 100_000, None, None, "body"),
        ("other=1", "application/x-www-form-urlencoded", None, "body.data"),
        ("data=%7Bbroken", "application/x-www-form-urlencoded", None, "body.data"),
        ("", None, {"data": "{broken"}, "query.data"),
        ("1" * 5000, None, None, "body"),
    ],
)
def test_parse_body_refuses_unreadable_bodies_with_an_input_error(body, content_type, query, field):
    with pytest.raises(InputError) as refused:
        tealium.parse_body(body, content_type, query)
    assert refused.value.field == field
    assert refused.value.reason


def test_deep_nesting_is_refused_with_a_clear_reason():
    with pytest.raises(InputError, match="nested too deeply"):
        tealium.parse_body("[" * 100_000 + "]" * 100_000, "application/json", None)


def test_an_invalid_json_reason_does_not_echo_the_body():
    with pytest.raises(InputError) as refused:
        tealium.parse_body('{"email": "secret@example.com", oops}', None, None)
    assert "secret" not in str(refused.value)


# ---- read_payload: kinds ------------------------------------------------------------


@pytest.mark.parametrize(
    "document, kind",
    [
        (load_event("tealium/purchase-event.json"), "event"),
        (load_event("tealium/visitor.json"), "visitor"),
        (EVENT, "event"),
        ({"data": {"udo": {}}}, "event"),
        ({"properties": {"visitor_id": "v1"}, "metrics": {}}, "visitor"),
        ({"current_visit": {}}, "visitor"),
        ({"order_id": "ORD-1", "email": "a@b.co"}, "attributes"),
        ({"data": "x", "post_time": 1}, "attributes"),
        ({"properties": {"plan": "pro"}}, "attributes"),
        ({}, "attributes"),
    ],
)
def test_read_payload_detects_the_kind(document, kind):
    assert tealium.read_payload(document).kind == kind


@pytest.mark.parametrize("document", [[1], "text", 3, None])
def test_read_payload_refuses_what_is_not_an_object_naming_its_index(document):
    with pytest.raises(InputError) as refused:
        tealium.read_payload(document, 4)
    assert refused.value.field == "events[4]"


# ---- lookup -------------------------------------------------------------------------


def test_event_lookup_prefers_udo_then_top_level_then_cookies():
    payload = tealium.read_payload(
        {
            "visitor_id": "top",
            "only_top": "top",
            "post_time": 1,
            "data": {
                "udo": {"visitor_id": "udo", "only_udo": "udo"},
                "firstparty_tealium_cookies": {
                    "visitor_id": "cookie",
                    "only_top": "cookie",
                    "utag_main_v_id": "cookie",
                },
            },
        }
    )
    assert payload.lookup("visitor_id") == "udo"
    assert payload.lookup("only_udo") == "udo"
    assert payload.lookup("only_top") == "top"
    assert payload.lookup("utag_main_v_id") == "cookie"
    assert payload.lookup("missing") is None


@pytest.mark.parametrize(
    "name, expected",
    [
        ("email_address", "user@example.com"),  # properties
        ("lifetime_visit_count", 7),  # metrics
        ("first_visit", 1790000000000),  # dates
        ("marketing_opt_out", False),  # flags
        ("trial_id", "TRIAL-7781"),  # current_visit.properties
        ("visit_start", 1794999900000),  # current_visit.dates
        ("tealium_event", "trial_start"),  # the last event's data layer
        ("audiences", ["Subscribers", "High Value"]),  # the visitor's top level
        ("current_visit.properties.plan", "pro-annual"),  # dotted path
        ("current_visit.last_event.data.dom.url", "https://app.example.com/signup/trial"),
        ("audiences.1", "High Value"),  # list position
        ("audiences.2", None),
        ("audiences.x", None),
        ("audiences.²", None),
        ("current_visit.nothing.here", None),
        ("plan", "pro-annual"),  # current_visit.properties
        ("nothing_here", None),
    ],
)
def test_visitor_lookup_by_attribute_name_and_dotted_path(name, expected):
    assert tealium.read_payload(load_event("tealium/visitor.json")).lookup(name) == expected


def test_visitor_properties_win_over_current_visit_and_last_event():
    payload = tealium.read_payload(
        {
            "properties": {"plan": "lifetime"},
            "current_visit": {"properties": {"plan": "visit"}, "last_event": {"data": {"udo": {"plan": "udo"}}}},
        }
    )
    assert payload.lookup("plan") == "lifetime"


@pytest.mark.parametrize(
    "name, expected",
    [
        ("order_id", "ORD-10042"),
        ("client_ip", "203.0.113.42"),
        ("utag_main_ses_id", "1795000000000"),
        ("data.dom.title", "Thank you for your order"),
        ("page_url.query_params.order", "ORD-10042"),
        ("_csku.0", None),  # a dotted path starts at the payload's root, not in the data layer
        ("data.udo._cprice.1", "79.99"),
    ],
)
def test_event_lookup_by_name_and_path(name, expected):
    assert tealium.read_payload(load_event("tealium/purchase-event.json")).lookup(name) == expected


def test_flat_attributes_lookup():
    payload = tealium.read_payload({"order_id": "A", "cart": {"items": [{"sku": "S1"}]}})
    assert payload.lookup("order_id") == "A"
    assert payload.lookup("cart.items.0.sku") == "S1"


# ---- automapped values --------------------------------------------------------------


def automapped(document: dict) -> dict[str, object]:
    return tealium.read_payload(document).automapped_values()


def test_automapped_values_of_the_sample_event():
    values = automapped(load_event("tealium/purchase-event.json"))
    assert values == {
        "id": "ORD-10042",  # _corder
        "obref": "ob_7d2e9a41c0",  # cp.__obref
        "timestamp_ms": "1795000000",
        "source_url": "https://shop.example.com/checkout/thank-you?order=ORD-10042",
        "ip_address": "203.0.113.42",
        "user_agent": load_event("tealium/purchase-event.json")["useragent"],
        "amount_major": "129.99",
        "currency": "usd",
        "contents": [
            {
                "id": "SKU-RED-M",
                "name": "Red T-Shirt",
                "content_type": "apparel",
                "quantity": "2",
                "price_major": "25.00",
            },
            {
                "id": "SKU-BLU-L",
                "name": "Blue Hoodie",
                "content_type": "apparel",
                "quantity": "1",
                "price_major": "79.99",
            },
        ],
    }


@pytest.mark.parametrize(
    "udo, expected",
    [
        ({"tealium_timestamp_epoch": "1794999999"}, "1794999999"),  # seconds, as text
        ({"tealium_timestamp_epoch": "1794999999123"}, "1794999999123"),  # milliseconds, as text
        ({"tealium_timestamp_epoch": ""}, 1795000000000),  # blank: post_time
        ({}, 1795000000000),
    ],
)
def test_timestamp_from_the_data_layer_epoch_else_post_time(udo, expected):
    assert automapped({"post_time": 1795000000000, "data": {"udo": udo}})["timestamp_ms"] == expected


def test_source_url_from_the_dom_url_else_the_page_url():
    page = {"full_url": "https://page.example.com/"}
    assert (
        automapped({"page_url": page, "data": {"udo": {}, "dom": {"url": "https://dom.example.com/"}}})["source_url"]
        == "https://dom.example.com/"
    )
    assert automapped({"page_url": page, "data": {"udo": {}, "dom": {}}})["source_url"] == "https://page.example.com/"


def test_visitor_automapping_reads_the_last_event():
    values = automapped(load_event("tealium/visitor.json"))
    assert values == {
        "id": "b9d2e8f0-1111-4aaa-8bbb-222233334444",  # the last event's event_id
        "timestamp_ms": 1795000000000,
        "source_url": "https://app.example.com/signup/trial",
        "ip_address": "2001:db8::7",
        "user_agent": load_event("tealium/visitor.json")["current_visit"]["last_event"]["useragent"],
    }


def test_retail_items_from_comma_separated_strings():
    udo = {
        "_csku": "A, B",
        "_cprodname": "Shirt,Hat",
        "_cquan": "1,3",
        "_cprice": "10.00,2.50",
        "_csubtotal": "17.50",
        "_ccurrency": "EUR",
    }
    values = automapped({"data": {"udo": udo}})
    assert values["contents"] == [
        {"id": "A", "name": "Shirt", "content_type": "product", "quantity": "1", "price_major": "10.00"},
        {"id": "B", "name": "Hat", "content_type": "product", "quantity": "3", "price_major": "2.50"},
    ]
    assert (values["amount_major"], values["currency"]) == ("17.50", "EUR")


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"_cprodname": ["Shirt", ""]},
        {"_ccat": ["hats", None]},
        {"_cquan": ["1"]},
        {"_cquan": [1, 0]},
        {"_csku": ["SKU-1", ""]},
        {"_csku": []},
        {"_csku": "", "_cprod": ["P1", "P2"]},
        {"_cprice": "10.00,2.50,1.00"},
    ],
)
def test_full_retail_columns_give_the_items_that_item_by_item_reading_gives(change):
    udo = {
        "_csku": ["SKU-1", "SKU-2"],
        "_cprod": ["P1", "P2"],
        "_cprodname": ["Shirt", "Hat"],
        "_ccat": ["apparel", "hats"],
        "_cquan": ["1", "3"],
        "_cprice": ["10.00", "2.50"],
    } | change
    items = automapped({"data": {"udo": udo}})["contents"]
    # What the item by item loop builds (docs/actions.md), keys in its order: fields, id, then the default type.
    columns = {name: tealium._as_items(udo[name], tealium.MAX_ITEMS_PER_EVENT)[0] for name in udo}
    expected = []
    for i in range(max(len(column) for column in columns.values())):
        item = {
            field: columns[name][i]
            for name, field in tealium.RETAIL_ITEM_FIELDS.items()
            if i < len(columns[name]) and columns[name][i] not in (None, "")
        }
        sku = columns["_csku"][i] if i < len(columns["_csku"]) else None
        item_id = sku if sku not in (None, "") else (columns["_cprod"][i] if i < len(columns["_cprod"]) else None)
        if item_id not in (None, ""):
            item["id"] = item_id
        item.setdefault("content_type", "product")
        expected.append(item)
    assert [list(item.items()) for item in items] == [list(item.items()) for item in expected]


def test_item_id_prefers_csku_over_cprod_item_by_item():
    udo = {"_csku": ["SKU-1", ""], "_cprod": ["P1", "P2", "P3"], "_ccat": ["", "hats"]}
    assert automapped({"data": {"udo": udo}})["contents"] == [
        {"id": "SKU-1", "content_type": "product"},
        {"id": "P2", "content_type": "hats"},
        {"id": "P3", "content_type": "product"},
    ]


def test_item_id_from_cprod_when_there_is_no_csku():
    assert automapped({"data": {"udo": {"_cprod": [1001], "_cquan": [2]}}})["contents"] == [
        {"id": 1001, "content_type": "product", "quantity": 2}
    ]


def test_no_retail_data_means_no_contents():
    assert "contents" not in automapped({"data": {"udo": {"tealium_event": "page_view"}}})


def test_automapped_values_skip_blanks():
    assert automapped({"client_ip": "", "useragent": None, "data": {"udo": {"_ccurrency": ""}}}) == {}


def test_sample_files_are_json_objects():
    for name in ("purchase-event.json", "visitor.json", "pageview-event.json"):
        assert isinstance(json.loads(json.dumps(load_event(f"tealium/{name}"))), dict)
