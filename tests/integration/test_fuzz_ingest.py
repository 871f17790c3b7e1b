"""IngestFunction under fuzzed client input: never a 5xx, never an exception, always a readable answer.

Every example goes through `lambda_handler` with an API Gateway proxy event (the stand-in and moto
behind it), so the whole path is exercised: Powertools' resolver, body decoding, parsing, mapping,
normalization, validation, real-time send or enqueue. The properties, for any input a client can send:

- the status is never 5xx (a client's input is the client's problem: 400/404/413, or it is accepted);
- the handler never raises;
- the body is JSON: `results` (one per input event, in order) and, for a refusal, `errors`;
- every rejection names a field and a reason.
"""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.apigw import proxy_event
from local.sqs_poller import FakeLambdaContext
from tests.support.loopback import loaded_ingest, purchase
from tests.support.repo import load_event

pytestmark = pytest.mark.integration

STATUSES = {"sent", "validated", "queued", "rejected", "failed"}
#: Bounded so that the whole file runs in well under a minute on two cores.
FUZZ = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)


def ingest_context() -> FakeLambdaContext:
    """A fresh context per call: one made at import would count down its 29 s while earlier tests run."""
    return FakeLambdaContext(function_name="IngestFunction", timeout_seconds=29)


DAY_MS = 86_400_000


@pytest.fixture(scope="module")
def app(template, moto_server, standin_server):
    """One IngestFunction for the module: importing the handler is the expensive part."""
    with loaded_ingest(template, moto_server, standin_server, "fuzz-ingest") as (handler, _):
        yield handler


def invoke(app, action: str, body, **kwargs) -> tuple[int, dict]:
    """Call the handler as API Gateway would and check the properties every answer must have."""
    response = app.lambda_handler(proxy_event(action, body, **kwargs), ingest_context())
    status = response["statusCode"]
    assert status < 500, response["body"][:500]
    answer = json.loads(response["body"])
    assert_well_formed(status, answer)
    return status, answer


def assert_named(issue: object) -> None:
    assert isinstance(issue, dict), issue
    assert isinstance(issue.get("field"), str) and issue["field"].strip(), issue
    assert isinstance(issue.get("reason"), str) and issue["reason"].strip(), issue


def assert_well_formed(status: int, answer: object) -> None:
    assert isinstance(answer, dict) and isinstance(answer.get("results"), list), answer
    errors = answer.get("errors", [])
    assert isinstance(errors, list)
    for issue in errors:
        assert_named(issue)
    if not answer["results"]:
        assert status in (400, 404, 413) and errors, (status, answer)
    for index, result in enumerate(answer["results"]):
        assert result["index"] == index
        assert result["status"] in STATUSES
        assert result["id"] is None or isinstance(result["id"], str)
        for issue in [*result["errors"], *result["warnings"]]:
            assert_named(issue)
        if result["status"] == "rejected":
            assert result["errors"], result
    counted = {r["status"] for r in answer["results"]}
    if answer["results"]:
        expected = 202 if "queued" in counted else 200 if counted & {"sent", "validated"} else 400
        assert status == expected, (status, counted)


def set_path(document: dict, path: str, value: object) -> dict:
    node = document
    *parents, last = path.split(".")
    for part in parents:
        node = node[part]
    node[last] = value
    return document


# ---- strategies -------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
#: Values chosen to break parsers: lone surrogates, NULs, control and combining characters, huge numbers.
nasty_values = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\ud800",
        "a\udfffb",
        "İ" * 600,
        "\u202e",
        "e\u0301" * 300,
        "9" * 4000,
        -1,
        0,
        2**53,
        2**63,
        10**300,
        -(10**300),
        1e308,
        -1e308,
        5e-324,
        [],
        {},
        [[[[]]]],
        {"": {"": None}},
        [None, "", " "],
        ["a"] * 50,
    ]
)
any_value = json_values | nasty_values | st.characters(categories=["Cs"]).map(lambda c: f"x{c}x")

#: (action, dotted path in its sample document) for every attribute an action maps or automaps.
PURCHASE_FIELDS = [
    f"data.udo.{name}"
    for name in (
        "order_id",
        "oppref",
        "customer_email",
        "customer_phone",
        "customer_id",
        "customer_country",
        "customer_city",
        "customer_zip",
        "tealium_timestamp_epoch",
        "_csubtotal",
        "_ccurrency",
        "_csku",
        "_cprod",
        "_cprodname",
        "_ccat",
        "_cquan",
        "_cprice",
    )
] + ["post_time", "client_ip", "useragent", "data.dom.url", "page_url.full_url", "event_id", "visitor_id"]
VISITOR_FIELDS = [
    "properties.visitor_id",
    "properties.email_address",
    "properties.loyalty_id",
    "properties.home_country",
    "flags.marketing_opt_out",
    "current_visit.properties.trial_id",
    "current_visit.properties.plan",
    "current_visit.last_event.post_time",
    "current_visit.last_event.client_ip",
    "current_visit.last_event.useragent",
    "current_visit.last_event.data.dom.url",
]
LEAD_FIELDS = ["event_id", "customer_email", "lead_value_cents", "lead_currency", "tealium_timestamp_epoch"]


