"""Tests of the local OpenAI Events API stand-in: contract checks, recordings, faults, admin surface."""

from __future__ import annotations

import ast
import copy
import http.client as httplib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import urllib3

from local.openai_standin import Fault, OpenAIStandin
from tests.support.repo import ROOT

KEY = "sk-test-key"
PID = "px-test"
SHA = "b4c9a289323b21a01c3e940f150eb9b8c542587f1abfd8f0e1cc1ffc5e475514"


def now_ms() -> int:
    return int(time.time() * 1000)


def order_event(event_id: str = "evt-0", **overrides: Any) -> dict[str, Any]:
    event = {
        "id": event_id,
        "type": "order_created",
        "timestamp_ms": now_ms(),
        "action_source": "web",
        "source_url": "https://shop.example.com/checkout/confirmation",
        "data": {
            "type": "contents",
            "amount": 12999,
            "currency": "USD",
            "contents": [{"id": "sku-1", "quantity": 1, "amount": 12999, "currency": "USD"}],
        },
    }
    event.update(overrides)
    return event


@pytest.fixture
def standin():
    with OpenAIStandin(api_keys={KEY}, pixel_ids={PID}) as api:
        yield api


@pytest.fixture
def http():
    with urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=2, read=5)) as pool:
        yield pool


def post(
    http: urllib3.PoolManager,
    standin: OpenAIStandin,
    body: Any,
    *,
    key: str | None = KEY,
    pid: str = PID,
    content_type: str = "application/json",
) -> urllib3.BaseHTTPResponse:
    headers = {"Content-Type": content_type}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return http.request("POST", f"{standin.base_url}/v1/events?pid={pid}", body=raw, headers=headers)


def send_events(http, standin, events, **kwargs) -> urllib3.BaseHTTPResponse:
    return post(http, standin, {"validate_only": False, "events": events}, **kwargs)


# --------------------------------------------------------------------------- accepted requests


def test_valid_batch_is_accepted_and_recorded(standin, http):
    # GIVEN two valid events
    events = [order_event("evt-1"), order_event("evt-2", oppref="opp_ref-Åß/=", opt_out=True)]

    # WHEN they are sent
    response = send_events(http, standin, events)

    # THEN the answer and the recordings hold exactly what was sent
    assert response.status == 200
    assert response.json() == {"status": "ok", "events_received": 2, "validate_only": False}
    assert standin.events == events
    assert standin.event_ids() == ["evt-1", "evt-2"]
    [recorded] = standin.accepted_requests()
    assert recorded.method == "POST"
    assert recorded.path == "/v1/events"
    assert recorded.query == {"pid": PID}
    assert recorded.headers["Authorization"] == f"Bearer {KEY}"
    assert json.loads(recorded.body) == {"validate_only": False, "events": events}
    assert recorded.json["events"][1]["oppref"] == "opp_ref-Åß/="
    assert recorded.status == 200
    assert recorded.fault is None
    assert base_url_ok(standin.base_url)


def base_url_ok(url: str) -> bool:
    return url.startswith("http://127.0.0.1:") and int(url.rsplit(":", 1)[1]) > 0


