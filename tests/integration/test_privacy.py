"""Secrets and personal data: none of it leaks, even at DEBUG, even when OpenAI quotes it back.

Both handlers run with POWERTOOLS_LOG_LEVEL=DEBUG and every Python logger at DEBUG (botocore and urllib3
included) over payloads full of raw personal data: accepted, rejected at the edge, rejected by OpenAI
with a message that echoes what it received, queued while OpenAI is down, dead-lettered. No raw email,
phone number, external id, oppref or API key may appear in a log line, an answer, the metrics (EMF JSON
on stdout) or a queue message. The one exception is by design: a queued event carries its own `oppref`
in `event.oppref`, because OpenAI needs it byte for byte (the queue is encrypted at rest).

The key's rotation without a redeploy is tested in test_ingest_handler.py.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

import boto3
import pytest

from local.handlers import load_handler
from local.openai_standin import Fault
from local.standin_answers import error_answer
from tests.support import leak_guard
from tests.support.loopback import STANDIN_KEY, call, drain, fast_client, poller_for, purchase

pytestmark = pytest.mark.integration

EMAIL = "Canary.Leak+7731@privacy-probe.example"
PHONE = "+44 7700 900417"
PHONE_DIGITS = "447700900417"
EXTERNAL_ID = "EXT-CANARY-55213"
OPPREF = "opp_canary_9d8c7b6a5f"
OBREF = "ob_canary_6e1f0a9b"
FIRST_NAME = "Canarina-Marie"
LAST_NAME = "Leakwright"
ENV_KEY = "sk-env-var-ignored-4242aa"
#: Every raw form a leak could take (the normalized forms included); all in leak_guard.FORBIDDEN too.
RAW = {
    "email": EMAIL,
    "email (normalized)": EMAIL.lower(),
    "phone": PHONE,
    "phone (digits)": PHONE_DIGITS,
    "external id": EXTERNAL_ID,
    "oppref": OPPREF,
    "obref": OBREF,
    "first name": FIRST_NAME,
    "first name (normalized)": "canarinamarie",
    "last name": LAST_NAME,
    "last name (normalized)": LAST_NAME.lower(),
    "API key": STANDIN_KEY,
    "OPENAI_API_KEY env var": ENV_KEY,
}


def canary(order_id: str, **udo) -> dict:
    values = {
        "customer_email": f"  {EMAIL} ",
        "customer_phone": PHONE,
        "customer_id": f" {EXTERNAL_ID} ",
        "oppref": OPPREF,
        "cp.__obref": OBREF,
        "customer_first_name": FIRST_NAME,
        "customer_last_name": LAST_NAME,
    }
    return purchase(order_id, **(values | udo))


def leaks(text: str) -> list[str]:
    """The names (never the values) of the raw values found in the text."""
    return [name for name, value in RAW.items() if value in text]


def read_queue(queue_url: str, consume: bool) -> list[dict]:
    """Raw messages (body text and attributes); left on the queue unless `consume`."""
    sqs, found, seen = boto3.client("sqs"), [], set()
    while True:
        got = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            VisibilityTimeout=30 if consume else 0,
        ).get("Messages", [])
        fresh = [m for m in got if m["MessageId"] not in seen]
        if not fresh:
            return found
        for message in fresh:
            seen.add(message["MessageId"])
            found.append({"body": message["Body"], "attributes": message.get("MessageAttributes", {})})
            if consume:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def without_own_oppref(message: dict) -> str:
    """A queue message as text, minus the places an oppref and an obref belong: its own event's fields."""
    body = json.loads(message["body"])
    if body.get("event", {}).get("oppref") == OPPREF:
        body["event"]["oppref"] = "<the event's own oppref>"
    if body.get("event", {}).get("user", {}).get("obref") == OBREF:
        body["event"]["user"]["obref"] = "<the event's own obref>"
    return json.dumps(body, ensure_ascii=False) + json.dumps(message["attributes"], ensure_ascii=False)


@pytest.fixture
def debug_handlers(connector_env, monkeypatch, capsys, caplog):
    """Both handlers at DEBUG, with a decoy OPENAI_API_KEY in the environment; loaded inside the test so
    that Powertools' Logger writes to the stdout capsys captures."""
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    caplog.set_level(logging.DEBUG)  # botocore, urllib3 and Powertools' own loggers too
    ingest, sender = load_handler("ingest"), load_handler("batch_sender")
    fast_client(ingest)
    fast_client(sender)
    return ingest, sender


