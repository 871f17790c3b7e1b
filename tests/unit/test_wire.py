"""wire: mapped values in, one OpenAI wire event out (or errors naming the field), requests and error bodies."""

from __future__ import annotations

import json

import pytest
from connector.core import normalize
from connector.core.actions import MAPPABLE_FIELDS
from connector.core.wire import items as wire_items
from connector.core.wire.build import (
    CUSTOM_DATA,
    DATA_FIELDS,
    EVENT_DATA_TYPES,
    EVENT_TYPES,
    HASHED_USER_LISTS,
    MAX_USER_LIST_VALUES,
    PLAIN_USER_LISTS,
    USER_FIELDS,
    USER_SCALARS,
    EventSpec,
    build_event,
    timestamp_window_problem,
)
from connector.core.wire.check import check_wire_event
from connector.core.wire.fields import Builder
from connector.core.wire.request import (
    ErrorDetail,
    encode_event,
    read_error,
    request_body,
    request_headers,
    request_overhead,
    request_url,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.core import (
    CITY_NEW_YORK_SHA256,
    COUNTRY_US_SHA256,
    EMAIL_ADA_SHA256,
    EMAIL_USER_SHA256,
    EXTERNAL_ID_CUSTOMER_123_SHA256,
    EXTERNAL_ID_SHA256,
    FIRST_NAME_JOSE_SHA256,
    FIRST_NAME_MARY_JANE_SHA256,
    LAST_NAME_OCONNOR_SHA256,
    LAST_NAME_STEFANESCU_SHA256,
    NOW_MS,
    PHONE_RO_SHA256,
    PHONE_US_SHA256,
    ZIP_12345_SHA256,
    all_messages,
    build,
    issue_fields,
)

DAY_MS = 24 * 3600 * 1000
#: The 11 standard event types (display name -> wire name; docs/wire-contract.md) and the data type each carries.
GUIDE_EVENT_TYPES = [
    ("Appointment Scheduled", "appointment_scheduled", "customer_action"),
    ("Checkout Started", "checkout_started", "contents"),
    ("Contents Viewed", "contents_viewed", "contents"),
    ("Custom", "custom", "custom"),
    ("Items Added", "items_added", "contents"),
    ("Lead Created", "lead_created", "customer_action"),
    ("Order Created", "order_created", "contents"),
    ("Page Viewed", "page_viewed", "contents"),
    ("Registration Completed", "registration_completed", "customer_action"),
    ("Subscription Created", "subscription_created", "plan_enrollment"),
    ("Trial Started", "trial_started", "plan_enrollment"),
]
ITEMS = [{"id": "SKU-1", "name": "Red T-Shirt", "quantity": "2", "price_major": "25.00"}]


def spec_for(event_type: str) -> dict[str, object]:
    return {"custom_event_name": "newsletter_signup"} if event_type == "custom" else {}


# ---- event types and data shapes ------------------------------------------------------


@pytest.mark.parametrize("display, event_type, data_type", GUIDE_EVENT_TYPES)
def test_every_guide_event_type_builds_with_its_data_type(display, event_type, data_type):
    built = build(event_type, spec_for(event_type))
    assert built.errors == []
    assert built.event["type"] == event_type
    assert built.event["data"] == {"type": data_type}
    assert EVENT_DATA_TYPES[event_type] == data_type
    assert display.lower().replace(" ", "_") == event_type


def test_minimal_event_has_exactly_the_required_fields():
    built = build("page_viewed")
    assert built.event == {
        "id": "evt-1",
        "type": "page_viewed",
        "timestamp_ms": NOW_MS,
        "source_url": "https://shop.example.com/p",
        "action_source": "web",
        "data": {"type": "contents"},
    }
    assert built.warnings == []


@pytest.mark.parametrize("event_type", ["app_installed", "app_opened"])
def test_app_events_are_accepted_from_mobile_app_only(event_type):
    from_app = build(event_type, {"action_source": "mobile_app"})
    assert from_app.errors == []
    assert from_app.event["data"] == {"type": "customer_action"}
    from_web = build(event_type)
    assert from_web.event is None
    assert issue_fields(from_web.errors) == ["action_source"]


def test_contents_event_carries_amount_currency_and_items():
    built = build("order_created", amount=12999, currency="usd", contents=ITEMS)
    assert built.event["data"] == {
        "type": "contents",
        "amount": 12999,
        "currency": "USD",
        "contents": [{"id": "SKU-1", "name": "Red T-Shirt", "quantity": 2, "amount": 2500, "currency": "USD"}],
    }


@pytest.mark.parametrize("event_type", ["lead_created", "registration_completed", "appointment_scheduled"])
def test_customer_action_keeps_only_amount_and_currency_and_warns_about_the_rest(event_type):
    built = build(event_type, amount=500, currency="EUR", plan_id="pro", contents=ITEMS)
    assert built.errors == []
    assert built.event["data"] == {"type": "customer_action", "amount": 500, "currency": "EUR"}
    assert sorted(issue_fields(built.warnings)) == ["data.contents", "data.plan_id"]


def test_a_bad_value_in_a_dropped_field_does_not_reject_a_customer_action():
    # GIVEN automapped items with an unreadable quantity, on an event type that drops items
    built = build("lead_created", contents=[{"id": "SKU-1", "quantity": "lots"}], plan_id="x" * 5000)
    # THEN the event still goes, and the dropped fields are reported as warnings
    assert built.errors == []
    assert built.event["data"] == {"type": "customer_action"}
    assert sorted(issue_fields(built.warnings)) == ["data.contents", "data.plan_id"]


@pytest.mark.parametrize("event_type", ["subscription_created", "trial_started"])
def test_plan_enrollment_carries_plan_id_and_items(event_type):
    built = build(
        event_type,
        plan_id=" pro-annual ",
        amount=9900,
        currency="USD",
        contents=[{"id": "plan-pro", "content_type": "plan"}],
    )
    assert built.event["data"] == {
        "type": "plan_enrollment",
        "amount": 9900,
        "currency": "USD",
        "plan_id": "pro-annual",
        "contents": [{"id": "plan-pro", "content_type": "plan"}],
    }


def test_contents_event_drops_plan_id_with_a_warning():
    built = build("page_viewed", plan_id="pro")
    assert built.event["data"] == {"type": "contents"}
    assert issue_fields(built.warnings) == ["data.plan_id"]


def test_custom_event_carries_its_name_and_every_custom_field():
    built = build(
        "custom", {"custom_event_name": "newsletter_signup"}, plan_id="p1", amount=100, currency="USD", contents=ITEMS
    )
    assert built.event["type"] == "custom"
    assert built.event["custom_event_name"] == "newsletter_signup"
    assert set(built.event["data"]) == {"type", "plan_id", "amount", "currency", "contents"}
    assert built.event["data"]["type"] == "custom"


def test_custom_event_name_is_sent_for_custom_events_only():
    built = build("page_viewed", {"custom_event_name": "ignored"})
    assert "custom_event_name" not in built.event


@pytest.mark.parametrize(
    "item, field",
    [
        ("not an object", "data.contents[0]"),
        ({"id": "A", "quantity": "2.5"}, "data.contents[0].quantity"),
        ({"id": "A", "price_major": "12.345"}, "data.contents[0].amount"),
    ],
)
def test_a_bad_item_is_an_error_naming_its_position(item, field):
    built = build("order_created", currency="USD", contents=[item])
    assert built.event is None
    assert issue_fields(built.errors) == [field]


def test_an_item_price_needs_a_currency():
    built = build("order_created", contents=[{"id": "A", "price_major": "1.00"}])
    assert issue_fields(built.errors) == ["data.contents[0].amount"]


#: An item as connector/core/tealium.py builds it from a full set of retail columns.
PLAIN_ITEM = {"name": "Red T-Shirt", "content_type": "apparel", "quantity": "2", "price_major": "25.00", "id": "SKU-1"}


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"name": "  padded  ", "id": "\tSKU-2 "},
        {"quantity": "0"},
        {"quantity": "999999999"},
        {"quantity": "1000000000"},
        {"quantity": "01"},
        {"quantity": " 2"},
        {"quantity": "\u0662"},
        {"quantity": 2},
        {"price_major": "25,00"},
        {"price_major": "1,299.00"},
        {"price_major": "25"},
        {"price_major": " 25.00"},
        {"price_major": "1234567890123.99"},
        {"price_major": 25.0},
        {"name": " "},
        {"content_type": ""},
        {"id": "x" * 1024},
        {"id": "x" * 1025},
        {"id": "x" * 600, "name": "y" * 600},
        {"id": "a", "name": "x" * 1022, "content_type": "b"},  # 1,024 together: the limit
        {"id": "a", "name": "x" * 1023, "content_type": "b"},
        {"id": " a", "name": "x" * 1022, "content_type": "b"},  # over the limit only as it came
        {"name": " jane@example.com "},
        {"name": "call 415-555-0123 "},
        {"id": "\u00a0SKU 1234 5678\u00a0"},  # no-break spaces around eight digits
        {"id": "1234 ", "name": " 5678"},  # eight digits, but in two texts
        {"content_type": " +1 555 0100"},
        {"group_id": "G-1"},
        {"currency": "EUR"},
        {"price": "30.00"},
    ],
)
@pytest.mark.parametrize("currency, separator", [("USD", "."), ("EUR", ","), ("JPY", "."), ("KWD", "."), (None, ".")])
def test_plain_items_are_read_as_the_item_by_item_path_reads_them(change, currency, separator):
    # GIVEN plain items around one that differs in one way (some keep it plain, the rest must not be)
    items = [PLAIN_ITEM, {**PLAIN_ITEM, **change}, PLAIN_ITEM]
    values = {"contents": items, **({"currency": currency} if currency else {})}
    # WHEN the items are built, and each is read on its own by the general path
    b = Builder(values, separator)
    contents = wire_items.build_contents(b, currency)
    general = Builder(values, separator)
    expected = [wire_items._build_item(general, item, position, currency) for position, item in enumerate(items)]
    # THEN both give the same items, errors and warnings, in the same order
    assert contents == [item for item in expected if item is not None]
    assert [list(item) for item in contents] == [list(item) for item in expected if item is not None]
    assert (b.errors, b.warnings) == (general.errors, general.warnings)