def visitor() -> dict:
    now_ms = round(time.time() * 1000)
    document = load_event("tealium/visitor.json")
    document["current_visit"]["last_event"]["post_time"] = now_ms
    return document


def lead(**values) -> dict:
    document = {
        "event_id": "LEAD-1",
        "customer_email": "lead@fuzz.example",
        "lead_value_cents": 1500,
        "lead_currency": "EUR",
        "tealium_timestamp_epoch": int(time.time()),
        "post_time": round(time.time() * 1000),
        "data": {"udo": {}, "dom": {"url": "https://shop.example.com/lead"}},
    }
    document["data"]["udo"].update(values)
    return document


# ---- properties -------------------------------------------------------------------------------


@FUZZ
@given(
    action=st.sampled_from(["purchase", "page_view", "lead", "trial_started", "purchase_debug", "nope"]),
    document=json_values | st.lists(json_values, max_size=5),
)
def test_arbitrary_json(app, action, document):
    status, answer = invoke(app, action, json.dumps(document))
    if action == "nope":
        assert status == 404 and answer["errors"][0]["field"] == "action"
    elif isinstance(document, list) and not document:
        assert status == 400
    else:
        count = len(document) if isinstance(document, list) else 1
        assert len(answer["results"]) == count
        for result, item in zip(answer["results"], document if isinstance(document, list) else [document], strict=True):
            if not isinstance(item, dict):
                assert result["status"] == "rejected" and result["errors"][0]["field"] == f"events[{result['index']}]"


@FUZZ
@given(
    target=st.sampled_from(
        [("purchase", path) for path in PURCHASE_FIELDS]
        + [("purchase_batched", path) for path in PURCHASE_FIELDS[:4]]
        + [("trial_started", path) for path in VISITOR_FIELDS]
        + [("lead", path) for path in LEAD_FIELDS]
    ),
    value=any_value,
)
def test_wrong_types_in_every_mapped_field(app, target, value):
    action, path = target
    if action == "trial_started":
        document = set_path(visitor(), path, value)
    elif action == "lead":
        document = lead(**{path: value})
    else:
        document = set_path(purchase("ORD-FUZZ"), path, value)
    _status, answer = invoke(app, action, json.dumps(document))
    (result,) = answer["results"]
    if result["status"] == "rejected":
        fields = [issue["field"] for issue in result["errors"]]
        assert all(f for f in fields)


