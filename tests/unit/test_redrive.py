"""redrive (adapter): a dead letter moves back as text SQS takes, whatever its body decoded to."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError
from connector.adapters.redrive import Redrive
from connector.core.queue_message import SQS_UNSAFE


class StrictQueues:
    """Two SQS queues in memory; a send holding a character SQS refuses fails whole, as SQS answers it."""

    def __init__(self, dead_letters: list[str]) -> None:
        self.dead = {f"m{n}": body for n, body in enumerate(dead_letters)}
        self.moved: list[str] = []

    def receive_message(self, QueueUrl: str, **kwargs) -> dict:  # boto3's argument names
        messages = [{"MessageId": mid, "ReceiptHandle": mid, "Body": body} for mid, body in self.dead.items()]
        return {"Messages": messages[:10]}

    def send_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
        for entry in Entries:
            entry["MessageBody"].encode("utf-8")  # botocore serializes the request first: UnicodeEncodeError
            if SQS_UNSAFE.search(entry["MessageBody"]):
                raise ClientError({"Error": {"Code": "InvalidMessageContents"}}, "SendMessageBatch")
        self.moved += [entry["MessageBody"] for entry in Entries]
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries]}

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
        for entry in Entries:
            self.dead.pop(entry["ReceiptHandle"])
        return {}

    def change_message_visibility_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
        return {}


def test_a_body_holding_a_lone_surrogate_escape_moves_as_the_same_value():
    # GIVEN dead letters whose events hold "\udc80" and U+FFFE: written back raw, no SQS request could carry them
    events = [{"id": "s-1", "note": "x\udc80y"}, {"id": "s-2", "note": "\ufffe"}, {"id": "ok", "note": "é"}]
    bodies = [json.dumps({"v": 2, "action": "a", "event": e, "dead_letter": {"reason": "why"}}) for e in events]
    queues = StrictQueues(bodies)
    # WHEN they are redriven
    report = Redrive(queues, "dlq", "events", clock=lambda: 0).run()
    # THEN each is back in the events queue, the same value without its note, and none is left
    assert report.moved == {"why": 3} and not report.failed
    assert [json.loads(body) for body in queues.moved] == [{"v": 2, "action": "a", "event": e} for e in events]
    assert queues.dead == {}