# ---- event data -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "offset_ms, ok",
    [
        (-7 * DAY_MS, True),
        (-7 * DAY_MS - 1, False),
        (0, True),
        (10 * 60 * 1000, True),
        (10 * 60 * 1000 + 1, False),
        (-30 * DAY_MS, False),
    ],
)
def test_timestamp_window_is_7_days_back_to_10_minutes_ahead(offset_ms, ok):
    built = build(timestamp_ms=NOW_MS + offset_ms)
    assert (built.errors == []) is ok
    if not ok:
        assert issue_fields(built.errors) == ["timestamp_ms"]
    assert (timestamp_window_problem(NOW_MS + offset_ms, NOW_MS) is None) is ok


@pytest.mark.parametrize("raw", [str(NOW_MS // 1000), NOW_MS // 1000, str(NOW_MS), "2026-11-18T11:06:40Z"])
def test_timestamp_in_seconds_milliseconds_or_iso_becomes_milliseconds(raw):
    assert build(timestamp_ms=raw).event["timestamp_ms"] == NOW_MS


@pytest.mark.parametrize("field", ["id", "timestamp_ms"])
@pytest.mark.parametrize("missing", [None, ""])
def test_id_and_timestamp_are_required(field, missing):
    built = build(**{field: missing})
    assert built.event is None
    assert issue_fields(built.errors) == [field]


@pytest.mark.parametrize("raw, expected", [(" ORD-1 ", "ORD-1"), (10042, "10042")])
def test_id_is_a_trimmed_string(raw, expected):
    assert build(id=raw).event["id"] == expected


@pytest.mark.parametrize("raw", ["   ", True, 1.5, ["a"], "x" * 513])
def test_unusable_id_is_an_error(raw):
    assert issue_fields(build(id=raw).errors) == ["id"]


def test_oppref_passes_through_byte_for_byte():
    oppref = "  opp_Ab/+=ü \t"
    assert build(oppref=oppref).event["oppref"] == oppref


@pytest.mark.parametrize("raw", [None, "", "not a url", "ftp://example.com/x", "//example.com/x", "https://"])
def test_source_url_is_required_for_web(raw):
    built = build(source_url=raw)
    assert built.event is None
    assert issue_fields(built.errors) == ["source_url"]


@pytest.mark.parametrize("source", ["mobile_app", "offline", "physical_store", "phone_call", "email", "other"])
def test_source_url_is_optional_elsewhere_and_an_invalid_one_is_dropped_with_a_warning(source):
    missing = build(source_url=None, action_source=source)
    assert missing.errors == [] and "source_url" not in missing.event
    invalid = build(source_url="not a url", action_source=source)
    assert invalid.errors == [] and "source_url" not in invalid.event
    assert issue_fields(invalid.warnings) == ["source_url"]
    valid = build(source_url="http://app.example.com/x", action_source=source)
    assert valid.event["source_url"] == "http://app.example.com/x"


@pytest.mark.parametrize(
    "mapped, fixed, default, expected",
    [
        ("offline", "email", "phone_call", "offline"),
        (" Email ", None, "web", "email"),
        (None, "email", "phone_call", "email"),
        ("", "email", "phone_call", "email"),
        (None, None, "phone_call", "phone_call"),
        (None, None, "web", "web"),
    ],
)
def test_action_source_precedence_mapped_then_fixed_then_default(mapped, fixed, default, expected):
    built = build(spec={"action_source": fixed, "default_action_source": default}, action_source=mapped)
    assert built.errors == []
    assert built.event["action_source"] == expected


def test_unknown_mapped_action_source_is_an_error():
    assert issue_fields(build(action_source="tv").errors) == ["action_source"]


@pytest.mark.parametrize(
    "raw, expected",
    [("1", True), ("0", False), ("true", True), ("False", False), (True, True), (False, False), (1, True)],
)
def test_opt_out_reads_tealium_booleans(raw, expected):
    assert build(opt_out=raw).event["opt_out"] is expected


def test_opt_out_is_absent_when_not_mapped():
    assert "opt_out" not in build().event


@pytest.mark.parametrize("raw", ["maybe", "2", 2, ["1"]])
def test_invalid_opt_out_is_an_error(raw):
    assert issue_fields(build(opt_out=raw).errors) == ["opt_out"]


# ---- amounts ------------------------------------------------------------------------


@pytest.mark.parametrize("raw, expected", [(12999, 12999), ("12999", 12999), (12999.0, 12999)])
def test_mapped_amount_is_an_integer_in_minor_units(raw, expected):
    data = build("order_created", amount=raw, currency="USD").event["data"]
    assert data["amount"] == expected and isinstance(data["amount"], int)


@pytest.mark.parametrize("raw", ["129.99", 129.99, "-5"])
def test_mapped_amount_in_major_units_is_refused(raw):
    assert issue_fields(build("order_created", amount=raw, currency="USD").errors) == ["data.amount"]


@pytest.mark.parametrize("values", [{"amount": 100}, {"amount_major": "1.00"}])
def test_currency_is_required_with_an_amount(values):
    built = build("order_created", **values)
    assert built.event is None
    assert issue_fields(built.errors) == ["data.currency"]


def test_invalid_currency_is_an_error_reported_once():
    assert issue_fields(build("order_created", amount=100, currency="dollars").errors) == ["data.currency"]


def test_currency_alone_is_sent():
    assert build("order_created", currency="usd").event["data"] == {"type": "contents", "currency": "USD"}


@pytest.mark.parametrize(
    "major, currency, minor",
    [("129.99", "USD", 12999), ("1500", "JPY", 1500), ("1.234", "KWD", 1234), ("12.5", "usd", 1250)],
)
def test_automapped_major_amount_is_converted_by_the_currency_exponent(major, currency, minor):
    data = build("order_created", amount_major=major, currency=currency).event["data"]
    assert data["amount"] == minor


def test_mapped_minor_amount_wins_over_the_automapped_major_amount():
    assert build("order_created", amount=5, amount_major="129.99", currency="USD").event["data"]["amount"] == 5


def test_major_amount_with_too_many_decimals_for_the_currency_is_an_error():
    assert issue_fields(build("order_created", amount_major="1.5", currency="JPY").errors) == ["data.amount"]


# ---- user data ----------------------------------------------------------------------


def test_every_user_field_lands_in_its_wire_field():
    built = build(
        email=" Ada@Example.COM ",
        phone="001 (555) 123-4567",
        external_id="  CUST-00042  ",
        external_id_raw="customer_123",
        first_name="Mary Jane",
        last_name="O'Connor",
        country="us",
        region=" California ",
        city="New York",
        zip="12345",
        android_advertising_id="38400000-8CF0-11BD-B23E-10B96E40000D",
        obref=" ob.1.AbC ",
        ip_address="203.0.113.42",
        user_agent="Mozilla/5.0",
    )
    assert built.warnings == []
    assert built.event["user"] == {
        "emails_sha256": [EMAIL_ADA_SHA256],
        "phone_numbers_sha256": [PHONE_US_SHA256],
        "external_ids_sha256": [EXTERNAL_ID_SHA256, EXTERNAL_ID_CUSTOMER_123_SHA256],
        "first_names_sha256": [FIRST_NAME_MARY_JANE_SHA256],
        "last_names_sha256": [LAST_NAME_OCONNOR_SHA256],
        "countries": ["US"],
        "regions": ["california"],
        "cities": ["new york"],
        "postal_codes": ["12345"],
        "android_advertising_id": "38400000-8cf0-11bd-b23e-10b96e40000d",
        "obref": " ob.1.AbC ",
        "ip_address": "203.0.113.42",
        "user_agent": "Mozilla/5.0",
    }


@pytest.mark.parametrize(
    "key, raw, wire_list, digest",
    [
        # Each mapping key lands in its list; the vectors themselves are pinned in tests/unit/test_normalize.py.
        ("first_name", "José", "first_names_sha256", FIRST_NAME_JOSE_SHA256),
        ("last_name", "Ștefănescu", "last_names_sha256", LAST_NAME_STEFANESCU_SHA256),
        ("first_name_sha256", FIRST_NAME_JOSE_SHA256.upper(), "first_names_sha256", FIRST_NAME_JOSE_SHA256),
        ("last_name_sha256", f" {LAST_NAME_OCONNOR_SHA256} ", "last_names_sha256", LAST_NAME_OCONNOR_SHA256),
        ("external_id_raw", "  CUST-00042  ", "external_ids_sha256", EXTERNAL_ID_SHA256),
    ],
)
def test_names_and_the_raw_external_id_are_sent_hashed(key, raw, wire_list, digest):
    assert build(**{key: raw}).event["user"] == {wire_list: [digest]}


def test_the_raw_external_id_is_never_sent_raw():
    # OpenAI: "Don't send raw ... external IDs": the seed's External ID (raw) is hashed like the others.
    encoded = encode_event(build(external_id_raw="CUST-00042").event)
    assert b"CUST-00042" not in encoded
    assert b'"external_id"' not in encoded


def test_the_apply_hash_geo_columns_are_sent_raw():
    built = build(country=" ro ", region="Cluj", city="Cluj-Napoca", zip="400001")
    assert built.event["user"] == {
        "countries": ["RO"],
        "regions": ["cluj"],
        "cities": ["cluj-napoca"],
        "postal_codes": ["400001"],
    }


@pytest.mark.parametrize("key", ["country_sha256", "city_sha256", "zip_sha256"])
def test_an_already_hashed_geo_value_never_reaches_the_wire(key):
    # actions.py refuses these mappings at load; even handed to the builder directly they are not read.
    built = build(**{key: COUNTRY_US_SHA256})
    assert "user" not in built.event
    assert COUNTRY_US_SHA256.encode() not in encode_event(built.event)


def test_an_all_zero_android_advertising_id_is_dropped_with_a_warning():
    built = build(android_advertising_id="00000000-0000-0000-0000-000000000000", email="user@example.com")
    assert "android_advertising_id" not in built.event["user"]
    assert issue_fields(built.warnings) == ["user.android_advertising_id"]


def test_an_android_advertising_id_that_is_not_a_uuid_is_dropped_with_a_warning():
    built = build(android_advertising_id="AEBE52E7-03EE-455A-B3C4-E57283966239-x")
    assert "user" not in built.event
    assert "UUID" in all_messages(built)


@pytest.mark.parametrize("raw", [" ", 42])
def test_a_blank_or_non_text_obref_is_dropped_with_a_warning(raw):
    built = build(obref=raw)
    assert "user" not in built.event
    assert issue_fields(built.warnings) == ["user.obref"]


def test_both_hash_columns_merge_into_one_list_without_duplicates():
    # GIVEN the same address raw and pre-hashed, and a second address pre-hashed
    built = build(email="user@example.com", email_sha256=[EMAIL_USER_SHA256.upper(), EMAIL_ADA_SHA256])
    # THEN one list holds both addresses, once each, raw column first
    assert built.event["user"]["emails_sha256"] == [EMAIL_USER_SHA256, EMAIL_ADA_SHA256]
    assert built.warnings == []


def test_prehashed_value_is_never_hashed_again():
    assert build(phone_sha256=PHONE_RO_SHA256).event["user"]["phone_numbers_sha256"] == [PHONE_RO_SHA256]


def test_raw_column_holding_a_hash_is_reported_and_not_sent():
    built = build(email=EMAIL_USER_SHA256)
    assert "user" not in built.event
    assert issue_fields(built.warnings) == ["user.email"]
    assert "email_sha256" in built.warnings[0].reason


def test_user_lists_hold_at_most_three_distinct_values():
    # GIVEN six phones: three spellings of one number, then three other numbers (four distinct)
    phones = ["+40 746 123 456", "0040746123456", "12345678", "40-746-123-456", "23456789", "34567890"]
    # WHEN the event is built
    built = build(phone=phones)
    # THEN duplicates collapse, the first three distinct are kept in order, the fourth is reported
    assert built.event["user"]["phone_numbers_sha256"] == [
        PHONE_RO_SHA256,
        normalize.sha256_hex("12345678"),
        normalize.sha256_hex("23456789"),
    ]
    assert issue_fields(built.warnings) == ["user.phone_numbers_sha256"]


def test_three_values_that_collapse_to_one_give_no_warning():
    built = build(email=["user@example.com", " USER@example.com", "User@Example.Com "])
    assert built.event["user"]["emails_sha256"] == [EMAIL_USER_SHA256]
    assert built.warnings == []


def test_empty_and_null_user_values_are_ignored():
    built = build(email=[None, "", "  ", "user@example.com"], phone=[""], city=None)
    assert built.event["user"] == {"emails_sha256": [EMAIL_USER_SHA256]}
    assert built.warnings == []


def test_invalid_user_values_are_dropped_with_warnings_and_the_event_still_goes():
    built = build(email="not-an-email", phone="call me", country="USA", ip_address="999.1.1.1", email_sha256="abc")
    assert built.errors == []
    assert "user" not in built.event
    assert sorted(issue_fields(built.warnings)) == [
        "user.country",
        "user.email",
        "user.email_sha256",
        "user.ip_address",
        "user.phone",
    ]


USER_TEXT = st.sampled_from(
    [
        *(" Ada@Example.COM ", "a@b", "+40 746 123 456", "555", "José Ș", "NY", "10001", "#", "  ", ""),
        *("2001:db8::7", "203.0.113.42", "010.1.1.1", "A" * 64, "0" * 64, "\ud800", "x" * 1100),
    ]
) | st.text(max_size=12)


@settings(max_examples=300, deadline=None)
@given(user=st.dictionaries(st.sampled_from(sorted(USER_FIELDS - set(USER_SCALARS))), USER_TEXT, max_size=6))
def test_a_user_value_alone_reads_as_a_list_of_that_one_value(user):
    # GIVEN list-valued user fields each mapped to one text value, and the same values each in a one-element list
    alone, listed = build(**user), build(**{key: [value] for key, value in user.items()})
    # THEN both events carry the same user data and the same warnings, in the same order
    # (a lone text value takes a shorter path through the builder than a list)
    listed_user = listed.event.get("user") if listed.event else None
    assert (alone.event.get("user") if alone.event else None) == listed_user
    assert alone.warnings == listed.warnings and alone.errors == listed.errors


RAW_IDENTIFIERS = {
    "email": "Secret.Person@Example.COM",
    "phone": "+1 (555) 987-6543 ext. 12",
    "external_id": "CUST-SECRET-77",
    "city": "Z" * 200,
}


def test_errors_and_warnings_name_the_field_and_never_the_raw_value():
    # GIVEN identifiers that fail their rules and an event that fails as a whole
    built = build(
        id=None,
        email=["a@b@c-secret", RAW_IDENTIFIERS["email"].replace("@", "")],
        phone=RAW_IDENTIFIERS["phone"],
        external_id=EMAIL_USER_SHA256,
        city=RAW_IDENTIFIERS["city"],
        ip_address="10.0.0.999",
        opt_out="definitely-secret",
        amount="129.99-secret",
        currency="US-secret",
    )
    text = all_messages(built)
    assert built.event is None
    for raw in [*RAW_IDENTIFIERS.values(), "a@b@c-secret", "SecretPerson", EMAIL_USER_SHA256, "10.0.0.999", "secret"]:
        assert raw not in text
    for issue in [*built.errors, *built.warnings]:
        assert issue.field in {
            "id",
            "user.email",
            "user.phone",
            "user.external_id",
            "user.city",
            "user.ip_address",
            "opt_out",
            "data.amount",
            "data.currency",
        }
        assert issue.reason


# ---- content items and custom properties ---------------------------------------------


def test_a_mapped_contents_list_takes_openai_item_keys_with_price_or_amount():
    items = [
        {"id": "SKU-1", "group_id": "TEE", "name": "Tee", "content_type": "product", "quantity": 2, "price": "25.00"},
        {"id": "SKU-2", "amount": 7999, "currency": "eur", "variant_dict": {"size": "M", "color": "blue"}},
    ]
    data = build("order_created", contents=items, currency="USD").event["data"]
    assert data["contents"] == [
        {"id": "SKU-1", "group_id": "TEE", "name": "Tee", "content_type": "product", "quantity": 2}
        | {"amount": 2500, "currency": "USD"},
        {"id": "SKU-2", "amount": 7999, "currency": "EUR", "variant_dict": {"size": "M", "color": "blue"}},
    ]


def test_a_variant_value_written_as_a_number_is_sent_as_text():
    item = build("order_created", contents=[{"id": "A", "variant_dict": {"size": 42}}]).event["data"]["contents"][0]
    assert item["variant_dict"] == {"size": "42"}


@pytest.mark.parametrize("variants", [["M"], {"size": {"eu": "M"}}, {"": "M"}, "size=M"])
def test_a_variant_dict_that_is_not_an_object_of_strings_is_an_error_naming_it(variants):
    built = build("order_created", contents=[{"id": "A", "variant_dict": variants}])
    assert issue_fields(built.errors) == ["data.contents[0].variant_dict"]


def test_an_item_amount_without_any_currency_is_an_error():
    built = build("order_created", contents=[{"id": "A", "amount": 100}])
    assert issue_fields(built.errors) == ["data.contents[0].currency"]


def test_an_unknown_item_key_is_dropped_with_a_warning_naming_it():
    built = build("order_created", contents=[{"id": "A", "brand": "Acme"}])
    assert built.event["data"]["contents"] == [{"id": "A"}]
    assert issue_fields(built.warnings) == ["data.contents[0].brand"]


def test_custom_properties_keep_their_json_type():
    properties = {"plan_tier": "gold", "seats": 3, "annual": True, "tags": ["a"], "meta": {"k": 1}, "note": None}
    built = build("custom", {"custom_event_name": "upgrade"}, custom_data=properties, plan_id="p1")
    assert built.event["data"] == {"type": "custom", "plan_id": "p1", **properties}
    assert check_wire_event(json.loads(encode_event(built.event))) == []


def test_custom_properties_are_not_sent_on_other_event_types():
    assert build("order_created", custom_data={"plan_tier": "gold"}).event["data"] == {"type": "contents"}


def test_a_custom_property_named_like_a_data_field_is_an_error():
    built = build("custom", {"custom_event_name": "upgrade"}, custom_data={"amount": 5})
    assert issue_fields(built.errors) == ["data.amount"]


# ---- checking queued events ----------------------------------------------------------


def full_event() -> dict[str, object]:
    return build(
        "order_created",
        email="user@example.com",
        first_name="José",
        country="US",
        obref="ob-1",
        android_advertising_id="38400000-8cf0-11bd-b23e-10b96e40000d",
        ip_address="2001:db8::7",
        currency="USD",
        amount=100,
        contents=[{"id": "A", "quantity": 1, "amount": 100, "variant_dict": {"size": "M"}}],
    ).event


def test_an_event_the_builder_wrote_passes_the_check():
    assert check_wire_event(full_event()) == []


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda e: e["user"].update(external_id="CUST-1"), "user.external_id"),
        (lambda e: e["user"].update(countries_sha256=[COUNTRY_US_SHA256]), "user.countries_sha256"),
        (lambda e: e["user"].update(cities_sha256=[CITY_NEW_YORK_SHA256]), "user.cities_sha256"),
        (lambda e: e["user"].update(postal_codes_sha256=[ZIP_12345_SHA256]), "user.postal_codes_sha256"),
        (lambda e: e.update(pixel="px"), "pixel"),
        (lambda e: e["data"].update(value=1), "data.value"),
        (lambda e: e["data"]["contents"][0].update(price=1), "data.contents[0].price"),
        (lambda e: e["user"].update(emails_sha256=[EMAIL_USER_SHA256.upper()]), "user.emails_sha256[0]"),
        (lambda e: e["user"].update(countries=["us"]), "user.countries[0]"),
        (lambda e: e["user"].update(first_names_sha256=["José"]), "user.first_names_sha256[0]"),
        (lambda e: e["user"].update(phone_numbers_sha256=[PHONE_US_SHA256] * 4), "user.phone_numbers_sha256"),
        (lambda e: e["user"].update(ip_address="300.1.1.1"), "user.ip_address"),
        (lambda e: e["data"].update(amount=1.5), "data.amount"),
        (lambda e: e["data"].pop("currency"), "data.currency"),
        (lambda e: e["data"].update(type="custom"), "data.type"),
        (lambda e: e["data"]["contents"][0].update(variant_dict={"size": 1}), "data.contents[0].variant_dict"),
        (lambda e: e.update(type="custom", data={"type": "custom"}), "custom_event_name"),
        (lambda e: e.update(timestamp_ms="1795000000000"), "timestamp_ms"),
        (lambda e: e.pop("source_url"), "source_url"),
        (lambda e: e.update(opt_out="no"), "opt_out"),
        (lambda e: e.update(user=[]), "user"),
        (lambda e: e.pop("id"), "id"),
        # what build_event never sends (docs/actions.md: What leaves): a queued event from an older version neither
        (lambda e: e.update(source_url="https://shop.example.com/p#ada@example.com"), "source_url"),
        (lambda e: e.update(source_url="https://ada:pw@shop.example.com/p"), "source_url"),
        (lambda e: e.update(source_url="https://shop.example.com/p?email=ada%40example.com"), "source_url"),
        (lambda e: e["data"]["contents"][0].update(name="+44 7700 900417"), "data.contents[0].name"),
        (
            lambda e: e["data"]["contents"][0].update(variant_dict={"to": "ada@example.com"}),
            "data.contents[0].variant_dict.to",
        ),
    ],
)
def test_the_check_names_every_field_the_contract_does_not_take(change, field):
    event = full_event()
    change(event)
    assert field in issue_fields(check_wire_event(event))


