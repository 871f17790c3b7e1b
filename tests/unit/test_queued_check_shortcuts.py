"""The queued-event check's shortcuts give the answers of the full walk they skip, on any event.

connector/core/wire/check.py skips the walk over every text of the data when its JSON shows none can look
personal (`_may_hold_personal_text`), and runs a value's rule once, without naming the field, when the
value passes (`_passes`). Both are held here to the full check (every text tested with `personal_kind`,
every value through `_check_value`), on events shaped like the queued ones with values drawn to hit the
rules' edges: emails, phone numbers written many ways, percent-encoding, escapes, non-ASCII digits.
"""

from __future__ import annotations

import copy
import json
from unittest import mock
from urllib.parse import unquote_plus, urlsplit

from connector.core.json_bounds import TOO_DEEP
from connector.core.personal_data import clean_url, may_be_personal, may_be_personal_bulk
from connector.core.wire import check
from connector.core.wire.check import check_wire_event, written_data
from connector.core.wire.request import SPLICE_FROM_CHARS, encode_event, encode_event_reusing
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.core import NOW_MS

#: Characters the personal-data rules turn on: digits (ASCII and Arabic-Indic), every separator a phone
#: run takes, `+`, `%`, `@`, dots, letters, and what JSON escapes (quote, backslash, newline, tab).
TRICKY = '0123456789٣ ()-.+%@aZé\n\t"\\\u2003\x1c'
EXAMPLES = [
    "ada@example.com",
    "jane%40example.com",
    "%2B14155550123",
    "+44 7700 900417",
    "415-555-0123",
    "(415) 555 0123",
    "06.12.34.56.78",
    "٠٧٧٠٠ ٩٠٠٤١٧",
    "1795000000000",
    "2026-11-18",
    "SKU-0001-M",
    "Product number 1 in a realistic catalogue",
    "USD",
    "usd",
    " M ",
    "",
]
TEXTS = st.text(alphabet=TRICKY, max_size=24) | st.sampled_from(EXAMPLES)
SCALARS = st.none() | st.booleans() | st.integers(-5, 2**40) | st.floats(allow_nan=False) | TEXTS
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXTS, inner, max_size=4),
    max_leaves=12,
)
#: Each side of the bounds of a quantity (a 32-bit count) and of an amount (2**53 - 1).
BOUNDS = st.sampled_from([-1, 0, 2**31 - 1, 2**31, 2**53 - 1, 2**53])
#: Content items as queued ones come: each field mostly in its own shape, sometimes tidied wrong or junk.
ITEMS = st.fixed_dictionaries(
    {},
    optional={
        "id": TEXTS | st.integers(0, 99),
        "name": TEXTS,
        "content_type": st.sampled_from(["apparel", " apparel", "apparel\n"]) | TEXTS,
        "quantity": st.integers(-2, 2**31 + 1) | BOUNDS | st.sampled_from(["2", 2.0, True, None]),
        "amount": st.integers(-1, 2**53 + 1) | BOUNDS | st.sampled_from(["1099", 1099.0, 10.5, False]),
        "currency": st.sampled_from(["USD", "usd", " USD", "US", "EURO"]) | TEXTS,
        "variant_dict": st.dictionaries(TEXTS, TEXTS | st.integers(0, 9), max_size=2) | JSON_VALUES,
        "price": JSON_VALUES,
    },
)
USER_FIELDS = ["emails_sha256", "countries", "regions", "cities", "postal_codes", "ip_address", "obref", "fax"]
DIGEST = "b5fc85e55755f9e0d030a10ab4429b6b2944855f9a0d60077fe832becbc41d72"


def queued_purchase() -> dict[str, object]:
    """A purchase as ingest queues it (bench/payloads.py's shape): the events the batch sender reads most."""
    return {
        "id": "ORD-10042",
        "type": "order_created",
        "timestamp_ms": NOW_MS,
        "source_url": "https://shop.example.com/checkout/thank-you",
        "action_source": "web",
        "user": {"emails_sha256": [DIGEST], "countries": ["US"], "ip_address": "203.0.113.42"},
        "data": {
            "type": "contents",
            "amount": 2299,
            "currency": "USD",
            "contents": [
                {"id": f"SKU-000{n}-M", "name": "Red T-shirt", "quantity": 1, "amount": 1099, "currency": "USD"}
                for n in range(2)
            ],
        },
    }


def full_walk(event: object) -> list:
    """The check without its shortcuts: every text walked, every value checked with its field named."""
    with (
        mock.patch.object(check, "_may_hold_personal_text", lambda data_text: True),
        mock.patch.object(check, "_passes", lambda value, rule, exact=True: False),
        mock.patch.object(check, "_item_passes", lambda item: False),
    ):
        return check_wire_event(event)


#: Digit groups joined by separators, every ASCII character `\s` matches among them: phone-shaped runs.
SEPARATED_DIGITS = st.lists(st.text(alphabet="0123456789", min_size=1, max_size=5), min_size=1, max_size=5).flatmap(
    lambda groups: st.lists(
        st.text(alphabet=" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f().-_/,", max_size=3),
        min_size=len(groups),
        max_size=len(groups),
    ).map(lambda separators: "".join(g + s for g, s in zip(groups, separators, strict=True)))
)


@settings(max_examples=500, deadline=None)
@given(text=TEXTS | SEPARATED_DIGITS | st.text(max_size=60))
def test_the_bulk_prefilter_answers_as_may_be_personal(text):
    assert may_be_personal_bulk(text) == may_be_personal(text)
    # Texts side by side, as the data's JSON holds them: a run of digits may span two of them.
    joined = f'{{"a":"{text}","b":"{text[::-1]}"}}'
    assert may_be_personal_bulk(joined) == may_be_personal(joined)


