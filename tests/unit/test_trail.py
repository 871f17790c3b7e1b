"""The event trail: records built from wire events (connector/core/trail.py), the services' trail lines through
fakes, the Logger adapter, and reading a journey back."""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest
from aws_lambda_powertools import Logger
from connector.adapters.trail_log import FileTrail, LoggerTrail, trail_line, trail_logger
from connector.core.pipeline import prepare_events
from connector.core.printable import printable
from connector.core.queue_message import to_message
from connector.core.trail import (
    in_order,
    journey_lines,
    parse_since,
    reason_field,
    trail_record,
    trail_view,
    where_now,
)
from connector.core.types import Route
from connector.core.wire.build import MAX_ID_CHARS
from connector.core.wire.match import match_keys
from connector.core.wire.request import encode_event
from connector.services.batch import BatchService, Record
from connector.services.delivery import Sender
from connector.services.ingest import IngestService
from hypothesis import given
from hypothesis import strategies as st

from tests.support.core import NOW_MS, bundled_actions, sample_settings
from tests.support.fakes import FakeClient, FakeKeys, FakeQueue, FakeTrail, rejection, reply
from tests.support.repo import load_event

ROUTE = Route("px_123", "openai-key", False, "https://bzr.openai.com")


def sample_purchase_event() -> dict:
    """events/tealium/purchase-event.json as the purchase action makes it: what goes to OpenAI."""
    document = load_event("tealium/purchase-event.json")
    (prepared,) = prepare_events(bundled_actions()["purchase"], [document], sample_settings(), NOW_MS)
    assert prepared.ok, prepared.errors
    return prepared.event


# ---- records -------------------------------------------------------------------------------------------------


def test_the_sample_purchase_carries_every_match_key_but_an_android_id():
    keys = match_keys(sample_purchase_event())
    assert keys == {
        "oppref": True,
        "obref": True,
        "email": True,
        "phone": True,
        "external_id": True,
        "names": True,
        "ip_ua": True,
        "android_id": False,
    }


@pytest.mark.parametrize(
    "user, expected_true",
    [
        ({"ip_address": "203.0.113.42"}, set()),  # an IP alone is not the IP + user agent pair
        ({"ip_address": "203.0.113.42", "user_agent": "Mozilla/5.0"}, {"ip_ua"}),
        ({"last_names_sha256": ["ab" * 32]}, {"names"}),
        ({"android_advertising_id": "38400000-8cf0-11bd-b23e-10b96e40000d"}, {"android_id"}),
        ({"emails_sha256": []}, set()),  # an empty list carries nothing
    ],
)
def test_match_keys_read_each_user_field_as_a_boolean(user, expected_true):
    keys = match_keys({"id": "e1", "type": "page_viewed", "user": user})
    assert {name for name, present in keys.items() if present} == expected_true


def test_no_wire_event_carries_no_key():
    assert set(match_keys(None).values()) == {False}


def test_a_record_holds_booleans_never_a_value_of_the_event():
    event = sample_purchase_event()
    record = trail_record("ingest", "sent", "purchase", event, http_status=200, openai_request_id="req_1")
    text = json.dumps(record)
    user = event["user"]
    values = [event["oppref"], user["obref"], user["ip_address"], user["user_agent"]]
    values += [value for name, listed in user.items() if name.endswith("_sha256") for value in listed]
    assert values and not [value for value in values if value in text]
    assert record["event_id"] == "ORD-10042" and record["event_type"] == "order_created"
    assert record["strong_key"] is True and record["http_status"] == 200


QUEUED_JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)
USER_PARTS = st.sampled_from(["emails_sha256", "phone_numbers_sha256", "obref", "ip_address", "user_agent", "x"])


@given(
    event=st.fixed_dictionaries(
        {},
        optional={
            "id": QUEUED_JUNK,
            "type": QUEUED_JUNK,
            "oppref": QUEUED_JUNK,
            "user": st.dictionaries(USER_PARTS, QUEUED_JUNK) | QUEUED_JUNK,
            "data": QUEUED_JUNK,
            "source_url": QUEUED_JUNK,
        },
    )
)
def test_the_view_the_batch_sender_keeps_makes_the_same_record_as_the_event(event):
    assert trail_record("batch", "sent", "purchase", trail_view(event), http_status=200) == trail_record(
        "batch", "sent", "purchase", event, http_status=200
    )
    assert "data" not in trail_view(event)