def test_the_check_takes_values_the_contract_accepts_though_the_connector_would_tidy_them():
    # OpenAI lowercases cities and regions itself and parses any IP form: such values are valid as they are.
    event = full_event()
    event["user"] |= {"cities": ["New York"], "regions": ["California"], "ip_address": "2001:DB8:0::7"}
    event["user"]["android_advertising_id"] = event["user"]["android_advertising_id"].upper()
    assert check_wire_event(event) == []


def test_the_check_refuses_a_queued_custom_property_that_looks_personal_at_any_depth():
    event = build("custom", {"custom_event_name": "upgrade"}, custom_data={"prefs": {"to": ["ada@example.com"]}})
    assert event.event["data"]["prefs"] == {"to": []} and event.warnings  # the builder drops it...
    queued = {**event.event, "data": {"type": "custom", "prefs": {"to": ["ada@example.com"]}, "tel": "415-555-0123"}}
    assert [i.as_dict() for i in check_wire_event(queued)] == [  # ...and a queued event carrying it is refused
        {"field": "data.prefs.to[0]", "reason": "looks like an email address: never sent"},
        {"field": "data.tel", "reason": "looks like a phone number: never sent"},
    ]


@pytest.mark.parametrize("event_id", ["ada@example.com", "+44 7700 900417", "lead-ada%40example.com"])
def test_an_id_that_looks_personal_rejects_the_event_and_a_queued_one_too(event_id):
    built = build("lead_created", id=event_id)
    assert built.event is None and issue_fields(built.errors) == ["id"]
    assert built.errors[0].reason.endswith(": an id is sent as it is, so map an attribute that is not")
    assert event_id not in str(built.errors)
    assert issue_fields(check_wire_event({**full_event(), "id": event_id})) == ["id"]