def test_the_bulk_prefilter_finds_a_phone_number_spread_over_separators():
    assert may_be_personal_bulk('{"note":"call 06.12.34.56.78"}')
    assert may_be_personal_bulk('{"note":"(415) 555 0123"}')
    assert not may_be_personal_bulk('{"id":"SKU-0001-M","amount":1099,"quantity":1}')


@settings(max_examples=400, deadline=None)
@given(
    items=st.lists(ITEMS, max_size=3),
    custom=st.dictionaries(TEXTS, JSON_VALUES, max_size=4),
    user=st.dictionaries(st.sampled_from(USER_FIELDS), JSON_VALUES | st.lists(TEXTS, max_size=4), max_size=4),
    custom_event=st.booleans(),
)
def test_the_check_with_its_shortcuts_finds_what_the_full_walk_finds(items, custom, user, custom_event):
    event = queued_purchase()
    event["data"]["contents"] += items
    event["user"] |= user
    if custom_event:
        event |= {"type": "custom", "custom_event_name": "upgrade"}
        event["data"] = {**event["data"], **custom, "type": "custom"}
    expected = full_walk(copy.deepcopy(event))
    assert check_wire_event(event) == expected
    # As the batch sender calls it: the data written once, for the check and for the event's bytes.
    data_text = written_data(event["data"])
    assert check_wire_event(event, data_text=data_text) == expected
    assert encode_event_reusing(event, data_text) == encode_event(event)


def test_a_queued_purchase_passes_without_a_walk_over_its_texts():
    walked = AssertionError("the data's texts were walked one by one")
    with (
        mock.patch.object(check, "scrub", side_effect=walked),
        mock.patch.object(check, "personal_kind", side_effect=walked),
    ):
        assert check_wire_event(queued_purchase()) == []


def test_text_that_json_escapes_or_a_value_beyond_the_encoder_takes_the_full_walk():
    # An escaped newline stands between the digits in the JSON, not in the text: the shortcut must not decide.
    assert check._may_hold_personal_text(written_data({"type": "custom", "note": "0746\n123 456"}))
    assert written_data({"type": "custom", "deep": nested(30_000)}) is None  # beyond the encoder: RecursionError
    assert check._may_hold_personal_text(None)
    event = {**queued_purchase(), "type": "custom", "custom_event_name": "upgrade"}
    event["data"] = {"type": "custom", "note": "0746\n123 456"}
    assert [issue.as_dict() for issue in check_wire_event(json.loads(json.dumps(event)))] == [
        {"field": "data.note", "reason": "looks like a phone number: never sent"}
    ]


def test_a_queued_value_nested_too_deep_is_refused_for_its_depth_alone():
    event = {**queued_purchase(), "type": "custom", "custom_event_name": "upgrade"}
    event["data"] = {"type": "custom", "deep": nested(5_000)}
    event = json.loads(json.dumps(event))  # as the batch sender reads it from a message
    assert (
        [issue.as_dict() for issue in check_wire_event(event)]
        == [{"field": "data.deep", "reason": TOO_DEEP}]
        == [issue.as_dict() for issue in full_walk(event)]
    )


@settings(max_examples=200, deadline=None)
@given(
    head=st.dictionaries(st.sampled_from(["id", "type", "user", "timestamp_ms", 'é\n"x']), JSON_VALUES, max_size=4),
    data=st.dictionaries(TEXTS, JSON_VALUES, max_size=4),
    tail=st.dictionaries(st.sampled_from(["opt_out", "source_url"]), JSON_VALUES, max_size=2),
    long=st.booleans(),
)
def test_an_event_written_around_its_data_text_is_the_event_written_whole(head, data, tail, long):
    if long:  # long enough to be spliced, as a purchase's items are
        data = {**data, "contents": [{"name": "Product number 1 in a realistic catalogue"}] * 8}
        assert len(written_data(data)) >= SPLICE_FROM_CHARS
    for event in ({**head, "data": data}, {**head, "data": data, **tail}, {"data": data}):
        assert encode_event_reusing(event, written_data(data)) == encode_event(event)


URLS = st.sampled_from(
    [
        "https://shop.example.com/p",
        "https://shop.example.com/p?utm_source=mail&email=ada%40example.com",
        "https://shop.example.com/p?q=1#top",
        "https://ada:pw@shop.example.com/p",
        "https://shop.example.com/u/+14155550123",
        "http://[::1/p",
        "http://[::1/p?x=1",
        "https://shop.example.com/p?",
    ]
)


def old_source_url_check(url: object) -> list:
    """The check as it was before the shortcut: the query's parameter names read from every URL."""
    issues: list = []
    if not isinstance(url, str) or not url:
        return issues
    try:
        own = [unquote_plus(pair.partition("=")[0]) for pair in urlsplit(url).query.split("&")]
        cleaned, _ = clean_url(url, own)
    except ValueError:
        return issues
    return issues if cleaned == url else ["source_url"]


@settings(max_examples=300, deadline=None)
@given(url=URLS | st.text(alphabet="htps:/[]?#&=@%+0123456789.exa", max_size=30) | TEXTS)
def test_the_source_url_is_judged_as_before_the_query_shortcut(url):
    issues: list = []
    check._check_source_url_is_clean(issues, url)
    assert [issue.field for issue in issues] == old_source_url_check(url)


def nested(depth: int) -> object:
    value: object = "ada@example.com"
    for _ in range(depth):
        value = [value]
    return value
