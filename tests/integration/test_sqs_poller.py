"""The local SQS event source mapping (local/sqs_poller.py) against local-aws-sqs."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest

from local.services import aws_client, start_moto, wait_for_depth
from local.sqs_poller import EventSourcePoller

pytestmark = pytest.mark.integration

REGION = "us-east-1"
RECORD_KEYS = {
    "messageId",
    "receiptHandle",
    "body",
    "attributes",
    "messageAttributes",
    "md5OfBody",
    "eventSource",
    "eventSourceARN",
    "awsRegion",
}


@pytest.fixture
def make_queue(sqs):
    def make(visibility_timeout: int = 900, max_receive_count: int | None = None) -> tuple[str, str | None]:
        attributes = {"VisibilityTimeout": str(visibility_timeout)}
        dlq_url = None
        if max_receive_count:
            dlq_url = sqs.create_queue(QueueName=f"dlq-{uuid.uuid4().hex[:10]}")["QueueUrl"]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count}
            )
        queue_url = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:10]}", Attributes=attributes)["QueueUrl"]
        return queue_url, dlq_url

    return make


def send(sqs_client, queue_url: str, count: int, body_size: int = 0, attributes: dict | None = None) -> None:
    for start in range(0, count, 10):
        entries = []
        for n in range(start, min(count, start + 10)):
            entry = {"Id": str(n), "MessageBody": json.dumps({"n": n, "pad": "x" * body_size})}
            if attributes:
                entry["MessageAttributes"] = attributes
            entries.append(entry)
        assert len(sqs_client.send_message_batch(QueueUrl=queue_url, Entries=entries)["Successful"]) == len(entries)


def depth(sqs_client, queue_url: str) -> tuple[int, int]:
    attributes = sqs_client.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


class Recorder:
    """A dummy handler: records each event, answers what `respond(event)` says."""

    def __init__(self, respond=lambda event: {"batchItemFailures": []}):
        self.events: list[dict] = []
        self.contexts: list = []
        self.respond = respond

    def __call__(self, event, context):
        self.events.append(event)
        self.contexts.append(context)
        return self.respond(event)

    def bodies(self) -> list[int]:
        return [json.loads(record["body"])["n"] for event in self.events for record in event["Records"]]


def test_2500_messages_arrive_in_batches_of_at_most_1000(sqs, make_queue):
    queue_url, _ = make_queue()
    send(sqs, queue_url, 2500)
    assert wait_for_depth(sqs, queue_url, 2500) == 2500
    handler = Recorder()
    poller = EventSourcePoller(queue_url, handler, batch_size=1000, window_seconds=3, sqs_client=sqs)

    started = time.monotonic()
    sizes = [poller.poll_once(), poller.poll_once(), poller.poll_once()]
    elapsed = time.monotonic() - started

    assert sizes == [1000, 1000, 500]  # the last one after the window: the queue ran dry
    assert sorted(handler.bodies()) == list(range(2500))
    assert (poller.batches, poller.records, poller.failures, poller.deleted) == (3, 2500, 0, 2500)
    assert depth(sqs, queue_url) == (0, 0)
    assert elapsed < 120  # catches a hang; the speed itself is a benchmark's business
    print(f"2,500 messages in 3 batches: {elapsed:.1f} s (3 s of it the last batch's window)")


def test_records_have_the_lambda_sqs_event_shape(sqs, make_queue):
    queue_url, _ = make_queue()
    send(sqs, queue_url, 3, attributes={"action": {"DataType": "String", "StringValue": "purchase"}})
    handler = Recorder()
    poller = EventSourcePoller(queue_url, handler, batch_size=3, window_seconds=5, sqs_client=sqs)
    assert poller.poll_once() == 3

    record = handler.events[0]["Records"][0]
    assert RECORD_KEYS <= set(record) <= RECORD_KEYS | {"md5OfMessageAttributes"}
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == f"arn:aws:sqs:{REGION}:123456789012:{queue_url.rsplit('/', 1)[1]}"
    assert record["awsRegion"] == REGION
    assert set(record["attributes"]) == {
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SenderId",
        "ApproximateFirstReceiveTimestamp",
    }
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"] == {
        "action": {"stringValue": "purchase", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
    }
    context = handler.contexts[0]
    assert context.function_name and context.aws_request_id and context.memory_limit_in_mb
    assert context.invoked_function_arn.startswith("arn:aws:lambda:us-east-1:")
    assert 0 < context.get_remaining_time_in_millis() <= 900_000


def test_a_part_batch_goes_when_the_window_closes(sqs, make_queue):
    queue_url, _ = make_queue()
    send(sqs, queue_url, 30)
    progress: list[tuple] = []
    handler = Recorder()
    poller = EventSourcePoller(
        queue_url,
        handler,
        batch_size=1000,
        window_seconds=0.5,
        sqs_client=sqs,
        on_progress=lambda *args: progress.append(args),
    )
    started = time.monotonic()
    assert poller.poll_once() == 30
    # the window (0.5 s) closed the batch, not the 1,000 messages it never got: far below any such wait
    assert 0.4 < time.monotonic() - started < 30
    assert progress and progress[-1][0] == 30 and progress[-1][1] == 1000 and progress[-1][3] == 0.5
    assert progress[-1][2] >= 0.5


def test_an_empty_queue_gives_no_batch(sqs, make_queue):
    queue_url, _ = make_queue()
    handler = Recorder()
    poller = EventSourcePoller(queue_url, handler, window_seconds=1, wait_time_seconds=0, sqs_client=sqs)
    assert poller.poll_once() == 0
    assert handler.events == [] and poller.batches == 0


def test_batch_item_failures_come_back_and_the_rest_is_deleted(sqs, make_queue):
    queue_url, _ = make_queue()
    send(sqs, queue_url, 20)

    def fail_odd(event):
        odd = [r["messageId"] for r in event["Records"] if json.loads(r["body"])["n"] % 2]
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in odd]}

    handler = Recorder(fail_odd)
    poller = EventSourcePoller(
        queue_url, handler, batch_size=20, window_seconds=1, sqs_client=sqs, failure_visibility_timeout=0
    )
    assert poller.poll_once() == 20
    assert (poller.failures, poller.deleted) == (10, 10)

    handler.respond = lambda event: None  # success
    assert poller.poll_once() == 10
    second = handler.events[1]["Records"]
    assert sorted(json.loads(r["body"])["n"] for r in second) == list(range(1, 20, 2))
    assert {r["attributes"]["ApproximateReceiveCount"] for r in second} == {"2"}
    assert depth(sqs, queue_url) == (0, 0)


def test_failures_wait_for_the_visibility_timeout_by_default(sqs, make_queue):
    queue_url, _ = make_queue(visibility_timeout=900)
    send(sqs, queue_url, 5)
    handler = Recorder(lambda event: {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]})
    poller = EventSourcePoller(queue_url, handler, batch_size=5, window_seconds=5, sqs_client=sqs)
    assert poller.poll_once() == 5
    assert depth(sqs, queue_url) == (0, 1)  # still in flight, as on AWS


@pytest.mark.parametrize(
    "response",
    [
        {"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]},
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"wrongKey": "x"}]},
        "not a dict",
    ],
    ids=["unknown-id", "empty-id", "bad-key", "invalid-response"],
)
def test_an_invalid_failure_report_fails_the_whole_batch(sqs, make_queue, response):
    queue_url, _ = make_queue()
    send(sqs, queue_url, 4)
    poller = EventSourcePoller(
        queue_url,
        Recorder(lambda event: response),
        batch_size=4,
        window_seconds=5,
        sqs_client=sqs,
        failure_visibility_timeout=0,
    )
    assert poller.poll_once() == 4
    assert (poller.failures, poller.deleted) == (4, 0)
    assert wait_for_depth(sqs, queue_url, 4) == 4


def test_a_handler_exception_deletes_nothing(sqs, make_queue):
    queue_url, _ = make_queue()
    send(sqs, queue_url, 12)

    def explode(event):
        raise RuntimeError("boom")

    poller = EventSourcePoller(queue_url, Recorder(explode), batch_size=12, window_seconds=5, sqs_client=sqs)
    assert poller.poll_once() == 12
    assert (poller.handler_errors, poller.failures, poller.deleted) == (1, 12, 0)
    assert str(poller.last_error) == "boom"
    assert depth(sqs, queue_url) == (0, 12)  # all still there, back after the visibility timeout


def test_the_payload_byte_limit_is_respected(sqs, make_queue):
    queue_url, _ = make_queue()
    send(sqs, queue_url, 40, body_size=1000)
    handler = Recorder()
    limit = 10_000
    poller = EventSourcePoller(
        queue_url, handler, batch_size=1000, window_seconds=1, max_batch_bytes=limit, sqs_client=sqs
    )
    while poller.records < 40:
        assert poller.poll_once() > 0
    sizes = [len(json.dumps(event, separators=(",", ":")).encode()) for event in handler.events]
    assert max(sizes) <= limit
    assert min(sizes[:-1]) > limit * 0.75  # each one was full: the next record would not have fitted
    assert sorted(handler.bodies()) == list(range(40))  # each message exactly once
    assert depth(sqs, queue_url) == (0, 0)


def test_max_receive_count_dead_letters_what_keeps_failing(sqs, make_queue):
    queue_url, dlq_url = make_queue(max_receive_count=2)
    send(sqs, queue_url, 3)
    fail_all = Recorder(
        lambda event: {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}
    )
    poller = EventSourcePoller(
        queue_url, fail_all, batch_size=3, window_seconds=2, sqs_client=sqs, failure_visibility_timeout=0
    )
    assert poller.poll_once() == 3
    assert poller.poll_once() == 3
    assert wait_for_depth(sqs, dlq_url, 3, timeout=30) == 3
    assert depth(sqs, queue_url) == (0, 0)


def test_run_in_a_thread_until_stopped(sqs, make_queue):
    queue_url, _ = make_queue()
    handler = Recorder()
    poller = EventSourcePoller(
        queue_url, handler, batch_size=50, window_seconds=0.3, wait_time_seconds=1, sqs_client=sqs
    )
    thread, stop_event = poller.start()
    send(sqs, queue_url, 120)
    deadline = time.monotonic() + 60
    while poller.records < 120 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop_event.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert sorted(handler.bodies()) == list(range(120))
    assert all(len(event["Records"]) <= 50 for event in handler.events)
    assert depth(sqs, queue_url) == (0, 0)


def test_stopping_mid_window_hands_over_what_was_collected(sqs, make_queue):
    queue_url, _ = make_queue()
    send(sqs, queue_url, 5)
    handler = Recorder()
    poller = EventSourcePoller(
        queue_url, handler, batch_size=1000, window_seconds=300, wait_time_seconds=1, sqs_client=sqs
    )
    stop_event = threading.Event()
    threading.Timer(0.5, stop_event.set).start()
    started = time.monotonic()
    poller.run(stop_event)
    assert time.monotonic() - started < 60  # the stop, not the 300 s window, ended it
    assert sorted(handler.bodies()) == list(range(5))


def test_works_against_moto_sqs_too():
    moto = start_moto()
    try:
        sqs_client = aws_client("sqs", moto.endpoint_url, REGION)
        queue_url = sqs_client.create_queue(QueueName=f"q-{uuid.uuid4().hex[:10]}")["QueueUrl"]
        send(sqs_client, queue_url, 15, attributes={"a": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}})
        handler = Recorder()
        poller = EventSourcePoller(queue_url, handler, batch_size=15, window_seconds=3, sqs_client=sqs_client)
        assert poller.poll_once() == 15
        record = handler.events[0]["Records"][0]
        assert record["attributes"]["ApproximateReceiveCount"] == "1"
        assert record["messageAttributes"]["a"]["binaryValue"] == "AAE="
        assert depth(sqs_client, queue_url) == (0, 0)
    finally:
        moto.stop()