@pytest.mark.parametrize(
    "build",
    [
        lambda: order_event(),
        lambda: order_event(action_source="offline", source_url="http://x.example/a"),
        lambda: {k: v for k, v in order_event(action_source="email").items() if k != "source_url"},
        lambda: {
            "id": "lead-1",
            "type": "lead_created",
            "timestamp_ms": now_ms(),
            "action_source": "phone_call",
            "data": {"type": "customer_action", "amount": 500, "currency": "JPY"},
        },
        lambda: {
            "id": "app-1",
            "type": "app_installed",
            "timestamp_ms": now_ms(),
            "action_source": "mobile_app",
            "data": {"type": "customer_action"},
        },
        lambda: {
            "id": "sub-1",
            "type": "subscription_created",
            "timestamp_ms": now_ms(),
            "action_source": "other",
            "data": {"type": "plan_enrollment", "plan_id": "gold", "amount": 999, "currency": "EUR"},
        },
        lambda: {
            "id": "c-1",
            "type": "custom",
            "custom_event_name": "quote_requested-2",
            "timestamp_ms": now_ms(),
            "action_source": "web",
            "source_url": "https://example.com/q",
            "data": {"type": "custom", "contents": [{"id": "p", "variant_dict": {"size": "L"}}]},
        },
        lambda: order_event(
            user={
                "emails_sha256": [SHA, SHA],
                "phone_numbers_sha256": [SHA],
                "external_ids_sha256": [SHA],
                "first_names_sha256": [SHA],
                "last_names_sha256": [SHA, SHA, SHA],
                "countries": ["US", "RO", "GB"],
                "regions": ["california"],
                "cities": ["new york"],
                "postal_codes": ["12345", "SW1A 1AA"],
                "android_advertising_id": "38400000-8cf0-11bd-b23e-10b96e40000d",
                "obref": "ob.1.abc",
                "ip_address": "2001:db8::1",
                "user_agent": "Mozilla/5.0",
            }
        ),
        lambda: order_event(type="page_viewed", custom_event_name="ignored because not custom"),
        lambda: order_event(
            "c-2",
            type="custom",
            custom_event_name="upgrade",
            data={"type": "custom", "plan_id": "p", "tier": "gold", "seats": 3, "flags": [True], "meta": {}, "x": None},
        ),
    ],
    ids=[
        "order",
        "offline",
        "email-without-url",
        "lead",
        "app-install",
        "subscription",
        "custom",
        "every-user-field",
        "custom-name-ignored",
        "custom-properties",
    ],
)
def test_valid_event_shapes_are_accepted(standin, http, build):
    response = send_events(http, standin, [build()])
    assert response.status == 200, response.json()


def test_timestamp_window_uses_the_injected_clock(http):
    # GIVEN a stand-in whose frozen clock is one day ahead of the moment the events are stamped from
    stamped_s = time.time()
    with OpenAIStandin({KEY}, {PID}, clock=lambda: stamped_s + 86_400) as api:
        stamped_ms = int(stamped_s * 1000)
        # THEN, by its clock, 6 days old is inside the 7-day window and 7 days + 1 hour old is outside
        inside = order_event(timestamp_ms=stamped_ms - 5 * 86_400_000)
        assert send_events(http, api, [inside]).status == 200
        too_old = send_events(http, api, [order_event(timestamp_ms=stamped_ms - 6 * 86_400_000 - 3_600_000)])
        assert too_old.status == 400
        assert too_old.json()["error"]["code"] == "event_timestamp_too_old"
        # AND 9 minutes ahead of it is accepted, 11 minutes ahead is not (its clock never moves)
        clock_ms = stamped_ms + 86_400_000
        assert send_events(http, api, [order_event("soon", timestamp_ms=clock_ms + 9 * 60_000)]).status == 200
        assert send_events(http, api, [order_event("late", timestamp_ms=clock_ms + 11 * 60_000)]).status == 400


def test_validate_only_is_answered_but_not_stored(standin, http):
    response = post(http, standin, {"validate_only": True, "events": [order_event("dry-1")]})

    assert response.status == 200
    assert response.json() == {"status": "ok", "events_received": 1, "validate_only": True}
    assert standin.events == []
    assert standin.accepted_requests() == []
    [dry] = standin.validate_only_requests()
    assert dry.events[0]["id"] == "dry-1"


def test_wait_for_events_returns_once_stored_and_times_out_otherwise(standin, http):
    timer = threading.Timer(0.05, send_events, (http, standin, [order_event("late")]))
    timer.start()
    assert [e["id"] for e in standin.wait_for_events(1, timeout_s=30)] == ["late"]
    timer.join()
    with pytest.raises(TimeoutError):
        standin.wait_for_events(2, timeout_s=0.05)


# --------------------------------------------------------------------------- request-level refusals


@pytest.mark.parametrize("key", [None, "sk-wrong", ""])
def test_unknown_or_missing_api_key_is_401(standin, http, key):
    response = send_events(http, standin, [order_event()], key=key)

    assert response.status == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert standin.events == []
    assert standin.requests[0].status == 401


