"""Limits, each met with a clear answer at the edge: SQS's 256 KiB message, our 5 MiB body (API Gateway's
10 MB is tested in test_openapi.py), OpenAI's 1 MB request and 1,000 events per request.

Sizes are built to the byte with the connector's own serialization, so each case sits exactly on one
side of its limit.
"""

from __future__ import annotations

import json
import time
import tracemalloc

import pytest
from connector.core.pipeline import prepare_events
from connector.core.queue_message import ATTRIBUTE_ALLOWANCE, MAX_MESSAGE_BYTES, to_message
from connector.core.settings import DEFAULT_INTEGRATION_SOURCE
from connector.core.tealium_batch import body_too_large
from connector.core.wire.build import MAX_TEXT_CHARS, MAX_URL_CHARS
from connector.core.wire.request import MAX_REQUEST_BYTES, request_body, request_overhead
from connector.services.ingest import MAX_BODY_BYTES, MAX_EVENTS_PER_CALL

from local.handlers import load_handler
from local.sqs_poller import FakeLambdaContext
from tests.support.loopback import call, dead_letters, drain, loaded_ingest, poller_for, purchase, queued_messages

pytestmark = pytest.mark.integration


def ingest_context() -> FakeLambdaContext:
    """A fresh context per call: one made at import would count down its 29 s while earlier tests run."""
    return FakeLambdaContext(function_name="IngestFunction", timeout_seconds=29)


#: The largest queue message ingest takes (the rest of SQS's 256 KiB is kept for the dead-letter reason).
QUEUE_LIMIT = MAX_MESSAGE_BYTES - ATTRIBUTE_ALLOWANCE


@pytest.fixture(scope="module")
def handlers(template, moto_server, standin_server):
    with loaded_ingest(template, moto_server, standin_server, "limits") as (ingest, resources):
        sender = load_handler("batch_sender")
        from connector.adapters.openai_client import OpenAIClient

        sender.service.sender.client = OpenAIClient(read_timeout=2, backoff_factor=0.01, backoff_max=0.05)
        yield ingest, sender, resources


@pytest.fixture
def standin(standin_server):
    standin_server.reset()
    yield standin_server
    standin_server.reset()


def prepared(ingest, action: str, documents: list[dict]):
    service = ingest.service
    return prepare_events(service.actions[action], documents, service.settings, round(time.time() * 1000))


def queue_message_bytes(ingest, action: str, document: dict) -> int:
    (event,) = prepared(ingest, action, [document])
    assert event.ok, event.errors
    return len(to_message(action, event.encoded).encode())


def fill(setters, max_chars: int, measure, target: int) -> None:
    """Pad ASCII text slots (each up to `max_chars`) until `measure()` is exactly `target` bytes."""
    for put in setters:
        put("p")
    remaining = target - measure()
    assert remaining >= 0, "too large before padding"
    for put in setters:
        extra = min(max_chars - 1, remaining)
        put("p" * (1 + extra))
        remaining -= extra
    assert remaining == 0, "not enough room to pad"
    assert measure() == target


def with_queue_size(ingest, order_id: str, target: int) -> dict:
    """A purchase whose queue message is exactly `target` bytes: 300 products with long (ASCII) names."""
    count = 300
    names = [""] * count
    document = purchase(
        order_id,
        _cprodname=names,
        _csku=[f"S{i}" for i in range(count)],
        _cprice=["1.00"] * count,
        _cquan=["1"] * count,
        _ccat=["c"] * count,
    )
    setters = [lambda value, i=i: names.__setitem__(i, value) for i in range(count)]
    fill(setters, MAX_TEXT_CHARS, lambda: queue_message_bytes(ingest, "purchase_batched", document), target)
    return document


def test_event_just_under_the_queue_limit_is_queued_just_over_is_refused(handlers, standin):
    ingest, _, aws = handlers
    # GIVEN two events whose queue messages are QUEUE_LIMIT and QUEUE_LIMIT + 1 bytes
    fits = with_queue_size(ingest, "ORD-FITS", QUEUE_LIMIT)
    too_big = with_queue_size(ingest, "ORD-TOO-BIG", QUEUE_LIMIT + 1)
    # WHEN both are posted to a batched action
    status, answer = call(ingest, "purchase_batched", [fits, too_big], ingest_context())
    # THEN the first is queued, the second refused with an error naming the event and the limit
    assert status == 202
    queued, refused = answer["results"]
    assert queued["status"] == "queued"
    assert refused["status"] == "rejected"
    (error,) = refused["errors"]
    assert error["field"] == "event"
    assert error["reason"] == f"is {QUEUE_LIMIT + 1} bytes as a queue message; SQS takes at most {QUEUE_LIMIT}"
    (message,) = queued_messages(aws.queue_url)
    assert message["event"]["id"] == "ORD-FITS"