@pytest.mark.parametrize("event_id", ["1234-5678", "ORD-10042", "7f3c2a10-5b6e-4c1d-9e8f-0a1b2c3d4e5f"])
def test_an_order_number_written_like_a_local_phone_number_is_still_an_id(event_id):
    assert build("lead_created", id=event_id).event["id"] == event_id


def test_the_check_refuses_what_is_not_an_event_at_all():
    assert issue_fields(check_wire_event(["evt"])) == ["event"]
    assert issue_fields(check_wire_event({"id": "e", "type": "bought"})) == ["type"]


# ---- a robustness property ----------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
#: Every key mapped values may hold: what an action maps, the automapped major-unit amount, custom data.
FIELDS = sorted(MAPPABLE_FIELDS | {"amount_major", CUSTOM_DATA})


@settings(max_examples=300, deadline=None)
@given(
    event_type=st.sampled_from(sorted(EVENT_TYPES)),
    values=st.dictionaries(
        st.sampled_from(FIELDS), JSON_VALUES | st.sampled_from(["USD", "12.50", "a@b.co", "https://x.io"])
    ),
)
def test_build_event_never_raises_and_returns_an_event_or_errors(event_type, values):
    spec = EventSpec(event_type, "my_event" if event_type == "custom" else None)
    built = build_event(spec, {"id": "e", "timestamp_ms": NOW_MS, **values}, NOW_MS)
    assert (built.event is None) == bool(built.errors)
    if built.event is not None:
        event = json.loads(encode_event(built.event))
        assert event["type"] == event_type and event["data"]["type"] == EVENT_DATA_TYPES[event_type]
        if event_type != "custom":
            assert set(event["data"]) <= {"type", *DATA_FIELDS[event["data"]["type"]]}
        # What the builder writes, the queued-event check lets through.
        assert check_wire_event(event) == []
        for name in (*HASHED_USER_LISTS.values(), *PLAIN_USER_LISTS.values()):
            assert 1 <= len(event.get("user", {}).get(name, [None])) <= MAX_USER_LIST_VALUES
        if "amount" in event["data"]:
            assert isinstance(event["data"]["amount"], int) and "currency" in event["data"]


