"""Emails and phone numbers in free text and URLs: what is recognized, what a URL keeps, and that none is sent."""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus, unquote, unquote_plus

import pytest
from connector.core import personal_data
from connector.core.actions import ActionConfig
from connector.core.personal_data import EMAIL_ADDRESS, PHONE_NUMBER, clean_url, personal_kind, scrub
from connector.core.pipeline import prepare_events
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.support.core import NOW_MS, sample_settings
from tests.support.repo import load_event

UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


@pytest.mark.parametrize(
    "text, kind",
    [
        ("jane.doe@example.com", EMAIL_ADDRESS),
        (" Ada@Example.COM ", EMAIL_ADDRESS),
        ("Ada%40Example.COM", EMAIL_ADDRESS),  # percent-encoded, as a URL or a cookie carries it
        ("jane%2540example.com", EMAIL_ADDRESS),  # encoded twice
        ("write to jane@exämple.de please", EMAIL_ADDRESS),
        ("+14155550123", PHONE_NUMBER),
        ("%2B14155550123", PHONE_NUMBER),
        ("+1+415+555+0123", PHONE_NUMBER),  # a query string's spaces
        ("tel:+1 (415) 555-0123", PHONE_NUMBER),
        ("415-555-0123", PHONE_NUMBER),
        ("(415) 555 0123", PHONE_NUMBER),
        ("07700 900417", PHONE_NUMBER),
        ("+44 7700 900417", PHONE_NUMBER),
        ("001 (555) 123-4567", PHONE_NUMBER),
        ("06.12.34.56.78", PHONE_NUMBER),
        ("call 415.555.0123 today", PHONE_NUMBER),
        ("0746 123 456 0746 123 457", PHONE_NUMBER),  # two numbers side by side
        ("٠٧٧٠٠ ٩٠٠٤١٧", PHONE_NUMBER),  # Arabic-Indic digits are digits too
    ],
)
def test_emails_and_phone_numbers_are_recognized_as_written_and_encoded(text, kind):
    assert personal_kind(text) == kind


@pytest.mark.parametrize(
    "text",
    [
        "SKU-RED-M",
        "ORD-10042",
        "SKU-415-555-0123",  # a product code shaped like a number: it follows a dash
        "1795000000000",  # a timestamp
        "14155550123",  # bare digits: an id as much as a phone number
        "1795000000 2",
        "129.99",
        "1,299.00",
        "129.99 - 149.99",
        "1 299,00",
        "3.14159265358",
        "2026-11-18",
        "2026-11-18T11:06:30.000Z",
        "18.11.2026 10:30",
        "7f3c2a10-5b6e-4c1d-9e8f-0a1b2c3d4e5f",
        "b5fc85e55755f9e0d030a10ab4429b6b2944855f9a0d60077fe832becbc41d72",
        "@shop",
        "user@localhost",
        "4.51.0",
        "Red T-Shirt",
        "pro-annual",
        "50% off + free shipping",
    ],
)
def test_ordinary_values_are_not_taken_for_personal_data(text):
    assert personal_kind(text) is None


@pytest.mark.parametrize(
    "url, keep, expected, notes",
    [
        ("https://shop.example.com/p", UTM, "https://shop.example.com/p", []),
        (
            "https://shop.example.com/checkout/thank-you?order=ORD-10042",
            UTM,
            "https://shop.example.com/checkout/thank-you",
            [],
        ),
        (
            "https://shop.example.com/s?utm_source=news&email=jane%40example.com&utm_medium=email#top",
            UTM,
            "https://shop.example.com/s?utm_source=news&utm_medium=email",
            [],
        ),
        ("https://jane:secret@shop.example.com:8443/a?x=1#f", UTM, "https://shop.example.com:8443/a", []),
        (
            "https://shop.example.com/a?utm_source=a%20b&gclid=XYZ",
            ("gclid",),
            "https://shop.example.com/a?gclid=XYZ",
            [],
        ),
        (
            "https://shop.example.com/a?utm_content=jane%40example.com&utm_term=%2B14155550123&utm_source=x",
            UTM,
            "https://shop.example.com/a?utm_source=x",
            [
                "the utm_content query parameter was dropped: its value looks like an email address",
                "the utm_term query parameter was dropped: its value looks like a phone number",
            ],
        ),
        (
            "https://shop.example.com/unsubscribe/jane%40example.com/confirm",
            UTM,
            "https://shop.example.com/unsubscribe/",
            ["the URL path from the segment that looks like an email address on was dropped"],
        ),
        ("https://shop.example.com/a?utm_source=news", (), "https://shop.example.com/a", []),
    ],
)
def test_a_url_keeps_scheme_host_path_and_the_kept_parameters_only(url, keep, expected, notes):
    assert clean_url(url, keep) == (expected, notes)


