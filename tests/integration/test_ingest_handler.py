"""IngestFunction end to end over real HTTP on loopback: moto (SQS, Secrets Manager) and the OpenAI stand-in."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import boto3
import pytest
from connector.core.wire.request import encode_event, request_body

from local.apigw import proxy_event
from local.openai_standin import Fault
from tests.support.core import EMAIL_ADA_SHA256, SAMPLE_PURCHASE_DATA
from tests.support.loopback import STANDIN_KEY, STANDIN_PIXEL, call, fast_client, purchase, queued_messages

pytestmark = pytest.mark.integration


def test_realtime_purchase_reaches_openai_byte_for_byte(ingest_app, standin, lambda_context):
    # GIVEN a Tealium purchase event
    document = purchase()
    # WHEN it is posted to the real-time action
    status, answer = call(ingest_app, "purchase", document, lambda_context)
    # THEN OpenAI received exactly the wire event the core builds, once
    assert status == 200
    assert answer["results"] == [{"index": 0, "id": "ORD-10042", "status": "sent", "errors": [], "warnings": []}]
    (request,) = standin.accepted_requests()
    assert request.path == "/v1/events"
    assert request.query == {"pid": STANDIN_PIXEL}
    assert request.headers["Authorization"] == f"Bearer {STANDIN_KEY}"
    sent = request.json["events"][0]
    assert request.json["validate_only"] is False
    assert sent["user"]["emails_sha256"] == [EMAIL_ADA_SHA256]
    assert sent["data"] == SAMPLE_PURCHASE_DATA
    assert request.body == request_body([encode_event(sent)], False, "tealium-openai-connector-aws")


def test_form_field_and_query_parameter_carry_the_payload(ingest_app, standin, lambda_context):
    form = urlencode({"data": json.dumps(purchase("ORD-FORM"))})
    status, answer = call(
        ingest_app, "purchase", form, lambda_context, content_type="application/x-www-form-urlencoded"
    )
    assert (status, answer["results"][0]["status"]) == (200, "sent")
    status, answer = call(
        ingest_app,
        "purchase",
        None,
        lambda_context,
        content_type=None,
        query={"data": json.dumps(purchase("ORD-QUERY"))},
    )
    assert (status, answer["results"][0]["status"]) == (200, "sent")
    assert standin.event_ids() == ["ORD-FORM", "ORD-QUERY"]


def test_one_bad_event_in_a_list_does_not_stop_the_others(ingest_app, standin, lambda_context):
    bad = purchase("ORD-BAD")
    bad["data"]["udo"]["_csubtotal"] = "-5"
    status, answer = call(
        ingest_app, "purchase", [purchase("ORD-1"), bad, "not an object", purchase("ORD-2")], lambda_context
    )
    assert status == 200
    results = answer["results"]
    assert [r["status"] for r in results] == ["sent", "rejected", "rejected", "sent"]
    assert [e["field"] for e in results[1]["errors"]] == ["data.amount"]
    assert "non-negative" in results[1]["errors"][0]["reason"]
    assert results[2]["errors"][0]["field"] == "events[2]"
    assert standin.event_ids() == ["ORD-1", "ORD-2"]
    assert len(standin.accepted_requests()) == 1


@pytest.mark.parametrize(
    "body, content_type, field",
    [
        ("{not json", "application/json", "body"),
        ("", "application/json", "body"),
        ("[]", "application/json", "body"),
        ("data=", "application/x-www-form-urlencoded", "body.data"),
        ("other=1", "application/x-www-form-urlencoded", "body.data"),
    ],
)
def test_unreadable_bodies_get_400_naming_the_field(ingest_app, standin, lambda_context, body, content_type, field):
    status, answer = call(ingest_app, "purchase", body, lambda_context, content_type=content_type)
    assert status == 400
    assert answer["errors"][0]["field"] == field
    assert "Traceback" not in json.dumps(answer)
    assert standin.requests == []


def test_unknown_action_is_404(ingest_app, standin, lambda_context):
    status, answer = call(ingest_app, "no_such_action", purchase(), lambda_context)
    assert status == 404
    assert answer["errors"][0]["field"] == "action"


def test_too_large_bodies_and_too_many_events_get_413(ingest_app, standin, lambda_context):
    from connector.services.ingest import MAX_BODY_BYTES, MAX_EVENTS_PER_CALL

    status, answer = call(ingest_app, "purchase", " " * (MAX_BODY_BYTES + 1), lambda_context)
    assert (status, answer["errors"][0]["field"]) == (413, "body")
    status, answer = call(
        ingest_app, "purchase", [{"order_id": str(i)} for i in range(MAX_EVENTS_PER_CALL + 1)], lambda_context
    )
    assert (status, answer["errors"][0]["field"]) == (413, "body")


@pytest.mark.parametrize("omit_param", [False, True], ids=["error.param", "bisect"])
def test_event_openai_rejects_is_reported_and_the_rest_are_sent(ingest_app, standin, lambda_context, omit_param):
    standin.reject_ids = {"ORD-3"}
    standin.omit_error_param = omit_param
    status, answer = call(ingest_app, "purchase", [purchase(f"ORD-{i}") for i in range(6)], lambda_context)
    assert status == 200
    statuses = {r["id"]: r["status"] for r in answer["results"]}
    assert statuses == {f"ORD-{i}": ("rejected" if i == 3 else "sent") for i in range(6)}
    rejected = answer["results"][3]
    assert rejected["errors"][0]["field"] == "event"
    assert "OpenAI rejected it" in rejected["errors"][0]["reason"]
    assert sorted(standin.event_ids()) == sorted(f"ORD-{i}" for i in range(6) if i != 3)


def test_debug_mode_validates_without_storing(ingest_app, standin, lambda_context):
    status, answer = call(ingest_app, "purchase_debug", purchase(), lambda_context)
    assert (status, answer["results"][0]["status"]) == (200, "validated")
    (request,) = standin.validate_only_requests()
    assert request.json["validate_only"] is True
    assert standin.events == []


def test_retry_after_is_honoured_then_the_event_is_sent(ingest_app, standin, lambda_context):
    standin.add_faults(Fault.status(429, retry_after=1))
    started = time.monotonic()
    status, answer = call(ingest_app, "purchase", purchase(), lambda_context)
    assert (status, answer["results"][0]["status"]) == (200, "sent")
    assert time.monotonic() - started >= 0.9
    assert [r.status for r in standin.requests] == [429, 200]


# The slow answer comes after twice the client's read timeout: it times out however loaded the machine is.
@pytest.mark.parametrize(
    "fault", [Fault.status(500), Fault.status(503), Fault.reset(), Fault.slow(4.0)], ids=["500", "503", "reset", "slow"]
)
def test_transient_failures_are_retried(ingest_app, standin, lambda_context, fault):
    fast_client(ingest_app)
    standin.add_faults(fault)
    status, answer = call(ingest_app, "purchase", purchase(), lambda_context)
    assert (status, answer["results"][0]["status"]) == (200, "sent")
    if fault.seconds:  # the timed-out slow request still completes server-side: wait for it, not a guessed time
        standin.wait_for_events(2, timeout_s=60)
    assert standin.event_ids() == ["ORD-10042"] * len(standin.accepted_requests())


@pytest.mark.parametrize("fault", [Fault.status(500), Fault.reset()], ids=["500", "reset"])
def test_openai_down_means_queued_not_lost(ingest_app, standin, lambda_context, aws, fault):
    fast_client(ingest_app)
    standin.outage([fault], count=100)
    status, answer = call(ingest_app, "purchase", [purchase("ORD-A"), purchase("ORD-B")], lambda_context)
    assert status == 202
    assert [r["status"] for r in answer["results"]] == ["queued", "queued"]
    messages = queued_messages(aws.queue_url)
    assert sorted(m["event"]["id"] for m in messages) == ["ORD-A", "ORD-B"]
    # The action's name only: the batch sender takes the route from its own configuration.
    assert all(set(m) == {"v", "action", "event"} and m["action"] == "purchase" for m in messages)
    assert "sk-" not in json.dumps(messages)


def test_refused_key_is_refetched_once_then_the_events_are_queued(ingest_app, standin, lambda_context, aws):
    standin.api_keys = {"sk-some-other-key"}
    status, answer = call(ingest_app, "purchase", purchase(), lambda_context)
    assert (status, answer["results"][0]["status"]) == (202, "queued")
    assert [r.status for r in standin.requests] == [401, 401]
    assert [m["event"]["id"] for m in queued_messages(aws.queue_url)] == ["ORD-10042"]


def test_rotated_key_is_used_without_a_redeploy(connector_env, monkeypatch, standin, lambda_context, aws):
    from local.handlers import load_handler

    monkeypatch.setenv("API_KEY_MAX_AGE_SECONDS", "1")
    app = load_handler("ingest")
    assert call(app, "purchase", purchase("ORD-OLD-KEY"), lambda_context)[0] == 200
    # WHEN the key is rotated in Secrets Manager only
    rotated = "sk-rotated-fedcba9876543210"
    boto3.client("secretsmanager").put_secret_value(SecretId=aws.secret_id, SecretString=rotated)
    standin.api_keys = {rotated}
    time.sleep(1.1)
    # THEN the next call uses the new key, read after the cache age ran out
    assert call(app, "purchase", purchase("ORD-NEW-KEY"), lambda_context)[0] == 200
    assert standin.requests[-1].headers["Authorization"] == f"Bearer {rotated}"


def test_batched_action_enqueues_with_what_the_sender_needs(ingest_app, standin, lambda_context, aws):
    status, answer = call(ingest_app, "purchase_batched", [purchase("ORD-Q1"), purchase("ORD-Q2")], lambda_context)
    assert status == 202
    assert [r["status"] for r in answer["results"]] == ["queued", "queued"]
    assert standin.requests == []
    messages = queued_messages(aws.queue_url)
    assert sorted(m["event"]["id"] for m in messages) == ["ORD-Q1", "ORD-Q2"]
    assert all(
        m["v"] == 2 and m["action"] == "purchase_batched" and set(m) == {"v", "action", "event"} for m in messages
    )


def test_unexpected_error_answers_500_without_a_stack_trace(ingest_app, standin, lambda_context, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("boom with ada@example.com inside")

    monkeypatch.setattr(ingest_app.service, "handle", explode)
    status, answer = call(ingest_app, "purchase", purchase(), lambda_context)
    assert status == 500
    assert "boom" not in json.dumps(answer) and "Traceback" not in json.dumps(answer)


def test_binary_bodies_that_are_not_utf8_or_not_base64_get_400(ingest_app, standin, lambda_context):
    status, answer = call(ingest_app, "purchase", b'{"order_id": "\xff\xfe"}', lambda_context)
    assert (status, answer["errors"][0]) == (400, {"field": "body", "reason": "is not valid UTF-8"})
    event = proxy_event("purchase", "not base64 at all!")
    event["isBase64Encoded"] = True
    response = ingest_app.lambda_handler(event, lambda_context)
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["errors"][0]["field"] == "body"


def test_binary_json_body_is_read(ingest_app, standin, lambda_context):
    status, answer = call(ingest_app, "purchase", json.dumps(purchase()).encode(), lambda_context)
    assert (status, answer["results"][0]["status"]) == (200, "sent")