# ---- requests -----------------------------------------------------------------------


@pytest.mark.parametrize("integration_source", [None, "tealium-openai-connector-aws"])
@pytest.mark.parametrize("validate_only", [False, True])
@pytest.mark.parametrize("count", [0, 1, 3])
def test_request_body_wraps_events_and_overhead_accounts_for_every_byte(validate_only, count, integration_source):
    events = [build(id=f"evt-{i}", email="user@example.com").event for i in range(count)]
    encoded = [encode_event(event) for event in events]
    body = request_body(encoded, validate_only, integration_source)
    source = {"integration_source": integration_source} if integration_source else {}
    assert json.loads(body) == {"validate_only": validate_only, **source, "events": events}
    overhead = request_overhead(validate_only, integration_source)
    assert len(body) == overhead + sum(map(len, encoded)) + max(count - 1, 0)


def test_encoded_event_is_compact_utf8():
    encoded = encode_event({"id": "é", "n": [1, 2]})
    assert encoded == '{"id":"é","n":[1,2]}'.encode()


@pytest.mark.parametrize(
    "base_url, pixel_id, url",
    [
        ("https://bzr.openai.com", "px_123", "https://bzr.openai.com/v1/events?pid=px_123"),
        ("https://bzr.openai.com/", "px_123", "https://bzr.openai.com/v1/events?pid=px_123"),
        ("http://127.0.0.1:8080", "a b&c=d", "http://127.0.0.1:8080/v1/events?pid=a%20b%26c%3Dd"),
    ],
)
def test_request_url(base_url, pixel_id, url):
    assert request_url(base_url, pixel_id) == url


