"""BatchSenderFunction end to end: ingest enqueues, the event source mapping is played locally, the
stand-in records what OpenAI would receive. Small cases on moto; the 2,500-event case on a fast SQS."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from connector.core.wire.request import MAX_REQUEST_BYTES, encode_event

from local.handlers import apply_environment, connector_environment, load_handler
from local.openai_standin import Fault
from tests.support.loopback import (
    CONNECTOR_SETTINGS,
    STANDIN_KEY,
    STANDIN_PIXEL,
    call,
    dead_letters,
    drain,
    fast_client,
    page_views,
    poller_for,
    purchase,
)
from tests.support.repo import load_event

pytestmark = pytest.mark.integration


def test_one_rejected_event_is_dead_lettered_with_openai_message_and_the_rest_delivered(
    ingest_app, batch_app, standin, aws, lambda_context
):
    standin.reject_ids = {"ORD-7"}
    status, _ = call(ingest_app, "purchase_batched", [purchase(f"ORD-{i}") for i in range(20)], lambda_context)
    assert status == 202
    drain(poller_for(batch_app, aws.queue_url))
    assert sorted(standin.event_ids()) == sorted(f"ORD-{i}" for i in range(20) if i != 7)
    ((event_id, reason, attribute),) = dead_letters(aws.dlq_url)
    assert event_id == "ORD-7"
    assert reason.startswith("OpenAI rejected it: ") and "stand-in" in reason
    assert attribute == reason


def test_openai_500_then_recovery_loses_nothing(ingest_app, batch_app, standin, aws, lambda_context):
    fast_client(batch_app)
    call(ingest_app, "purchase_batched", [purchase(f"ORD-{i}") for i in range(30)], lambda_context)
    standin.outage([Fault.status(500)], count=4)  # every attempt of the first invocation fails
    poller = poller_for(batch_app, aws.queue_url)
    assert poller.poll_once() == 30
    assert poller.failures == 30 and standin.events == []
    drain(poller)
    assert sorted(standin.event_ids()) == sorted(f"ORD-{i}" for i in range(30))
    assert dead_letters(aws.dlq_url) == []


def test_refused_key_keeps_events_until_they_reach_the_dead_letter_queue(
    ingest_app, batch_app, standin, aws, lambda_context
):
    call(ingest_app, "purchase_batched", [purchase(f"ORD-{i}") for i in range(3)], lambda_context)
    standin.api_keys = {"sk-not-the-one-in-the-secret"}
    poller = poller_for(batch_app, aws.queue_url)
    for receive in range(1, 5):
        assert poller.poll_once() == 3, f"receive {receive}"
    assert dead_letters(aws.dlq_url) == []  # still kept on the queue
    assert poller.poll_once() == 3  # the last receive (maxReceiveCount 5): parked with the reason
    parked = dead_letters(aws.dlq_url)
    assert sorted(event_id for event_id, _, _ in parked) == ["ORD-0", "ORD-1", "ORD-2"]
    assert all("gave up after 5 tries" in reason and "401" in reason for _, reason, _ in parked)
    assert standin.events == []


def test_event_that_aged_out_while_queued_is_dead_lettered_not_sent(batch_app, standin, aws):
    from connector.core.queue_message import to_message

    old = {
        "id": "OLD-1",
        "type": "page_viewed",
        "timestamp_ms": round(time.time() * 1000) - 8 * 86_400_000,
        "source_url": "https://shop.example.com/",
        "action_source": "web",
        "data": {"type": "contents"},
    }
    message = to_message("page_view", encode_event(old))
    boto3.client("sqs").send_message(QueueUrl=aws.queue_url, MessageBody=message)
    boto3.client("sqs").send_message(QueueUrl=aws.queue_url, MessageBody="not a connector message")
    drain(poller_for(batch_app, aws.queue_url))
    assert standin.requests == []
    sqs = boto3.client("sqs")
    got = sqs.receive_message(QueueUrl=aws.dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    reasons = sorted(m["MessageAttributes"]["reason"]["StringValue"] for m in got["Messages"])
    assert reasons == [
        "message: is not a connector queue message (JSONDecodeError)",
        "timestamp_ms: is more than 7 days in the past at send time",
    ]


def test_sample_sqs_event_is_accepted_by_the_handler(batch_app, standin, aws, lambda_context):
    event = load_event("sqs/batch-sender.json")
    now = round(time.time() * 1000)
    for record in event["Records"]:
        body = json.loads(record["body"])
        body["event"]["timestamp_ms"] = now
        record["body"] = json.dumps(body)
    answer = batch_app.lambda_handler(event, lambda_context)
    assert answer == {"batchItemFailures": []}
    assert len(standin.event_ids()) == len(event["Records"])


class QueueTime:
    """The poller's SQS client and window clock in one: time moves only while the queue has nothing to give.

    The batches are then the ones AWS forms from a queue that already holds every message (full batches, then
    the rest when the window closes), however slowly this machine receives them.
    """

    def __init__(self, sqs):
        self.sqs, self.seconds = sqs, 1_000.0

    def __call__(self) -> float:
        return self.seconds

    def receive_message(self, **request):
        answer = self.sqs.receive_message(**request)
        if not answer.get("Messages"):
            self.seconds += max(1, request.get("WaitTimeSeconds", 0))
        return answer

    def __getattr__(self, name):
        return getattr(self.sqs, name)


@pytest.fixture
def fast_aws(monkeypatch, template, standin, moto_server, fast_sqs):
    """The 2,500-event test's queues on local-aws-sqs: moto slows to seconds per message at depth."""
    from local.services import provision

    resources = provision(template, fast_sqs.endpoint_url, moto_server.endpoint_url, STANDIN_KEY, name_prefix="volume")
    env = connector_environment(resources, standin.base_url, pixel_id=STANDIN_PIXEL, **CONNECTOR_SETTINGS)
    apply_environment(monkeypatch, env)
    return resources


def test_2500_events_arrive_in_exactly_3_requests_each_within_the_limits(fast_aws, standin, lambda_context):
    ingest, sender = load_handler("ingest"), load_handler("batch_sender")
    for start in range(0, 2500, 500):
        status, answer = call(ingest, "page_view", page_views(500, start), lambda_context)
        assert status == 202 and {r["status"] for r in answer["results"]} == {"queued"}
    queue_time = QueueTime(boto3.client("sqs"))
    poller = poller_for(sender, fast_aws.queue_url, window_seconds=5, sqs_client=queue_time, monotonic=queue_time)
    drain(poller)
    requests = standin.accepted_requests()
    assert [len(r.events) for r in requests] == [1000, 1000, 500]
    assert all(len(r.body) <= MAX_REQUEST_BYTES for r in requests)
    ids = standin.event_ids()
    assert len(ids) == len(set(ids)) == 2500
    assert poller.failures == 0