def echo_raw_values(standin, monkeypatch, ids: set[str]) -> None:
    """OpenAI's 400 for these events quotes everything it could have seen (and raw-looking values)."""
    check = standin._check

    def echoing(method, path, query, headers, body):
        answer, parsed = check(method, path, query, headers, body)
        events = parsed.get("events", []) if isinstance(parsed, dict) else []
        for index, event in enumerate(events):
            if isinstance(event, dict) and event.get("id") in ids:
                # what it received (oppref, hashes, URL), the key from the header, and raw-looking values
                message = (
                    f"Invalid event at events[{index}]: oppref '{event.get('oppref')}' does not match "
                    f"{event.get('source_url')}; user {json.dumps(event.get('user'))} unknown; "
                    f"contact {EMAIL} or {PHONE}; key {STANDIN_KEY}"
                )
                return error_answer(400, message, "invalid_event", param=f"events[{index}]"), parsed
        return answer, parsed

    monkeypatch.setattr(standin, "_check", echoing)


def test_raw_values_are_in_the_leak_guard():
    assert set(RAW.values()) <= set(leak_guard.FORBIDDEN)


def test_ingest_at_debug_leaks_nothing(debug_handlers, standin, aws, lambda_context, monkeypatch, capsys, caplog):
    ingest, _ = debug_handlers
    echo_raw_values(standin, monkeypatch, {"ORD-ECHO"})
    answers = []
    # sent; rejected at the edge (too old, bad phone and email shapes); rejected by OpenAI with an echo
    too_old = canary("ORD-OLD", tealium_timestamp_epoch="1000000000")
    bad_shapes = canary("ORD-SHAPES", customer_phone=f"{PHONE} ext. 9", customer_email=f"{EMAIL} {EMAIL}")
    answers.append(
        call(ingest, "purchase", [canary("ORD-OK"), too_old, bad_shapes, canary("ORD-ECHO")], lambda_context)
    )
    # the whole body unreadable, and the payload where the form field should be
    answers.append(call(ingest, "purchase", f'{{"customer_email": "{EMAIL}", ', lambda_context))
    answers.append(
        call(ingest, "purchase", f"oppref={OPPREF}", lambda_context, content_type="application/x-www-form-urlencoded")
    )
    # batched, and real-time while OpenAI is down: both end on the queue
    answers.append(call(ingest, "purchase_batched", [canary("ORD-Q1")], lambda_context))
    standin.outage([Fault.reset(), Fault.status(503)], count=100)
    answers.append(call(ingest, "purchase", [canary("ORD-Q2")], lambda_context))

    statuses = [status for status, _ in answers]
    assert statuses == [200, 400, 400, 202, 202]
    first = {r["id"]: r for r in answers[0][1]["results"]}
    assert [first[i]["status"] for i in ("ORD-OK", "ORD-OLD", "ORD-SHAPES", "ORD-ECHO")] == [
        "sent",
        "rejected",
        "sent",
        "rejected",
    ]
    echoed = first["ORD-ECHO"]["errors"][0]["reason"]
    assert echoed.startswith("OpenAI rejected it: Invalid event at events[")  # the message, with values cut out
    assert {w["field"] for w in first["ORD-SHAPES"]["warnings"]} == {"user.phone", "user.email"}

    messages = read_queue(aws.queue_url, consume=False)
    assert sorted(json.loads(m["body"])["event"]["id"] for m in messages) == ["ORD-Q1", "ORD-Q2"]
    assert all(json.loads(m["body"])["event"]["oppref"] == OPPREF for m in messages)  # passed through, as it must
    assert all(json.loads(m["body"])["event"]["user"]["obref"] == OBREF for m in messages)  # likewise

    out = capsys.readouterr()
    assert '"level":"DEBUG"' in out.out or caplog.records, "DEBUG logging was not on"
    assert '"_aws"' in out.out, "no EMF metrics were printed"
    assert leaks(out.out + out.err) == [], "stdout/stderr (logs and EMF metrics)"
    assert leaks(caplog.text) == [], "log records"
    assert leaks(json.dumps([answer for _, answer in answers], ensure_ascii=False)) == [], "answers"
    assert leaks("".join(without_own_oppref(m) for m in messages)) == [], "queue messages"


def test_batch_sender_at_debug_leaks_nothing(debug_handlers, standin, aws, lambda_context, monkeypatch, capsys, caplog):
    ingest, sender = debug_handlers
    echo_raw_values(standin, monkeypatch, {"ORD-B3"})
    status, _ = call(ingest, "purchase_batched", [canary(f"ORD-B{i}") for i in range(6)], lambda_context)
    assert status == 202
    # a failed first try (a reset, then 500s) and the echoing rejection of one event
    standin.outage([Fault.reset(), Fault.status(500)], count=4)
    drain(poller_for(sender, aws.queue_url))
    assert sorted(standin.event_ids()) == [f"ORD-B{i}" for i in range(6) if i != 3]

    dead = read_queue(aws.dlq_url, consume=True)
    assert len(dead) == 1
    reason = json.loads(dead[0]["body"])["dead_letter"]["reason"]
    assert reason.startswith("OpenAI rejected it: Invalid event at events[")
    assert dead[0]["attributes"]["reason"]["StringValue"] == reason

    out = capsys.readouterr()
    assert leaks(out.out + out.err) == [], "stdout/stderr (logs and EMF metrics)"
    assert leaks(caplog.text) == [], "log records"
    assert leaks(without_own_oppref(dead[0])) == [], "dead-letter message"