def test_request_headers_carry_the_bearer_key():
    assert request_headers("sk-test") == {"Authorization": "Bearer sk-test", "Content-Type": "application/json"}


# ---- error bodies -------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, message, index",
    [
        (b'{"error": {"message": "bad event", "param": "events[1]", "code": "invalid_event"}}', "bad event", 1),
        (b'{"error": {"message": "bad", "param": "events[12].data.type"}}', "bad", 12),
        (
            b'{"error": {"message": "m", "param": null, "errors": [{"param": "x"}, {"param": "events[3].timestamp_ms"}]}}',  # noqa: E501
            "m",
            3,
        ),
        (b'{"error": {"message": "m", "param": "pid"}}', "m", None),
        (b'{"error": {"message": "m", "errors": "not a list"}}', "m", None),
        (b'{"error": {"message": "m", "errors": [1, "events[2]", null]}}', "m", None),
        (b'{"error": {"param": "events[0]"}}', "rejected by OpenAI", 0),
    ],
)
def test_read_error_finds_the_event_index(body, message, index):
    assert read_error(body) == ErrorDetail(message, index)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html>502 Bad Gateway</html>",
        b"\xff\xfe",
        b"[]",
        b'{"error": "nope"}',
        b'{"message": "x"}',
        b"null",
        b"[" * 100_000,
    ],
)
def test_read_error_survives_garbage_bodies(body):
    assert read_error(body) == ErrorDetail("rejected by OpenAI (no error body)", None)