def test_auth_is_checked_before_pid(standin, http):
    assert send_events(http, standin, [order_event()], key="bad", pid="nope").status == 401


def test_unknown_pid_is_403(standin, http):
    response = send_events(http, standin, [order_event()], pid="px-other")

    assert response.status == 403
    assert response.json()["error"]["message"] == "unknown pid"


def test_wrong_content_type_is_refused(standin, http):
    response = send_events(http, standin, [order_event()], content_type="text/plain")
    assert response.status == 415
    ok = send_events(http, standin, [order_event()], content_type="application/json; charset=utf-8")
    assert ok.status == 200


def test_body_over_one_megabyte_is_413(standin, http):
    body = json.dumps({"events": [order_event()]}).encode()
    padded = body[:-1] + b" " * (1_000_001 - len(body)) + b"}"
    assert len(padded) == 1_000_001

    assert post(http, standin, padded).status == 413
    assert standin.events == []


@pytest.mark.parametrize(
    "build, param",
    [
        (lambda: {"events": [order_event(f"e{i}") for i in range(1001)]}, "events"),
        (lambda: {"events": []}, "events"),
        (lambda: {"validate_only": False}, "events"),
        (lambda: {"events": {"id": "x"}}, "events"),
        (lambda: {"validate_only": "yes", "events": [order_event()]}, "validate_only"),
        (lambda: {"events": [order_event()], "extra": 1}, "extra"),
        (lambda: [order_event()], None),
        (lambda: b"{not json", None),
    ],
    ids=["1001-events", "empty", "no-events", "events-object", "validate-only-str", "extra", "list", "bad-json"],
)
def test_malformed_envelope_is_400(standin, http, build, param):
    response = post(http, standin, build())

    assert response.status == 400
    assert response.json()["error"]["param"] == param
    assert standin.events == []


def test_thousand_events_is_the_accepted_maximum(standin, http):
    response = send_events(http, standin, [order_event(f"e{i}") for i in range(1000)])
    assert response.status == 200
    assert len(standin.events) == 1000


def test_unknown_route_and_method(standin, http):
    assert http.request("POST", f"{standin.base_url}/v1/other").status == 404
    response = http.request("GET", f"{standin.base_url}/v1/events?pid={PID}")
    assert response.status == 405
    assert response.headers["Allow"] == "POST"


# --------------------------------------------------------------------------- event validation


def test_one_bad_event_fails_the_whole_batch_with_its_index(standin, http):
    # GIVEN three events, the middle one a week and a minute old
    events = [order_event("a"), order_event("b", timestamp_ms=now_ms() - 7 * 86_400_000 - 60_000), order_event("c")]

    # WHEN they are sent together
    response = send_events(http, standin, events)

    # THEN nothing is stored and the error names events[1]
    assert response.status == 400
    error = response.json()["error"]
    assert error == {
        "message": "Invalid event at events[1]: timestamp_ms: older than 7 days",
        "type": "invalid_request_error",
        "param": "events[1]",
        "code": "event_timestamp_too_old",
        "errors": [
            {
                "message": "Invalid event at events[1]: timestamp_ms: older than 7 days",
                "param": "events[1]",
                "code": "event_timestamp_too_old",
            }
        ],
    }
    assert standin.events == []


def test_the_first_invalid_event_is_reported(standin, http):
    events = [order_event("a"), order_event("b", type="nope"), order_event("", type="nope")]
    assert send_events(http, standin, events).json()["error"]["param"] == "events[1]"


def mutate(path: str, value: Any, **top_level: Any) -> Callable[[], dict[str, Any]]:
    """A builder of order_event() with the dotted `path` set to `value` (or removed when value is ...).

    A builder, not an event: the event's timestamp is taken when the test sends it, never at collection.
    `value` may itself be a builder (called then too); `top_level` fields are set last.
    """

    def build() -> dict[str, Any]:
        event = copy.deepcopy(order_event())
        *parents, last = path.split(".")
        target = event
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if value is ...:
            del target[last]
        else:
            target[last] = value() if callable(value) else value
        return event | top_level

    return build