def test_emails_and_phone_numbers_in_urls_free_text_and_items_never_leave(
    debug_handlers, standin, lambda_context, capsys, caplog
):
    ingest, _ = debug_handlers
    leak_guard.carried(EMAIL, EMAIL.lower(), PHONE)  # no request body may hold them, in any field or form
    # GIVEN a purchase whose page URL carries the email (encoded, raw in the fragment, in user info) and the
    # phone number in a kept campaign tag, and whose first item's name holds the email
    page = "https://shop.example.com/checkout/thank-you"
    query = f"utm_source=mail&email={quote(EMAIL, safe='')}&utm_content={quote(PHONE, safe='')}&order=ORD-URL"
    bought = canary("ORD-URL", _cprodname=[f"Gift card for {EMAIL}", "Blue Hoodie"])
    bought["data"]["dom"]["url"] = (
        f"https://{quote(EMAIL, safe='')}:x@shop.example.com/checkout/thank-you?{query}#{EMAIL}"
    )
    # ...and a custom event whose properties hold the phone number and, nested, the email
    signup = canary("ORD-SIGNUP", newsletter_list=PHONE, newsletter_double_opt_in={"contact": [EMAIL], "ok": True})
    # WHEN both are posted at DEBUG
    answers = [
        call(ingest, "purchase", bought, lambda_context),
        call(ingest, "newsletter_signup", signup, lambda_context),
    ]
    # THEN both are sent without them, each drop warned about by field and attribute
    assert [(status, answer["results"][0]["status"]) for status, answer in answers] == [(200, "sent"), (200, "sent")]
    purchase_sent, signup_sent = (request.json["events"][0] for request in standin.accepted_requests())
    assert purchase_sent["source_url"] == f"{page}?utm_source=mail"
    assert [item.get("name") for item in purchase_sent["data"]["contents"]] == [None, "Blue Hoodie"]
    assert "list_name" not in signup_sent["data"]
    assert signup_sent["data"]["double_opt_in"] == {"contact": [], "ok": True}
    assert answers[0][1]["results"][0]["warnings"] == [
        {
            "field": "source_url",
            "reason": "the utm_content query parameter was dropped: its value looks like a phone number; "
            'read from "dom.url"',
        },
        {"field": "data.contents[0].name", "reason": 'dropped: looks like an email address; read from "_cprodname"'},
    ]
    assert answers[1][1]["results"][0]["warnings"] == [
        {"field": "data.list_name", "reason": 'dropped: looks like a phone number; read from "newsletter_list"'},
        {
            "field": "data.double_opt_in.contact[0]",
            "reason": 'dropped: looks like an email address; read from "newsletter_double_opt_in"',
        },
    ]
    # ...and nowhere else either: logs, metrics, answers, request bodies (field by field: leak_guard.scan_body)
    out = capsys.readouterr()
    assert leaks(out.out + out.err + caplog.text) == []
    assert leaks(json.dumps([answer for _, answer in answers], ensure_ascii=False)) == []
    assert [found for r in standin.requests for found in leak_guard.scan_body(r.body)] == []


def test_the_key_comes_from_secrets_manager_only(debug_handlers, standin, lambda_context, capsys, caplog):
    ingest, _ = debug_handlers
    # GIVEN OpenAI accepts only the key in OPENAI_API_KEY, not the one in the secret
    standin.api_keys = {ENV_KEY}
    # WHEN an event is sent
    status, answer = call(ingest, "purchase", canary("ORD-KEY"), lambda_context)
    # THEN the connector used the secret's key (refused, so the event is queued) and never the env var
    assert (status, answer["results"][0]["status"]) == (202, "queued")
    assert {r.headers["Authorization"] for r in standin.requests} == {f"Bearer {STANDIN_KEY}"}
    out = capsys.readouterr()
    assert leaks(out.out + out.err + caplog.text) == []


@pytest.mark.parametrize(
    "message, expected",
    [
        ("Invalid event at events[3]: timestamp_ms too old", "Invalid event at events[3]: timestamp_ms too old"),
        (f"oppref '{OPPREF}' unknown", "oppref '[redacted]' unknown"),
        (f"no user for {EMAIL.lower()}, {PHONE}", "no user for [redacted], [redacted]"),
        ("call +1 (555) 123-4567 now", "call [redacted] now"),
        (f"key {STANDIN_KEY} refused", "key [redacted] refused"),
        ("x" * 400, "x" * 299 + "…"),
    ],
)
def test_vendor_messages_are_redacted(message, expected):
    from connector.core.redact import redact_vendor_message

    sent = [json.dumps({"id": "ORD-R", "oppref": OPPREF, "action_source": "web"}).encode()]
    assert redact_vendor_message(message, sent, secrets=[STANDIN_KEY]) == expected