def test_the_view_of_a_purchase_keeps_its_match_keys_and_drops_its_items():
    event = sample_purchase_event()
    assert trail_record("batch", "sent", "purchase", trail_view(event)) == trail_record(
        "batch", "sent", "purchase", event
    )
    assert set(trail_view(event)) == {"id", "type", "oppref", "user"}


def test_a_queued_events_junk_id_is_left_out_and_a_long_one_cut():
    assert trail_record("batch", "dead_lettered", None, {"id": {"nested": 1}})["event_id"] is None
    assert len(trail_record("batch", "sent", "a", {"id": "x" * 5000})["event_id"]) == MAX_ID_CHARS


@pytest.mark.parametrize(
    "reason, field",
    [
        ("OpenAI rejected it: Invalid event at events[0]: currency", "event"),
        ("gave up after 5 tries: OpenAI answered 503 after retries", "retries"),
        ("timestamp_ms: is more than 7 days in the past at send time", "timestamp_ms"),
        ("message.action: not an action this sender is configured with", "message.action"),
        ("not a valid OpenAI event: user.emails_sha256: must be a list", "user.emails_sha256"),
        ("message: is not a connector queue message (JSONDecodeError)", "message"),
        ("something else entirely", "event"),
    ],
)
def test_a_dead_letter_reason_is_counted_by_the_field_it_names(reason, field):
    assert reason_field(reason) == field


# ---- the services' trail lines, through fakes -----------------------------------------------------------------


def ingest(client: FakeClient, queue: FakeQueue, trail: FakeTrail) -> IngestService:
    return IngestService(
        sample_settings(), bundled_actions(), Sender(client, FakeKeys()), queue, lambda: NOW_MS / 1000, trail
    )


def purchase_body(**udo: str) -> str:
    document = load_event("tealium/purchase-event.json")
    document["data"]["udo"].update(udo)
    return json.dumps(document)


def test_ingest_logs_each_event_received_then_sent_with_openais_status_and_request_id():
    trail = FakeTrail()
    ingest(FakeClient(lambda post: reply(200, request_id="req_abc")), FakeQueue(), trail).handle(
        "purchase", purchase_body(), "application/json", None
    )
    assert trail.steps() == [("ingest", "received"), ("ingest", "sent")]
    sent = trail.records[1]
    assert (sent["http_status"], sent["openai_request_id"], sent["action"]) == (200, "req_abc", "purchase")
    assert "http_status" not in trail.records[0]


def test_ingest_logs_a_rejected_event_with_the_field_and_reason_of_its_first_error():
    trail = FakeTrail()
    ingest(FakeClient(), FakeQueue(), trail).handle(
        "purchase", purchase_body(_ccurrency="US Dollars"), "application/json", None
    )
    received, rejected = trail.records
    assert rejected["outcome"] == "rejected" and rejected["reason_field"] == "data.currency"
    assert rejected["reason"].startswith("data.currency: must be a three-letter ISO 4217 code")
    assert rejected["event_id"] == "ORD-10042" and rejected["event_type"] == "order_created"
    assert received["strong_key"] is False  # no wire event was built: no key is claimed


def test_a_real_time_event_queued_instead_says_why():
    trail = FakeTrail()
    ingest(FakeClient(lambda post: reply(503)), FakeQueue(), trail).handle(
        "purchase", purchase_body(), "application/json", None
    )
    assert trail.records[1]["outcome"] == "queued"
    assert trail.records[1]["reason"] == "OpenAI answered 503 after retries"


def batch(client: FakeClient, dead_letters: FakeQueue, trail: FakeTrail) -> BatchService:
    return BatchService(
        Sender(client, FakeKeys()), dead_letters, {"purchase_batched": ROUTE}, 3, lambda: NOW_MS / 1000, trail
    )


def record(event: dict, receive_count: int = 1, action: str = "purchase_batched") -> Record:
    return Record(f"m-{event['id']}", to_message(action, encode_event(event)), receive_count)