def test_scrub_drops_personal_texts_and_keys_at_any_depth_and_names_the_place_never_the_value():
    notes: list[tuple[str, str]] = []
    value = {"a": {"b": ["ok", "jane@example.com", {"jane@example.com": 1}], "n": 14155550123}, "c": "+1 415 555 0123"}
    assert scrub(value, "data.prefs", notes) == {"a": {"b": ["ok", {}], "n": 14155550123}}
    assert notes == [
        ("data.prefs.a.b[1]", "dropped: looks like an email address"),
        ("data.prefs.a.b[2]", "dropped a property whose name looks like an email address"),
        ("data.prefs.c", "dropped: looks like a phone number"),
    ]


# ---- property: nothing personal reaches an outgoing body ---------------------------------------

#: Phone numbers as people write them: 8-15 digits in the shapes of several countries.
_d = st.integers(0, 9).map(str)


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.lists(_d, min_size=n, max_size=n).map("".join)


phones = st.one_of(
    st.tuples(st.integers(1, 999), _digits(3), _digits(3), _digits(4)).map(lambda p: f"+{p[0]} {p[1]} {p[2]} {p[3]}"),
    st.tuples(st.integers(1, 99), _digits(9)).map(lambda p: f"+{p[0]}{p[1]}"),
    st.tuples(_digits(3), _digits(3), _digits(4)).map(lambda p: f"({p[0]}) {p[1]}-{p[2]}"),
    st.tuples(_digits(3), _digits(3), _digits(4)).map(lambda p: f"{p[0]}-{p[1]}-{p[2]}"),
    st.tuples(_digits(3), _digits(3), _digits(4)).map(lambda p: f"{p[0]}.{p[1]}.{p[2]}"),
    st.tuples(_digits(4), _digits(6)).map(lambda p: f"0{p[0]} {p[1]}"),
    st.tuples(_digits(2), _digits(3), _digits(3), _digits(3)).map(lambda p: f"00{p[0]} {p[1]} {p[2]} {p[3]}"),
)
#: How a value travels in a URL or a cookie: as written, percent-encoded (once or twice), form-encoded.
encodings = st.sampled_from(
    [
        lambda v: v,
        lambda v: quote(v, safe=""),
        lambda v: quote(quote(v, safe=""), safe=""),
        quote_plus,
    ]
)
personal = st.one_of(st.emails(), phones)
words = st.text(st.characters(codec="ascii", categories=("L", "N")), max_size=8)


def raw_forms(value: str) -> set[str]:
    """The value and the forms a reader could turn back into it."""
    return {value, value.lower(), quote(value, safe=""), quote_plus(value)} - {""}


def strings_in(node: object) -> list[str]:
    """Every text of a JSON document, keys included, also percent-decoded."""
    found: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found += [item, unquote(item), unquote_plus(item), unquote(unquote(item))]
        elif isinstance(item, dict):
            stack += list(item) + list(item.values())
        elif isinstance(item, list):
            stack += item
    return found


def assert_none_sent(encoded: bytes, values: list[str]) -> None:
    texts = strings_in(json.loads(encoded))
    for value in values:
        for form in raw_forms(value):
            assert not any(form in text or form.lower() in text.lower() for text in texts), "a raw value was sent"


@st.composite
def urls_with_personal_data(draw) -> tuple[str, list[str]]:
    carried = draw(st.lists(personal, min_size=1, max_size=4))
    encode = [draw(encodings) for _ in carried]
    values = [e(v) for e, v in zip(encode, carried, strict=True)]
    names = draw(st.lists(st.sampled_from(["email", "tel", "utm_content", "utm_term", "name", "q"]), min_size=4))
    query = "&".join(f"{names[i % len(names)]}={v}" for i, v in enumerate(values[:-1]))
    path = draw(st.sampled_from(["/", "/checkout/thank-you", "/a/b"]))
    fragment = values[-1] if draw(st.booleans()) else ""
    userinfo = f"{quote(carried[0], safe='')}:pw@" if draw(st.booleans()) else ""
    url = f"https://{userinfo}shop.example.com{path}?{query}&utm_source={draw(words)}" + (
        f"#{fragment}" if fragment else ""
    )
    return url, carried