@settings(FUZZ, max_examples=15)
@given(
    size=st.integers(min_value=1, max_value=100_000) | st.integers(min_value=4_000_000, max_value=6 * 1024 * 1024),
    char=st.sampled_from(["x", "é", "😀", "\\", '"', "\x00"]),
    where=st.sampled_from(["data.udo.order_id", "data.udo.customer_email", "data.dom.url", "data.udo.oppref", "key"]),
)
def test_huge_strings(app, size, char, where):
    document = purchase("ORD-HUGE")
    text = char * (size // len(char.encode()))
    if where == "key":
        document["data"]["udo"][text] = 1
    else:
        set_path(document, where, text)
    body = json.dumps(document, ensure_ascii=False)
    status, answer = invoke(app, "purchase", body)
    if len(body.encode()) > 5 * 1024 * 1024:
        assert status == 413 and answer["errors"][0]["field"] == "body"


@settings(FUZZ, max_examples=40)
@given(
    depth=st.integers(min_value=1, max_value=200_000),
    shape=st.sampled_from(["list", "object", "in_field", "in_udo", "mixed"]),
)
def test_deep_nesting(app, depth, shape):
    if shape == "list":
        body = "[" * depth + "]" * depth
    elif shape == "object":
        body = '{"a":' * depth + "1" + "}" * depth
    elif shape == "mixed":
        body = '[{"a":' * depth + "null" + "}]" * depth
    else:
        inner = '{"x":' * depth + '"ORD"' + "}" * depth
        document = json.dumps(purchase("ORD-DEEP"))
        anchor = '"order_id": "ORD-DEEP"' if shape == "in_field" else '"udo": {'
        replacement = f'"order_id": {inner}' if shape == "in_field" else f'"udo": {{"nested": {inner}, '
        body = document.replace(anchor, replacement, 1)
    invoke(app, "purchase", body)


@FUZZ
@given(
    raw=st.binary(max_size=300)
    | st.sampled_from(
        [
            b'{"order_id": "\xff\xfe"}',
            b"\xef\xbb\xbf{}",
            b"\xc0\xaf",
            b"\xed\xa0\x80",
            b'[{"a": "\xf4\x90\x80\x80"}]',
            b"data=%FF%FE",
        ]
    ),
    content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", None]),
)
def test_invalid_utf8_in_a_base64_body(app, raw, content_type):
    status, answer = invoke(app, "purchase", raw, content_type=content_type)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        assert status == 400 and answer["errors"][0]["field"] == "body"


@pytest.mark.parametrize(
    "body",
    [
        "NaN",
        "Infinity",
        "-Infinity",
        "[NaN]",
        '{"order_id": NaN}',
        '{"data": {"udo": {"order_id": "ORD-N", "_csubtotal": Infinity}}, "post_time": 1}',
        '{"data": {"udo": {"order_id": "ORD-N", "_csubtotal": -Infinity}}, "post_time": 1}',
        '{"order_id": "ORD-N", "amount": 1e999}',
        '{"order_id": "ORD-N", "amount": -1e999}',
        '{"order_id": 1' + "0" * 5000 + "}",
    ],
)
def test_nan_infinity_and_out_of_range_literals(app, body):
    status, answer = invoke(app, "purchase", body)
    assert status == 400
    if "NaN" in body or "Infinity" in body or "e999" in body or "0" * 5000 in body:
        assert answer["errors"][0]["field"] == "body"


@FUZZ
@given(
    action=st.sampled_from(["purchase", "lead"]),
    amount=st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str)
    | st.sampled_from(["-5", "-0.01", "1e308", "9" * 120, "12.345", "1,299.00", "0", "+5", " 7 ", "0x10", "1_000"]),
)
def test_negative_and_enormous_amounts(app, action, amount):
    document = purchase("ORD-AMOUNT", _csubtotal=amount) if action == "purchase" else lead(lead_value_cents=amount)
    _status, answer = invoke(app, action, json.dumps(document))
    (result,) = answer["results"]
    negative = (isinstance(amount, int | float) and amount < 0) or (isinstance(amount, str) and amount.startswith("-"))
    huge = isinstance(amount, int) and amount > 2**53
    if negative or huge:
        assert result["status"] == "rejected"
        assert {e["field"] for e in result["errors"]} == {"data.amount"}