def test_the_batch_sender_logs_sent_dead_lettered_and_retried_events():
    good, bad = sample_purchase_event(), sample_purchase_event() | {"id": "ORD-BAD"}

    def respond(post):
        return (
            rejection(f"events[{post.ids.index('ORD-BAD')}]") if "ORD-BAD" in post.ids else reply(200, request_id="r9")
        )

    trail = FakeTrail()
    batch(FakeClient(respond), FakeQueue(), trail).handle([record(good), record(bad)])
    assert trail.steps("ORD-10042") == [("batch", "sent")]
    assert trail.steps("ORD-BAD") == [("batch", "dead_lettered")]
    parked = trail.records[-1]
    assert parked["reason_field"] == "event" and parked["reason"].startswith("OpenAI rejected it")
    assert trail.records[0]["openai_request_id"] == "r9" and trail.records[0]["has_email"] is True

    trail = FakeTrail()
    batch(FakeClient(lambda post: reply(503)), FakeQueue(), trail).handle([record(good)])
    assert trail.steps() == [("batch", "retried")]


def test_a_message_naming_an_unknown_action_is_logged_without_that_name():
    trail = FakeTrail()
    batch(FakeClient(), FakeQueue(), trail).handle([record(sample_purchase_event(), action="$(curl evil)")])
    (line,) = trail.records
    assert (line["outcome"], line["action"], line["reason_field"]) == ("dead_lettered", None, "message.action")


def test_a_dead_letter_that_could_not_be_parked_is_logged_as_retried():
    trail = FakeTrail()
    batch(FakeClient(lambda post: rejection("events[0]")), FakeQueue(fail_all="throttled"), trail).handle(
        [record(sample_purchase_event())]
    )
    assert trail.steps() == [("batch", "retried")]
    assert trail.records[0]["reason"].startswith("could not be dead-lettered (throttled): OpenAI rejected it")


# ---- the Logger adapter --------------------------------------------------------------------------------------


def capturing_trail(enabled: bool = True) -> tuple[LoggerTrail, io.StringIO]:
    """A LoggerTrail whose function Logger and trail Logger both write to one buffer."""
    out = io.StringIO()
    name = f"trail-test-{uuid.uuid4().hex}"
    function_logger = Logger(service=name, logger_handler=logging.StreamHandler(out))
    function_logger.append_keys(function_request_id="8f2c1f7e-request", function_arn="arn:aws:lambda:...")
    trail = trail_logger(name, logging.StreamHandler(out))  # the functions' trail Logger, into the buffer
    return LoggerTrail(function_logger, enabled, trail), out


def test_the_trail_logger_writes_the_line_powertools_writes_with_its_defaults(monkeypatch):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-6750a1b2-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1")
    trail, out = capturing_trail()
    name = f"trail-test-{uuid.uuid4().hex}-trail"  # another Logger: Powertools sets one up once per service name
    plain = Logger(service=name, logger_handler=logging.StreamHandler(plain_out := io.StringIO()))
    plain.remove_keys(["location"])
    records = [
        trail_record("batch", "sent", "purchase", sample_purchase_event(), http_status=200, openai_request_id="r"),
        trail_record("batch", "dead_lettered", None, {"id": '{"a": 1}'}, reason='data.x: "[1, 2]" é \udc80'),
    ]
    for record in records:
        trail.write(record)
        plain.info("event_trail", extra={**record, "function_request_id": "8f2c1f7e-request"})
    ours = [json.loads(line) for line in out.getvalue().splitlines()]
    theirs = [json.loads(line) for line in plain_out.getvalue().splitlines()]
    for line in (*ours, *theirs):
        del line["timestamp"], line["service"]
    assert [list(line.items()) for line in ours] == [list(line.items()) for line in theirs]
    assert ours[0]["xray_trace_id"] == "1-6750a1b2-0123456789abcdef01234567" and ours[0]["message"] == "event_trail"


def test_each_record_is_one_json_line_and_a_weak_action_is_warned_about_once():
    trail, out = capturing_trail()
    weak = {"id": "PV-1", "type": "page_viewed", "user": {"ip_address": "198.51.100.23", "user_agent": "UA"}}
    for outcome in ("received", "sent", "sent"):
        trail.write(trail_record("batch", outcome, "page_view", weak))
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["event_trail", "event_trail", "weak_match_keys", "event_trail"]
    warning = lines[2]
    assert warning["level"] == "WARNING" and warning["action"] == "page_view"
    assert "198.51.100.23" not in out.getvalue()
    # The trail's line holds the Lambda request id, not the rest of the function's context.
    assert lines[0]["function_request_id"] == "8f2c1f7e-request" and "function_arn" not in lines[0]