def test_largest_queued_event_still_fits_the_dead_letter_queue_with_its_reason(handlers, standin):
    ingest, sender, aws = handlers
    # GIVEN the largest event ingest queues, which OpenAI then refuses
    standin.reject_ids = {"ORD-BIGGEST"}
    status, _ = call(ingest, "purchase_batched", with_queue_size(ingest, "ORD-BIGGEST", QUEUE_LIMIT), ingest_context())
    assert status == 202
    # WHEN the batch sender takes it
    drain(poller_for(sender, aws.queue_url))
    # THEN it is parked with OpenAI's reason (not left to SQS's redrive, which parks it without one)
    ((event_id, reason, attribute),) = dead_letters(aws.dlq_url)
    assert event_id == "ORD-BIGGEST"
    assert reason.startswith("OpenAI rejected it: ") and attribute == reason[:400]


def padded_body(documents: list[dict], size: int) -> bytes:
    body = json.dumps(documents).encode()
    return body[:-1] + b" " * (size - len(body)) + b"]"


def test_body_of_exactly_5_mib_is_read_one_byte_more_is_413(handlers, standin):
    ingest, _, _ = handlers
    # GIVEN bodies of exactly MAX_BODY_BYTES and one byte more (JSON padded with spaces)
    at_limit = padded_body([purchase("ORD-5MIB")], MAX_BODY_BYTES)
    over = padded_body([purchase("ORD-5MIB-1")], MAX_BODY_BYTES + 1)
    # WHEN posted as text, and as bytes (which API Gateway hands over base64-encoded)
    for body in (at_limit.decode(), at_limit):
        status, answer = call(ingest, "purchase", body, ingest_context())
        assert (status, answer["results"][0]["status"]) == (200, "sent")
    for body in (over.decode(), over):
        status, answer = call(ingest, "purchase", body, ingest_context())
        assert status == 413
        assert answer["errors"] == [{"field": "body", "reason": body_too_large(MAX_BODY_BYTES)}]