@settings(max_examples=300)
@given(urls_with_personal_data(), st.sampled_from(["skip", "opt_out"]), st.booleans())
def test_no_email_or_phone_in_a_page_url_reaches_the_body(url_and_carried, on_no_consent, granted):
    url, carried = url_and_carried
    document = load_event("tealium/purchase-event.json")
    document["data"]["dom"]["url"] = url
    document["data"]["udo"]["consent"] = "yes" if granted else "no"
    action = ActionConfig(
        "p",
        "realtime",
        "order_created",
        mappings={"id": "order_id", "email": "customer_email"},
        consent_attribute="consent",
        on_no_consent=on_no_consent,
        keep_query_parameters=(*UTM, "email", "tel"),  # even kept parameters lose a personal value
    )
    [prepared] = prepare_events(action, [document], sample_settings(), NOW_MS)
    if prepared.skipped:
        return
    assert prepared.ok, prepared.errors
    assert prepared.event["source_url"].startswith("https://shop.example.com/")
    assert "#" not in prepared.event["source_url"] and "@" not in prepared.event["source_url"]
    assert_none_sent(prepared.encoded, carried)


json_leaves = st.one_of(st.none(), st.booleans(), st.integers(), words)


@st.composite
def custom_data_with_personal_data(draw) -> tuple[object, list[str]]:
    """Nested JSON with emails and phone numbers as values, inside texts, and as keys, some encoded."""
    carried: list[str] = []

    def leaf(value: str) -> str:
        carried.append(value)
        shape = draw(st.sampled_from(["alone", "in text", "encoded"]))
        if shape == "in text":
            return f"{draw(words)} {value} {draw(words)}"
        return draw(encodings)(value) if shape == "encoded" else value

    def node(depth: int) -> object:
        kind = draw(st.sampled_from(["leaf", "personal", "key", "list", "dict"] if depth < 3 else ["leaf", "personal"]))
        if kind == "leaf":
            return draw(json_leaves)
        if kind == "personal":
            return leaf(draw(personal))
        if kind == "key":
            return {leaf(draw(personal)): draw(json_leaves), draw(words) or "k": draw(json_leaves)}
        if kind == "list":
            return [node(depth + 1) for _ in range(draw(st.integers(1, 3)))]
        return {f"k{i}": node(depth + 1) for i in range(draw(st.integers(1, 3)))}

    return node(0), carried


@settings(max_examples=300)
@given(custom_data_with_personal_data(), personal, personal)
def test_no_email_or_phone_in_custom_data_plan_id_or_items_reaches_the_body(custom, item_name, plan):
    value, carried = custom
    document = load_event("tealium/purchase-event.json")
    udo = document["data"]["udo"]
    udo.update(prefs=value, plan=plan, _cprodname=[item_name, "Blue Hoodie"], _csku=["SKU-RED-M", item_name])
    action = ActionConfig(
        "c",
        "realtime",
        "custom",
        custom_event_name="signup",
        mappings={"id": "order_id", "plan_id": "plan"},
        custom_data={"prefs": "prefs"},
    )
    [prepared] = prepare_events(action, [document], sample_settings(), NOW_MS)
    assert prepared.ok, prepared.errors
    assert_none_sent(prepared.encoded, [*carried, item_name, plan])
    # each drop is warned about by field and attribute, never by value
    warnings = json.dumps([w.as_dict() for w in prepared.warnings], ensure_ascii=False)
    assert '"data.plan_id"' in warnings and 'read from \\"plan\\"' in warnings
    for value in [*carried, item_name, plan]:
        assert value not in warnings


#: Texts near the rules' edges: digits (ASCII and Arabic-Indic), the phone separators, letters, `@`, `%`, `+`.
_EDGE_TEXTS = st.text(alphabet="0123456789 ().-\t|xA@%+é٠٧", max_size=40)


@settings(max_examples=500, deadline=None)
@given(_EDGE_TEXTS)
@example("12345678")  # exactly eight digits: the count's edge
@example("x12-34-56-78x")
@example("1 2 3 4 5 6 7")
@example("٠٧٧٠٠ ٩٠٠٤١٧")  # not ASCII: the search decides
def test_may_be_personal_counts_ascii_digits_first_and_says_what_the_search_says(text):
    # Its short path (fewer than eight ASCII digits in all, counted without a search) must never hide a match.
    general = "@" in text or "%" in text or "+" in text or personal_data._EIGHT_DIGITS.search(text) is not None
    assert personal_data.may_be_personal(text) == general


@settings(max_examples=500, deadline=None)
@given(_EDGE_TEXTS)
def test_an_id_without_at_percent_or_plus_is_judged_as_the_general_rule_judges_it(event_id):
    kind = personal_kind(event_id)
    general = None if kind == PHONE_NUMBER and "+" not in event_id else kind
    assert personal_data.personal_id_kind(event_id) == general