def test_the_trail_off_logs_no_trail_line_but_still_the_warning():
    trail, out = capturing_trail(enabled=False)
    trail.write(trail_record("ingest", "sent", "page_view", {"id": "PV-1", "type": "page_viewed"}))
    trail.write(trail_record("ingest", "sent", "purchase", sample_purchase_event()))
    assert [json.loads(line)["message"] for line in out.getvalue().splitlines()] == ["weak_match_keys"]


def test_a_file_trail_writes_lines_as_the_functions_logger_does(tmp_path):
    path = tmp_path / "functions.log"
    FileTrail(path, clock=lambda: 1_795_000_000.5).write(trail_record("redrive", "moved", "a", {"id": "E1"}))
    (line,) = [json.loads(text) for text in path.read_text().splitlines()]
    assert line["message"] == "event_trail" and line["timestamp"] == "2026-11-18 11:06:40,500+0000"
    assert trail_line({"step": "x"}, 0).startswith('{"level":"INFO","message":"event_trail"')


# ---- reading a journey back ------------------------------------------------------------------------------------


def line(at: str, step: str, outcome: str, **more: object) -> dict:
    return {
        "message": "event_trail",
        "timestamp": f"2026-12-04 10:00:{at}+0000",
        "step": step,
        "outcome": outcome,
    } | more


@pytest.mark.parametrize(
    "last, now",
    [
        (
            line("01,000", "batch", "sent", http_status=200, openai_request_id="req_1"),
            "at OpenAI (HTTP 200, OpenAI request req_1)",
        ),
        (line("01,000", "ingest", "queued"), "queued: waiting for the batch sender"),
        (
            line("01,000", "batch", "dead_lettered", reason="timestamp_ms: too old"),
            "dead-lettered: timestamp_ms: too old",
        ),
        (line("01,000", "redrive", "moved"), "queued again: redriven from the dead-letter queue"),
        (line("01,000", "ingest", "skipped"), "skipped, never sent: no consent"),
    ],
)
def test_where_the_event_is_now_follows_its_last_line(last, now):
    first = line("00,500", "ingest", "received")
    assert where_now([last, first]) == now
    assert where_now([]) == "never arrived: no trail line names this id"


def test_received_comes_before_the_outcome_logged_in_the_same_millisecond():
    lines = [line("00,500", "ingest", "sent"), line("00,500", "ingest", "received")]
    assert [entry["outcome"] for entry in in_order(lines)] == ["received", "sent"]


def test_text_from_the_logs_is_printed_with_control_characters_escaped():
    assert printable("ORD-1\x1b[2J\r\n\u2028") == "ORD-1\\x1b[2J\\r\\n\\u2028"
    (text,) = journey_lines([line("00,500", "ingest", "rejected", action="p\x07", reason="id: bad\x1b")])
    assert "\x1b" not in text and "\x07" not in text and "p\\x07" in text


@pytest.mark.parametrize("text, seconds", [("24h", 86400), ("30m", 1800), ("7d", 604800), ("90s", 90)])
def test_since_reads_a_number_and_a_unit(text, seconds):
    assert parse_since(text) == seconds


@pytest.mark.parametrize("text", ["24", "1w", "-1h", "0h", "h", "24 hours"])
def test_since_refuses_anything_else(text):
    with pytest.raises(ValueError, match="--since"):
        parse_since(text)


def test_a_lone_surrogate_in_a_queued_id_is_logged_as_its_escape_not_lost(capsys):
    # GIVEN a log stream that encodes UTF-8 strictly, as Lambda's stdout does
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    trail = Logger(service="surrogate-trail", logger_handler=logging.StreamHandler(out))
    function_logger = Logger(service="surrogate", logger_handler=logging.StreamHandler(io.StringIO()))
    # WHEN a queued message's id and reason hold lone surrogates (decoded "\udc80" escapes)
    record = trail_record("batch", "dead_lettered", None, {"id": "ORD-\udc80-1"}, reason="data.x: \ud800")
    LoggerTrail(function_logger, True, trail).write(record)
    # THEN the line is written, the surrogates as escapes, and no "Logging error" replaces it
    [line] = [json.loads(text) for text in raw.getvalue().decode("utf-8").splitlines()]
    assert (line["event_id"], line["reason"]) == ("ORD-\\udc80-1", "data.x: \\ud800")
    assert "Logging error" not in capsys.readouterr().err