INVALID_EVENTS = [
    ("missing-id", mutate("id", ...), "invalid_event"),
    ("empty-id", mutate("id", ""), "invalid_event"),
    ("int-id", mutate("id", 7), "invalid_event"),
    ("unknown-type", mutate("type", "purchase"), "invalid_event"),
    ("custom-no-name", mutate("type", "custom", data={"type": "custom"}), "invalid_event"),
    (
        "custom-standard-name",
        mutate("type", "custom", custom_event_name="order_created", data={"type": "custom"}),
        "invalid_event",
    ),
    (
        "custom-bad-name",
        mutate("type", "custom", custom_event_name="-bad name", data={"type": "custom"}),
        "invalid_event",
    ),
    (
        "custom-name-65",
        mutate("type", "custom", custom_event_name="a" * 65, data={"type": "custom"}),
        "invalid_event",
    ),
    ("missing-timestamp", mutate("timestamp_ms", ...), "invalid_event"),
    ("bool-timestamp", mutate("timestamp_ms", True), "invalid_event"),
    ("float-timestamp", mutate("timestamp_ms", lambda: float(now_ms())), "invalid_event"),
    ("seconds-timestamp", mutate("timestamp_ms", lambda: now_ms() // 1000), "event_timestamp_too_old"),
    # 20 minutes ahead when sent: twice the 10-minute allowance, so no delay can bring it inside
    ("future-timestamp", mutate("timestamp_ms", lambda: now_ms() + 20 * 60_000), "invalid_event"),
    ("web-no-source-url", mutate("source_url", ...), "invalid_event"),
    ("relative-source-url", mutate("source_url", "/checkout"), "invalid_event"),
    ("ftp-source-url", mutate("source_url", "ftp://example.com/x"), "invalid_event"),
    ("bad-action-source", mutate("action_source", "website"), "invalid_event"),
    ("app-event-from-web", mutate("type", "app_opened", data={"type": "customer_action"}), "invalid_event"),
    ("opt-out-string", mutate("opt_out", "true"), "invalid_event"),
    ("oppref-number", mutate("oppref", 12), "invalid_event"),
    ("unknown-field", mutate("event_name", "x"), "invalid_event"),
    ("user-not-object", mutate("user", []), "invalid_event"),
    ("email-not-hashed", mutate("user", {"emails_sha256": ["ada@example.com"]}), "invalid_event"),
    ("email-upper-hex", mutate("user", {"emails_sha256": [SHA.upper()]}), "invalid_event"),
    ("email-not-list", mutate("user", {"emails_sha256": SHA}), "invalid_event"),
    ("four-emails", mutate("user", {"emails_sha256": [SHA] * 4}), "invalid_event"),
    ("country-lower", mutate("user", {"countries": ["us"]}), "invalid_event"),
    ("country-three", mutate("user", {"countries": ["USA"]}), "invalid_event"),
    ("bad-ip", mutate("user", {"ip_address": "999.1.1.1"}), "invalid_event"),
    ("empty-user-agent", mutate("user", {"user_agent": ""}), "invalid_event"),
    ("unknown-user-field", mutate("user", {"email": "a@b.c"}), "invalid_event"),
    ("bad-advertising-id", mutate("user", {"android_advertising_id": "not-a-uuid"}), "invalid_event"),
    ("blank-obref", mutate("user", {"obref": "  "}), "invalid_event"),
    ("long-region", mutate("user", {"regions": ["x" * 129]}), "invalid_event"),
    ("first-name-not-hashed", mutate("user", {"first_names_sha256": ["José"]}), "invalid_event"),
    ("missing-data", mutate("data", ...), "missing_event_data_type"),
    ("data-without-type", mutate("data.type", ...), "missing_event_data_type"),
    ("data-type-mismatch", mutate("data.type", "customer_action"), "invalid_event"),
    ("data-not-object", mutate("data", "contents"), "invalid_event"),
    ("negative-amount", mutate("data.amount", -1), "invalid_event"),
    ("decimal-amount", mutate("data.amount", 129.99), "invalid_event"),
    ("string-amount", mutate("data.amount", "12999"), "invalid_event"),
    ("amount-without-currency", mutate("data.currency", ...), "invalid_event"),
    ("lowercase-currency", mutate("data.currency", "usd"), "invalid_event"),
    ("unknown-data-field", mutate("data.value", 1), "invalid_event"),
    ("contents-not-list", mutate("data.contents", {}), "invalid_event"),
    ("item-quantity-string", mutate("data.contents.0.quantity", "1"), "invalid_event"),
    ("item-amount-float", mutate("data.contents.0.amount", 1.5), "invalid_event"),
    ("item-unknown-field", mutate("data.contents.0.price", 1), "invalid_event"),
    ("item-variant-not-strings", mutate("data.contents.0.variant_dict", {"size": 1}), "invalid_event"),
    (
        "customer-action-with-contents",
        lambda: {
            "id": "l",
            "type": "lead_created",
            "timestamp_ms": now_ms(),
            "action_source": "offline",
            "data": {"type": "customer_action", "amount": 1, "currency": "USD", "contents": []},
        },
        "invalid_event",
    ),
    ("not-an-object", lambda: "evt", "invalid_event"),
]


#: Fields an earlier revision of the API took and the current one does not: each is refused by name.
REMOVED_FIELDS = [
    ("user", "external_id", "CUST-00042"),
    ("user", "countries_sha256", [SHA]),
    ("user", "cities_sha256", [SHA]),
    ("user", "postal_codes_sha256", [SHA]),
    ("user", "email_sha256", SHA),
    ("event", "event_name", "x"),
    ("data", "value", 1),
    ("data.contents.0", "price", 1),
]


@pytest.mark.parametrize("where, name, value", REMOVED_FIELDS)
def test_a_field_the_contract_does_not_name_is_400_naming_it(standin, http, where, name, value):
    if where == "user":
        event = mutate("user", {"emails_sha256": [SHA], name: value})()
    else:
        event = mutate(name if where == "event" else f"{where}.{name}", value)()
    response = send_events(http, standin, [event])
    assert response.status == 400
    assert f"unknown field {name}" in response.json()["error"]["message"]


def test_custom_properties_are_refused_on_data_other_than_custom(standin, http):
    response = send_events(http, standin, [mutate("data.tier", "gold")()])
    assert response.json()["error"]["message"].endswith("data: unknown field tier for contents data")


@pytest.mark.parametrize("source", ["tealium-openai-connector-aws", "A", "a" * 64])
def test_integration_source_is_accepted(standin, http, source):
    assert post(http, standin, {"integration_source": source, "events": [order_event()]}).status == 200


@pytest.mark.parametrize("source", ["", "-x", "a" * 65, "two words", 7])
def test_an_invalid_integration_source_is_400_naming_it(standin, http, source):
    response = post(http, standin, {"integration_source": source, "events": [order_event()]})
    assert response.status == 400
    assert response.json()["error"]["param"] == "integration_source"


@pytest.mark.parametrize("build, code", [case[1:] for case in INVALID_EVENTS], ids=[c[0] for c in INVALID_EVENTS])
def test_invalid_event_is_400_naming_its_index(standin, http, build, code):
    response = send_events(http, standin, [order_event("ok-0"), order_event("ok-1"), build()])

    assert response.status == 400
    error = response.json()["error"]
    assert (error["param"], error["code"], error["type"]) == ("events[2]", code, "invalid_request_error")
    assert error["errors"] == [{"message": error["message"], "param": "events[2]", "code": code}]
    assert standin.events == []


def test_reject_ids_fail_the_batch_at_that_event(standin, http):
    standin.reject_ids.add("poison")

    response = send_events(http, standin, [order_event("a"), order_event("poison")])

    assert response.status == 400
    error = response.json()["error"]
    assert error["param"] == "events[1]"
    assert "event rejected by stand-in rule" in error["message"]
    assert send_events(http, standin, [order_event("a")]).status == 200
    assert standin.event_ids() == ["a"]


def test_omit_error_param_leaves_no_index_anywhere(standin, http):
    standin.omit_error_param = True

    response = send_events(http, standin, [order_event("a"), order_event("b", type="nope")])

    assert response.status == 400
    error = response.json()["error"]
    assert "param" not in error
    assert all("param" not in item for item in error["errors"])
    assert "events[" not in json.dumps(error)
    assert error["code"] == "invalid_event"


# --------------------------------------------------------------------------- faults


def test_faults_apply_one_per_request_in_order(standin, http):
    standin.add_faults(Fault.status(429, retry_after=1), Fault.status(500), Fault.status(401))

    first = send_events(http, standin, [order_event("a")])
    second = send_events(http, standin, [order_event("a")])
    third = send_events(http, standin, [order_event("a")])
    fourth = send_events(http, standin, [order_event("a")])

    assert (first.status, first.headers["Retry-After"]) == (429, "1")
    assert first.json()["error"]["code"] == "rate_limit_exceeded"
    assert second.status == 500
    assert "Retry-After" not in second.headers
    assert third.status == 401
    assert third.json()["error"]["code"] == "invalid_api_key"
    assert fourth.status == 200
    assert standin.event_ids() == ["a"]
    assert [r.fault for r in standin.requests] == ["status", "status", "status", None]
    assert standin.pending_faults == 0


def test_slow_fault_delays_then_answers_normally(standin, http):
    standin.add_faults(Fault.slow(0.2))

    started = time.monotonic()
    response = send_events(http, standin, [order_event("slow-1")])

    assert time.monotonic() - started >= 0.2
    assert response.status == 200
    assert standin.event_ids() == ["slow-1"]


def test_slow_fault_past_the_client_timeout_still_stores(standin):
    # The answer comes 1.5 s after the request, 30 times the client's patience: no scheduling delay closes that gap.
    standin.add_faults(Fault.slow(1.5))
    impatient = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(read=0.05))
    with impatient, pytest.raises(urllib3.exceptions.ReadTimeoutError):
        send_events(impatient, standin, [order_event("ghost")])
    assert standin.wait_for_events(1, timeout_s=30)[0]["id"] == "ghost"


def test_reset_fault_is_a_connection_error_for_the_client(standin, http):
    standin.add_faults(Fault.reset())

    with pytest.raises(urllib3.exceptions.ProtocolError):
        send_events(http, standin, [order_event("lost")])

    assert standin.events == []
    [record] = standin.requests
    assert (record.status, record.fault) == (None, "reset")
    assert send_events(http, standin, [order_event("again")]).status == 200


def test_reset_fault_seen_by_http_client(standin):
    standin.add_faults(Fault.reset())
    conn = httplib.HTTPConnection("127.0.0.1", standin.port, timeout=5)
    body = json.dumps({"events": [order_event()]})
    conn.request(
        "POST", f"/v1/events?pid={PID}", body, {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    )
    with pytest.raises((httplib.RemoteDisconnected, ConnectionResetError)):
        conn.getresponse()
    conn.close()


def test_outage_by_count_cycles_its_pattern_then_recovers(standin, http):
    standin.outage([Fault.status(503), Fault.status(429, retry_after=2)], count=3)

    statuses = [send_events(http, standin, [order_event(f"o{i}")]).status for i in range(5)]

    assert statuses == [503, 429, 503, 200, 200]
    assert standin.event_ids() == ["o3", "o4"]
    assert not standin.outage_active


def test_outage_by_duration_recovers_after_it(http):
    # GIVEN a stand-in whose fault clock only moves when the test moves it
    seconds = [1000.0]
    with OpenAIStandin({KEY}, {PID}, monotonic=lambda: seconds[0]) as api:
        api.outage([Fault.reset(), Fault.status(500)], duration_s=30)

        # WHEN requests come while the outage lasts, however long they take in real time
        with pytest.raises(urllib3.exceptions.ProtocolError):
            send_events(http, api, [order_event("x")])
        seconds[0] += 29.9
        assert send_events(http, api, [order_event("x")]).status == 500
        assert api.outage_active

        # THEN once its 30 seconds have passed on that clock, requests are answered normally
        seconds[0] += 0.1
        assert send_events(http, api, [order_event("x")]).status == 200
        assert not api.outage_active


def test_scripted_faults_come_before_the_outage_and_reset_clears_all(standin, http):
    standin.outage([Fault.status(503)], count=10)
    standin.add_faults(Fault.status(429))
    assert send_events(http, standin, [order_event()]).status == 429
    assert send_events(http, standin, [order_event()]).status == 503

    standin.reject_ids.add("evt-0")
    standin.omit_error_param = True
    standin.reset()

    assert standin.requests == []
    assert send_events(http, standin, [order_event()]).status == 200
    assert standin.event_ids() == ["evt-0"]


@pytest.mark.parametrize("spec", [{"status": "429"}, {"reset": False}, {"slow": -1}, {}, [429]])
def test_bad_fault_spec_is_refused(spec):
    with pytest.raises(ValueError):
        Fault.from_spec(spec)


def test_outage_needs_a_pattern_and_a_stop():
    with pytest.raises(ValueError):
        OpenAIStandin().outage([Fault.status(500)])
    with pytest.raises(ValueError):
        OpenAIStandin().outage([], count=1)


# --------------------------------------------------------------------------- admin surface


def admin(http, standin, method, route, body=None):
    raw = None if body is None else json.dumps(body).encode()
    return http.request(method, f"{standin.base_url}/_standin/{route}", body=raw)


def test_admin_faults_requests_and_reset(standin, http):
    # GIVEN faults scripted over HTTP
    scripted = admin(http, standin, "POST", "faults", [{"status": 429, "retry_after": 1}, {"reset": True}])
    assert scripted.json() == {"status": "ok", "pending_faults": 2}

    # WHEN requests arrive, plus one validate_only request
    assert send_events(http, standin, [order_event("a")]).status == 429
    with pytest.raises(urllib3.exceptions.ProtocolError):
        send_events(http, standin, [order_event("a")])
    assert send_events(http, standin, [order_event("a"), order_event("b")]).status == 200
    assert post(http, standin, {"validate_only": True, "events": [order_event("v")]}).status == 200

    # THEN the summary lists the accepted requests only, and admin calls are not recorded
    summary = admin(http, standin, "GET", "requests").json()["requests"]
    assert [(s["index"], s["pid"], s["validate_only"], s["event_count"]) for s in summary] == [
        (2, PID, False, 2),
        (3, PID, True, 1),
    ]
    assert [e["id"] for e in summary[0]["events"]] == ["a", "b"]
    assert summary[0]["body_bytes"] == len(standin.requests[2].body)
    assert len(admin(http, standin, "GET", "requests?since=3").json()["requests"]) == 1
    assert len(standin.requests) == 4

    assert admin(http, standin, "POST", "reset").json() == {"status": "ok"}
    assert admin(http, standin, "GET", "requests").json() == {"requests": []}
    assert standin.events == []


def test_admin_outage_and_slow(standin, http):
    response = admin(http, standin, "POST", "outage", {"pattern": [{"status": 500}, {"ok": True}], "count": 2})
    assert response.status == 200
    assert [send_events(http, standin, [order_event()]).status for _ in range(3)] == [500, 200, 200]

    assert admin(http, standin, "POST", "faults", [{"slow": 0.1}]).status == 200
    started = time.monotonic()
    assert send_events(http, standin, [order_event()]).status == 200
    assert time.monotonic() - started >= 0.1


@pytest.mark.parametrize(
    "method, route, body",
    [
        ("POST", "faults", {"status": 429}),
        ("POST", "faults", [{"status": 1000}]),
        ("POST", "outage", {"pattern": [{"status": 500}]}),
        ("POST", "outage", [{"status": 500}]),
        ("POST", "outage", {"pattern": [{"status": 500}], "count": "3"}),
        ("POST", "outage", {"pattern": [{"status": 500}], "duration_s": -1}),
    ],
)
def test_admin_refuses_bad_input(standin, http, method, route, body):
    assert admin(http, standin, method, route, body).status == 400
    assert standin.pending_faults == 0
    assert not standin.outage_active


def test_admin_unknown_route_is_404(standin, http):
    assert admin(http, standin, "GET", "nothing").status == 404


# --------------------------------------------------------------------------- HTTP behaviour


def test_keep_alive_connection_is_reused_across_answers(standin):
    # GIVEN one HTTP/1.1 connection
    conn = httplib.HTTPConnection("127.0.0.1", standin.port, timeout=5)
    standin.add_faults(Fault.status(429, retry_after=1))
    bodies = [
        ({"events": [order_event("a")]}, KEY, 429),
        ({"events": [order_event("a")]}, KEY, 200),
        ({"events": [order_event("b", type="bad")]}, KEY, 400),
        ({"events": [order_event("c")]}, "wrong", 401),
        ({"events": []}, KEY, 400),
        ({"validate_only": True, "events": [order_event("d")]}, KEY, 200),
    ]
    sockets = set()
    for body, key, expected in bodies:
        # WHEN several requests with different answers go over it
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        conn.request("POST", f"/v1/events?pid={PID}", json.dumps(body), headers)
        response = conn.getresponse()
        payload = response.read()
        # THEN every answer is framed by Content-Length and the socket stays open
        assert response.status == expected
        assert response.version == 11
        assert int(response.headers["Content-Length"]) == len(payload)
        assert not response.will_close
        sockets.add(id(conn.sock))
    assert len(sockets) == 1
    conn.close()


def test_urllib3_pool_uses_one_connection(standin, http):
    for i in range(5):
        assert send_events(http, standin, [order_event(f"k{i}")]).status == 200
    pool = http.connection_from_url(standin.base_url)
    assert pool.num_connections == 1


def test_concurrent_clients_lose_nothing(standin):
    # GIVEN 4 clients each sending 5 requests of 500 events
    def client(n: int) -> None:
        with urllib3.PoolManager(retries=False) as pool:
            for r in range(5):
                events = [order_event(f"c{n}-r{r}-e{i}") for i in range(500)]
                assert send_events(pool, standin, events).status == 200

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)  # a hang, not a slow machine, is what this bound catches
    assert not any(thread.is_alive() for thread in threads)

    # THEN every event is stored once, each request's events contiguous
    ids = standin.event_ids()
    assert len(ids) == len(set(ids)) == 10_000
    batches = [ids[i : i + 500] for i in range(0, len(ids), 500)]
    assert all(len({event_id.rsplit("-", 1)[0] for event_id in batch}) == 1 for batch in batches)


def test_stop_returns_with_an_idle_keep_alive_connection_open(http):
    api = OpenAIStandin({KEY}, {PID}).start()
    assert send_events(http, api, [order_event()]).status == 200
    started = time.monotonic()
    api.stop()
    # An idle keep-alive connection is kept 120 s: stopping well before that means stop() did not wait for it.
    assert time.monotonic() - started < 60
    api.stop()  # idempotent


def test_cli_serves_until_interrupted():
    process = subprocess.Popen(
        [sys.executable, "-m", "local.openai_standin", "--port", "0", "--api-key", KEY, "--pixel-id", PID],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stderr.readline()
        assert "serving on http://127.0.0.1:" in line
        base_url = line.rsplit(" ", 1)[1].strip()
        with urllib3.PoolManager(retries=False) as pool:
            response = pool.request("GET", f"{base_url}/_standin/requests", timeout=30)
            assert response.json() == {"requests": []}
            events = json.dumps({"events": [order_event()]}).encode()
            headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
            assert pool.request("POST", f"{base_url}/v1/events?pid={PID}", body=events, headers=headers).status == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


STANDIN_MODULES = ("openai_standin", "openai_contract", "standin_answers", "standin_faults", "standin_http")


@pytest.mark.parametrize("module", [f"{name}.py" for name in STANDIN_MODULES])
def test_stand_in_imports_only_the_standard_library(module):
    # It is an independent check of the wire contract: no connector code, no third-party server.
    # Its modules may import one another (relative imports), nothing else outside the stdlib.
    source = (ROOT / "local" / module).read_text()
    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom):  # relative: only the stand-in's own modules
            imported = {node.module} if node.module else {alias.name for alias in node.names}
            assert imported <= set(STANDIN_MODULES)
    assert modules <= set(sys.stdlib_module_names) | {"__future__"}