@pytest.mark.parametrize("quantity", [-1, "-3", 2**31])
def test_content_item_quantity_must_be_a_count(quantity):
    values = {
        "id": "ORD-1",
        "timestamp_ms": NOW_MS,
        "source_url": "https://shop.example.com/",
        "contents": [{"id": "SKU-1", "quantity": quantity}],
    }
    built = build_event(EventSpec("order_created"), values, NOW_MS)
    assert built.event is None
    assert [issue.field for issue in built.errors] == ["data.contents[0].quantity"]


#: JSON as events carry it (custom data passes any JSON value on): NaN and the infinities included, since
#: Python's encoder writes them, and keys Python's encoder converts (numbers, booleans, null).
_JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
_JSON_VALUES = st.recursive(
    _JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text() | st.integers() | st.booleans() | st.none(), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(), _JSON_VALUES, max_size=6))
def test_encode_event_writes_what_json_dumps_writes_byte_for_byte(event):
    # encode_event calls the C encoder it built once; json.dumps builds one per call, with the same options.
    try:
        expected = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: the pipeline names the field (tests/unit/test_pipeline.py)
        with pytest.raises(UnicodeEncodeError):
            encode_event(event)
        return
    assert encode_event(event) == expected


def test_encode_event_refuses_what_json_dumps_refuses_with_the_same_error():
    for event in ({"a": object()}, {"a": {(1, 2): 1}}):
        with pytest.raises(TypeError) as ours:
            encode_event(event)
        with pytest.raises(TypeError) as theirs:
            json.dumps(event, separators=(",", ":"), ensure_ascii=False)
        assert str(ours.value) == str(theirs.value)
