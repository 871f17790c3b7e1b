"""SQS adapter: SendMessageBatch of connector queue messages (connector/core/queue_message.py), and the lazy client."""

from __future__ import annotations

from collections.abc import Sequence

from botocore.exceptions import BotoCoreError, ClientError

from connector.core.packing import pack_sizes
from connector.core.queue_message import MAX_MESSAGE_BYTES, MAX_REASON_CHARS, sqs_safe

#: SQS takes at most 10 messages per SendMessageBatch.
MAX_BATCH_ENTRIES = 10


def _attribute_bytes(reason: str | None) -> int:
    """What SQS counts for the `reason` attribute: its name, its data type and its value."""
    return len("reason") + len("String") + len(reason[:MAX_REASON_CHARS].encode("utf-8")) if reason else 0


class EventQueue:
    """SendMessageBatch in groups of 10 within 256 KiB; reports which messages could not be sent."""

    def __init__(self, sqs_client, queue_url: str) -> None:
        self._sqs = sqs_client
        self.queue_url = queue_url

    def send(self, messages: Sequence[str], reasons: Sequence[str | None] | None = None) -> list[str | None]:
        """Send each message; returns per message None (sent) or why it was not."""
        # One character SQS refuses fails every entry of its SendMessageBatch: escaped, message by message.
        messages = [sqs_safe(message) for message in messages]
        reasons = [sqs_safe(reason) if reason else reason for reason in reasons] if reasons else None
        failures: list[str | None] = [None] * len(messages)
        sizes = [
            len(m.encode("utf-8")) + _attribute_bytes(reasons[p] if reasons else None) for p, m in enumerate(messages)
        ]
        batches, too_large = pack_sizes(
            sizes, overhead=0, max_events=MAX_BATCH_ENTRIES, max_bytes=MAX_MESSAGE_BYTES, separator=0
        )
        for position in too_large:
            failures[position] = f"message exceeds SQS's {MAX_MESSAGE_BYTES}-byte limit"
        for batch in batches:
            entries = [self._entry(p, messages[p], reasons[p] if reasons else None) for p in batch]
            for position, failure in self._send_batch(entries).items():
                failures[position] = failure
        return failures

    @staticmethod
    def _entry(position: int, body: str, reason: str | None) -> dict[str, object]:
        entry: dict[str, object] = {"Id": str(position), "MessageBody": body}
        if reason:
            entry["MessageAttributes"] = {"reason": {"DataType": "String", "StringValue": reason[:MAX_REASON_CHARS]}}
        return entry

    def _send_batch(self, entries: list[dict[str, object]], attempts: int = 3) -> dict[int, str]:
        failed: dict[int, str] = {}
        for _ in range(attempts):
            try:
                answer = self._sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except (BotoCoreError, ClientError) as err:
                failed = {int(e["Id"]): f"SQS: {type(err).__name__}" for e in entries}
                continue
            failed = {int(f["Id"]): f"SQS: {f.get('Code', 'failed')}" for f in answer.get("Failed", [])}
            retry_ids = {str(p) for p in failed}
            entries = [e for e in entries if e["Id"] in retry_ids]
            if not entries:
                return {}
        return failed


class LazySqsClient:
    """boto3's SQS client, built on first use: a cold start that never enqueues never pays for it.

    Building the client loads the SQS service model (about 40 ms of a cold start, bench/coldstart.py);
    the ingest function enqueues only for batched actions or failed sends, the batch sender only to
    dead-letter.
    """

    def __init__(self) -> None:
        self._client = None

    def send_message_batch(self, **kwargs):
        if self._client is None:
            import boto3  # deferred with the client: see the class docstring

            # boto3 follows AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_SQS, so a local emulator needs no code here.
            self._client = boto3.client("sqs")
        return self._client.send_message_batch(**kwargs)


def sqs_queue(queue_url: str | None) -> EventQueue | None:
    return EventQueue(LazySqsClient(), queue_url) if queue_url else None
