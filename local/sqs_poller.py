"""Plays Lambda's SQS event source mapping for a handler, locally.

Like the real mapping it long-polls the queue 10 messages at a time and invokes the handler once the
batch is full (``batch_size``), the batching window has passed since the first message, or the next
message would push the event past Lambda's 6 MB invoke payload limit. With ReportBatchItemFailures it
deletes every record not listed in the response's ``batchItemFailures``; if the handler raises, it
deletes nothing. Records it does not delete come back after the queue's visibility timeout (as on AWS)
or, with ``failure_visibility_timeout=0``, at once; the queue's RedrivePolicy dead-letters them after
maxReceiveCount receives.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

LAMBDA_PAYLOAD_LIMIT = 6_000_000
_EVENT_OVERHEAD = len('{"Records":[]}')


@dataclass
class FakeLambdaContext:
    """The parts of Lambda's context object that handlers and Powertools read."""

    function_name: str = "BatchSenderFunction"
    memory_limit_in_mb: int = 512
    timeout_seconds: float = 900.0
    region: str = "us-east-1"

    def __post_init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{self.region}:123456789012:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = f"local/{self.aws_request_id}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class EventSourcePoller:
    def __init__(
        self,
        queue_url: str,
        handler: Callable[[dict[str, Any], Any], Any],
        batch_size: int = 1000,
        window_seconds: float = 300,
        max_batch_bytes: int = LAMBDA_PAYLOAD_LIMIT,
        report_batch_item_failures: bool = True,
        sqs_client: Any = None,
        on_progress: Callable[[int, int, float, float], None] | None = None,
        failure_visibility_timeout: int | None = None,
        wait_time_seconds: int = 5,
        function_name: str = "BatchSenderFunction",
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """``failure_visibility_timeout``: None leaves records that failed to the queue's visibility
        timeout (what AWS does); a number sets their visibility to it (0: visible again at once).
        ``wait_time_seconds``: the longest single long poll (0-20), so also about the longest ``run``
        takes to notice its stop event.
        ``monotonic``: the seconds clock the batching window runs on; tests pass one that moves only
        while the queue is empty, so a batch's size never depends on the machine's speed.
        """
        self.queue_url = queue_url
        self.handler = handler
        self.batch_size = batch_size
        self.window_seconds = window_seconds
        self.max_batch_bytes = max_batch_bytes
        self.report_batch_item_failures = report_batch_item_failures
        self.sqs = sqs_client or boto3.client("sqs")
        self.on_progress = on_progress
        self.failure_visibility_timeout = failure_visibility_timeout
        self.wait_time_seconds = wait_time_seconds
        self.function_name = function_name
        self.monotonic = monotonic
        self.region = self.sqs.meta.region_name
        self.queue_arn = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self._carry: list[tuple[dict[str, Any], int]] = []  # received, did not fit the last batch
        self.batches = self.records = self.failures = self.deleted = self.handler_errors = 0
        self.last_error: BaseException | None = None

    # -- collecting ------------------------------------------------------------------------------

    def _to_record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = message.get("Attributes", {})
        record = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {
                name: attributes[name]
                for name in (
                    "ApproximateReceiveCount",
                    "SentTimestamp",
                    "SenderId",
                    "ApproximateFirstReceiveTimestamp",
                )
                if name in attributes
            },
            "messageAttributes": {
                name: _lambda_message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }
        if "MD5OfMessageAttributes" in message:
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        return record

    def _receive(self, wanted: int, wait: int) -> list[tuple[dict[str, Any], int]]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(10, wanted),
            WaitTimeSeconds=wait,
            AttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        records = [self._to_record(message) for message in response.get("Messages", [])]
        return [(record, len(json.dumps(record, separators=(",", ":")).encode()) + 1) for record in records]

    def collect(self, stop_event: threading.Event | None = None) -> list[dict[str, Any]]:
        """One batch as the event source mapping would hand it over (may be empty when the queue is)."""
        batch: list[dict[str, Any]] = []
        size, started = _EVENT_OVERHEAD, None
        pending, self._carry = self._carry, []
        while True:
            elapsed = 0.0 if started is None else self.monotonic() - started
            if len(batch) >= self.batch_size or (started is not None and elapsed >= self.window_seconds):
                break
            if stop_event is not None and stop_event.is_set():
                break
            if not pending:
                remaining = self.wait_time_seconds if started is None else self.window_seconds - elapsed
                wait = int(max(0, min(20, self.wait_time_seconds, remaining)))
                pending = self._receive(self.batch_size - len(batch), wait)
                if not pending and started is None:
                    break  # nothing arrived during one long poll: no batch this time
            while pending and len(batch) < self.batch_size:
                record, record_size = pending[0]
                if batch and size + record_size > self.max_batch_bytes:
                    self._carry = pending  # the payload is full: these open the next batch
                    return batch
                pending.pop(0)
                batch.append(record)
                size += record_size
                started = started or self.monotonic()
            if self.on_progress is not None and started is not None:
                self.on_progress(len(batch), self.batch_size, self.monotonic() - started, self.window_seconds)
        self._carry = pending + self._carry
        return batch

    # -- invoking --------------------------------------------------------------------------------

    def poll_once(self, stop_event: threading.Event | None = None) -> int:
        """Collect one batch, invoke the handler, settle the records. Returns the batch's size."""
        batch = self.collect(stop_event)
        if not batch:
            return 0
        self.batches += 1
        self.records += len(batch)
        context = FakeLambdaContext(function_name=self.function_name, region=self.region)
        try:
            response = self.handler({"Records": batch}, context)
        except Exception as error:  # the whole batch goes back to the queue
            self.handler_errors += 1
            self.last_error = error
            failed = {record["messageId"] for record in batch}
        else:
            failed = self._failed_ids(response, batch)
        self.failures += len(failed)
        self._settle(batch, failed)
        return len(batch)

    def _failed_ids(self, response: Any, batch: list[dict[str, Any]]) -> set[str]:
        """The records to return to the queue, by Lambda's rules for ReportBatchItemFailures."""
        everything = {record["messageId"] for record in batch}
        if not self.report_batch_item_failures or not response:
            return set()
        if not isinstance(response, dict):
            return everything  # not a valid response: the whole batch failed
        items = response.get("batchItemFailures")
        if not items:
            return set()
        failed = set()
        for item in items:
            identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
            if not identifier or identifier not in everything:
                return everything  # empty, null or unknown itemIdentifier: the whole batch failed
            failed.add(identifier)
        return failed

    def _settle(self, batch: list[dict[str, Any]], failed: set[str]) -> None:
        done = [record for record in batch if record["messageId"] not in failed]
        for chunk in _chunks(done, 10):
            response = self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)],
            )
            self.deleted += len(response.get("Successful", []))
        if self.failure_visibility_timeout is not None:
            self.release([record for record in batch if record["messageId"] in failed])

    def release(self, records: list[dict[str, Any]]) -> None:
        """Set the records' visibility to ``failure_visibility_timeout`` (0 when unset)."""
        timeout = self.failure_visibility_timeout or 0
        for chunk in _chunks(records, 10):
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": r["receiptHandle"], "VisibilityTimeout": timeout}
                    for i, r in enumerate(chunk)
                ],
            )

    def run(self, stop_event: threading.Event) -> None:
        """Poll until ``stop_event`` is set; a batch being filled then is handed over as it is."""
        try:
            while not stop_event.is_set():
                self.poll_once(stop_event)
        finally:
            carried, self._carry = [record for record, _ in self._carry], []
            self.release(carried)

    def start(self) -> tuple[threading.Thread, threading.Event]:
        """``run`` in a daemon thread; set the returned event and join the thread to stop it."""
        stop_event = threading.Event()
        thread = threading.Thread(target=self.run, args=(stop_event,), name="sqs-event-source", daemon=True)
        thread.start()
        return thread, stop_event


def _lambda_message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """SQS's MessageAttributeValue as Lambda's SQS event spells it (camelCase, binary in base64)."""
    converted: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
    if "StringValue" in value:
        converted["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        converted["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return converted


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