def in_unit(moment_ms: int, unit: str, as_text: bool) -> object:
    if unit == "iso":
        moment = datetime.fromtimestamp(moment_ms / 1000, UTC)
        return moment.astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat()
    if unit == "iso_z":
        return datetime.fromtimestamp(moment_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    value = {"s": moment_ms // 1000, "ms": moment_ms, "us": moment_ms * 1000, "ns": moment_ms * 1_000_000}[unit]
    return str(value) if as_text else value


@FUZZ
@given(
    offset_ms=st.integers(min_value=-7 * DAY_MS + 60_000, max_value=9 * 60_000)
    | st.integers(min_value=-400 * DAY_MS, max_value=-7 * DAY_MS - 60_000)
    | st.integers(min_value=11 * 60_000, max_value=400 * DAY_MS),
    unit=st.sampled_from(["s", "ms", "us", "ns", "iso", "iso_z"]),
    as_text=st.booleans(),
    where=st.sampled_from(["data.udo.tealium_timestamp_epoch", "post_time"]),
)
def test_timestamps_in_every_unit_and_out_of_window(app, offset_ms, unit, as_text, where):
    moment_ms = round(time.time() * 1000) + offset_ms
    document = purchase("ORD-TIME")
    if where == "post_time":
        del document["data"]["udo"]["tealium_timestamp_epoch"]
    set_path(document, where, in_unit(moment_ms, unit, as_text))
    _status, answer = invoke(app, "purchase", json.dumps(document))
    (result,) = answer["results"]
    if -7 * DAY_MS + 60_000 <= offset_ms <= 9 * 60_000:
        assert result["status"] == "sent", result
    else:
        assert result["status"] == "rejected"
        assert [e["field"] for e in result["errors"]] == ["timestamp_ms"]


@pytest.mark.parametrize(
    "value",
    [
        0,
        -1,
        "0",
        "-1700000000",
        10**19,
        10**25,
        "1e400",
        "now",
        "2026-13-45T00:00:00Z",
        "2026-01-01T00:00:00",
        "",
        " ",
        True,
        [1],
        {"ms": 1},
        1.5,
        math.pi,
    ],
)
def test_timestamps_that_are_not_times(app, value):
    document = purchase("ORD-NOTIME")
    document["data"]["udo"]["tealium_timestamp_epoch"] = value
    document["post_time"] = value
    status, answer = invoke(app, "purchase", json.dumps(document))
    (result,) = answer["results"]
    assert (status, result["status"]) == (400, "rejected")
    assert [e["field"] for e in result["errors"]] == ["timestamp_ms"]


ENVELOPE_PATHS = ["data", "data.udo", "data.dom", "data.firstparty_tealium_cookies", "page_url", "data.udo._csku"]
VISITOR_PATHS = [
    "properties",
    "metrics",
    "flags",
    "current_visit",
    "current_visit.properties",
    "current_visit.last_event",
    "current_visit.last_event.data",
    "current_visit.last_event.data.udo",
]


@FUZZ
@given(
    target=st.sampled_from([("purchase", p) for p in ENVELOPE_PATHS] + [("trial_started", p) for p in VISITOR_PATHS]),
    value=st.sampled_from([None, [], [1, 2], "udo", 7, True, [{"order_id": "ORD-X"}], {}]) | json_values,
)
def test_malformed_tealium_envelopes(app, target, value):
    action, path = target
    document = set_path(purchase("ORD-ENV") if action == "purchase" else visitor(), path, value)
    invoke(app, action, json.dumps(document))


@FUZZ
@given(
    content_type=st.sampled_from(
        [
            "application/json",
            "APPLICATION/JSON; charset=utf-8",
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=ISO-8859-1",
            "text/plain",
            "application/xml",
            "multipart/form-data; boundary=xyz",
            "application/octet-stream",
            ";;;",
            "",
        ]
    )
    | st.text(max_size=60),
    encoding=st.sampled_from(["json", "form", "form_no_data", "query"]),
    header_name=st.sampled_from(["Content-Type", "content-type", "CONTENT-TYPE"]),
)
def test_random_content_types(app, content_type, encoding, header_name):
    document = json.dumps(purchase("ORD-CT"))
    query = None
    if encoding == "json":
        body = document
    elif encoding == "form":
        body = urlencode({"data": document})
    elif encoding == "form_no_data":
        body = urlencode({"other": document})
    else:
        body, query = None, {"data": document}
    status, answer = invoke(app, "purchase", body, content_type=None, headers={header_name: content_type}, query=query)
    is_form = content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded"
    if encoding == "query" or (encoding == "json" and not is_form) or (encoding == "form" and is_form):
        assert answer["results"][0]["status"] == "sent"
    elif encoding == "form_no_data" and is_form:
        assert (status, answer["errors"][0]["field"]) == (400, "body.data")


@pytest.mark.parametrize(
    "action, attribute, status, field",
    [
        ("purchase", "order_id", "rejected", "id"),
        ("purchase_batched", "oppref", "rejected", "oppref"),
        ("purchase_batched", "_cprodname", "rejected", "data.contents"),
        ("purchase", "_ccurrency", "rejected", "data.currency"),
        ("purchase", "customer_email", "sent", "user.email"),
        ("purchase", "customer_phone", "sent", "user.phone"),
        ("purchase_batched", "customer_id", "queued", "user.external_id"),
        ("purchase", "customer_city", "sent", "user.city"),
    ],
)
def test_lone_surrogate_escapes_are_refused_not_a_crash(app, action, attribute, status, field):
    # "\\ud800" is valid JSON text but no Unicode scalar value: it can be neither UTF-8 encoded nor hashed.
    # A bad user field is dropped with a warning (the event still goes); any other field rejects the event.
    document = purchase("ORD-SURROGATE")
    document["data"]["udo"][attribute] = "a\ud800b" if attribute != "_cprodname" else ["a\udc00", "b"]
    _, answer = invoke(app, action, json.dumps(document))
    (result,) = answer["results"]
    assert result["status"] == status
    issues = result["errors"] if status == "rejected" else result["warnings"]
    assert any(issue["field"].startswith(field) for issue in issues), issues


@FUZZ
@given(form=st.dictionaries(st.text(max_size=8), st.text(max_size=40), max_size=4) | st.text(max_size=200))
def test_arbitrary_form_bodies(app, form):
    body = form if isinstance(form, str) else urlencode(form)
    invoke(app, "purchase", body, content_type="application/x-www-form-urlencoded")
