"""sqs_queue: one message holding a character SQS refuses never fails the other messages of its batch."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError
from connector.adapters.sqs_queue import EventQueue
from connector.core.queue_message import SQS_UNSAFE


class StrictSqs:
    """SendMessageBatch as SQS answers it: one refused character fails the whole call (InvalidMessageContents),
    and a body UTF-8 cannot encode fails before the call (botocore serializes the request first)."""

    def __init__(self) -> None:
        self.bodies: list[str] = []
        self.reasons: list[str] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:  # boto3's argument names
        for entry in Entries:
            attribute = entry.get("MessageAttributes", {}).get("reason", {}).get("StringValue", "")
            (entry["MessageBody"] + attribute).encode("utf-8")  # raises UnicodeEncodeError, as botocore would
            if SQS_UNSAFE.search(entry["MessageBody"] + attribute):
                error = {"Error": {"Code": "InvalidMessageContents", "Message": "Invalid characters"}}
                raise ClientError(error, "SendMessageBatch")
        self.bodies += [entry["MessageBody"] for entry in Entries]
        self.reasons += [entry.get("MessageAttributes", {}).get("reason", {}).get("StringValue") for entry in Entries]
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries]}


def test_a_lone_surrogate_or_a_non_character_is_escaped_and_every_message_sent():
    sqs = StrictSqs()
    messages = [
        json.dumps({"n": 1}),
        json.dumps({"n": 2, "note": "a\ud800b"}, ensure_ascii=False),  # a decoded "\ud800" escape, written raw
        json.dumps({"n": 3, "note": "\ufffe\uffff"}, ensure_ascii=False),
        json.dumps({"n": 4, "note": "Ștefănescu ✓"}, ensure_ascii=False),
    ]
    failures = EventQueue(sqs, "q").send(messages, ["ok", "why \udc80", None, "fine"])
    assert failures == [None, None, None, None]
    # The same values, read back
    assert [json.loads(body) for body in sqs.bodies] == [json.loads(message) for message in messages]
    assert sqs.reasons == ["ok", "why \\udc80", None, "fine"]