def test_the_body_limit_counts_bytes_not_characters(handlers, standin):
    ingest, _, _ = handlers
    # GIVEN a body of fewer than 5 MiB characters but more than 5 MiB bytes ("é" is two bytes in UTF-8)
    document = purchase("ORD-WIDE")
    document["data"]["udo"]["padding"] = "é" * (MAX_BODY_BYTES // 2)
    body = json.dumps(document, ensure_ascii=False)
    assert len(body) < MAX_BODY_BYTES < len(body.encode())
    # THEN it is refused like any other body above the limit
    status, answer = call(ingest, "purchase", body, ingest_context())
    assert (status, answer["errors"][0]["field"]) == (413, "body")


def with_oppref_for_total(ingest, count: int, total: int) -> list[dict]:
    """`count` purchases whose one-request body would be exactly `total` bytes (padded in their oppref)."""
    documents = [purchase(f"ORD-MB-{i:04d}") for i in range(count)]

    def body_size() -> int:
        events = prepared(ingest, "purchase", documents)
        return len(request_body([e.encoded for e in events], False, DEFAULT_INTEGRATION_SOURCE))

    setters = [lambda value, d=d: d["data"]["udo"].__setitem__("oppref", value) for d in documents]
    fill(setters, MAX_URL_CHARS, body_size, total)
    return documents


@pytest.mark.parametrize(
    "total, requests",
    [(MAX_REQUEST_BYTES, 1), (MAX_REQUEST_BYTES + 1, 2)],
    ids=["exactly 1 MB", "1 MB + 1 byte"],
)
def test_events_beyond_1_mb_go_in_two_requests(handlers, standin, total, requests):
    ingest, _, _ = handlers
    # GIVEN 125 events that make one request body of `total` bytes
    documents = with_oppref_for_total(ingest, 125, total)
    # WHEN they are sent in one real-time call
    status, answer = call(ingest, "purchase", documents, ingest_context())
    # THEN all are sent, in as many requests as the byte cap needs, each within it
    assert status == 200 and {r["status"] for r in answer["results"]} == {"sent"}
    sent = standin.accepted_requests()
    assert len(sent) == requests
    assert all(r.body_bytes <= MAX_REQUEST_BYTES for r in sent)
    overhead = request_overhead(False, DEFAULT_INTEGRATION_SOURCE)
    assert sum(r.body_bytes for r in sent) == total + (requests - 1) * (overhead - 1)
    assert sorted(standin.event_ids()) == sorted(d["data"]["udo"]["order_id"] for d in documents)


def sqs_event(ingest, count: int) -> dict:
    """An SQS batch of `count` queued page views, as the event source mapping hands it to the sender."""
    documents = []
    for i in range(count):
        document = purchase(f"ORD-CAP-{i:05d}")
        document["event_id"] = document["data"]["udo"]["order_id"]
        documents.append(document)
    records = []
    for event in prepared(ingest, "page_view", documents):
        body = to_message("page_view", event.encoded)
        records.append(
            {
                "messageId": f"m-{event.index}",
                "receiptHandle": "r",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:1:q",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


@pytest.mark.parametrize("count, requests", [(1000, [1000]), (1001, [1000, 1])])
def test_1000_events_make_one_request_1001_make_two(handlers, standin, count, requests):
    ingest, sender, _ = handlers
    # GIVEN a batch of `count` small queued events (far below 1 MB together)
    event = sqs_event(ingest, count)
    # WHEN the batch sender takes them in one invocation
    answer = sender.lambda_handler(event, FakeLambdaContext())
    # THEN the 1,000-event cap alone decides the requests
    assert answer == {"batchItemFailures": []}
    assert [len(r.events) for r in standin.accepted_requests()] == requests
    assert len(set(standin.event_ids())) == count


def test_more_than_1000_events_in_one_call_is_refused_at_the_edge(handlers, standin):
    ingest, _, _ = handlers
    documents = [purchase(f"ORD-E-{i}") for i in range(MAX_EVENTS_PER_CALL + 1)]
    status, answer = call(ingest, "purchase", documents, ingest_context())
    assert status == 413
    assert answer["errors"] == [
        {"field": "body", "reason": f"holds {MAX_EVENTS_PER_CALL + 1} events; at most {MAX_EVENTS_PER_CALL} per call"}
    ]
    assert standin.requests == []


def test_a_5_mib_body_of_commas_costs_a_few_times_its_size_and_keeps_1000_items(handlers, standin):
    ingest, _, _ = handlers
    # GIVEN a purchase whose _csku is ~5 MiB of commas: over five million empty retail items
    document = purchase("ORD-COMMAS")
    document["data"]["udo"]["_csku"] = ""
    body = json.dumps(document)
    commas = MAX_BODY_BYTES - len(body)
    body = body.replace('"_csku": ""', '"_csku": "' + "," * commas + '"')
    assert len(body.encode()) == MAX_BODY_BYTES
    # WHEN it is posted, with the memory it allocates traced
    # first-call imports are not the body's
    call(ingest, "purchase", json.dumps(purchase("ORD-WARM-UP")), ingest_context())
    tracemalloc.start()
    try:
        status, answer = call(ingest, "purchase", body, ingest_context())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    started = time.perf_counter()
    call(ingest, "purchase", body, ingest_context())
    elapsed = time.perf_counter() - started
    print(f"\n5 MiB of commas: peak {peak / MAX_BODY_BYTES:.2f}x the body ({peak / 2**20:.1f} MiB), {elapsed:.3f} s")
    # THEN it is answered, keeping the first 1,000 items with a warning naming the rest
    assert status == 200, answer
    [result] = answer["results"]
    assert result["status"] == "sent"
    assert [w["field"] for w in result["warnings"]] == ["data.contents"]
    assert f"{commas + 1 - 1000} more in _csku" in result["warnings"][0]["reason"]
    # AND memory grew by a few times the body, not an item per comma (that was ~750 MB), in well under seconds
    assert peak < 4 * MAX_BODY_BYTES
    # an item per comma took 52 s; the bound only tells that apart from the 0.02 s it takes now (figure printed)
    assert elapsed < 10.0
