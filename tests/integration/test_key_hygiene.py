"""The API key is a secret, even when it is stored wrong: a line break pasted into the secret after the key.

Sent as it is, urllib3 refuses the header with ValueError("Invalid header value b'Bearer sk-...'"), which
quotes the whole key. The key is refused when it is read instead, naming the secret; and any error raised
while a request carries the key reaches nothing with the key in it. Real-time events are queued, the batch
sender hands them back to SQS (then dead-letters them with a key-free reason), none is lost.
"""

from __future__ import annotations

import json

import boto3
import pytest
from connector.adapters.openai_client import OpenAIClient
from connector.services.delivery import Sender
from connector.services.ingest import IngestService

from local.sqs_poller import FakeLambdaContext
from tests.support.core import bundled_actions
from tests.support.fakes import FakeKeys, FakeQueue
from tests.support.loopback import STANDIN_PIXEL, call, purchase

pytestmark = pytest.mark.integration

#: A key with the note an operator pasted after it: stripped at its ends, still a line break inside.
KEY = "sk-proj-Zq8Lw2Nx7Rv4Tb1Ky6Pc3Hd9Mf5\n# rotated in March"


def key_parts(secret: str = KEY, length: int = 8) -> set[str]:
    """Every run of `length` characters of the secret: no longer part can appear without one of them."""
    return {secret[i : i + length] for i in range(len(secret) - length + 1)}


def leaked(*texts: str) -> list[str]:
    return sorted({part for text in texts for part in key_parts() if part in text})


def sqs_records(messages: list[dict], receive_count: int) -> dict:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {"ApproximateReceiveCount": str(receive_count)},
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:events",
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


def receive_all(queue_url: str) -> list[dict]:
    sqs, found = boto3.client("sqs"), []
    while got := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=60
    ).get("Messages"):
        found += got
    return found


def test_a_key_with_a_line_break_is_refused_when_read_and_never_reaches_any_output(
    aws, ingest_app, batch_app, standin, lambda_context, capsys, caplog
):
    # GIVEN the secret holds the key and, on a second line, a note
    boto3.client("secretsmanager").put_secret_value(SecretId=aws.secret_id, SecretString=KEY)
    standin.api_keys = {KEY.split()[0]}
    # WHEN a real-time purchase comes in
    status, answer = call(ingest_app, "purchase", [purchase("ORD-K1"), purchase("ORD-K2")], lambda_context)
    # THEN the events are queued, not lost, and no request left with the key
    assert status == 202 and [r["status"] for r in answer["results"]] == ["queued", "queued"]
    assert standin.requests == []
    queued = receive_all(aws.queue_url)
    assert sorted(json.loads(m["Body"])["event"]["id"] for m in queued) == ["ORD-K1", "ORD-K2"]

    # WHEN the batch sender takes them: kept for a retry, as after a 401
    kept = batch_app.lambda_handler(sqs_records(queued, 1), FakeLambdaContext(timeout_seconds=120))
    assert sorted(f["itemIdentifier"] for f in kept["batchItemFailures"]) == sorted(m["MessageId"] for m in queued)
    # AND on the last receive they are dead-lettered with a reason that names the secret, not the key
    parked = batch_app.lambda_handler(sqs_records(queued, 5), FakeLambdaContext(timeout_seconds=120))
    assert parked == {"batchItemFailures": []}
    dead = receive_all(aws.dlq_url)
    reasons = [m["MessageAttributes"]["reason"]["StringValue"] for m in dead]
    assert len(dead) == 2 and all(aws.secret_id in reason and "whitespace" in reason for reason in reasons)
    assert standin.requests == []

    # AND no log line, metric, answer or dead letter holds any 8 characters of the secret
    captured = capsys.readouterr()
    texts = [captured.out, captured.err, caplog.text, json.dumps(answer), json.dumps(kept)]
    texts += [json.dumps(m) for m in dead]
    assert leaked(*texts) == []


def test_an_error_raised_while_the_request_carries_the_key_never_quotes_it(standin, capsys, caplog):
    # GIVEN a key provider that hands over the bad key unchecked, and the real urllib3 client
    queue = FakeQueue()
    service = IngestService(
        _settings(standin.base_url), bundled_actions(), Sender(OpenAIClient(), FakeKeys(KEY)), queue
    )
    body = json.dumps([purchase("ORD-C1"), purchase("ORD-C2")])
    # WHEN a real-time call sends (urllib3 raises ValueError quoting the Authorization header)
    answer = service.handle("purchase", body, "application/json", None)
    # THEN the events are queued, and nothing holds the key
    assert answer.status_code == 202
    assert [r["status"] for r in answer.body["results"]] == ["queued", "queued"]
    assert sorted(m["event"]["id"] for m in queue.bodies) == ["ORD-C1", "ORD-C2"]
    assert standin.requests == []
    captured = capsys.readouterr()
    assert leaked(json.dumps(answer.body), *queue.messages, captured.out, captured.err, caplog.text) == []


def test_the_client_maps_any_failure_to_a_key_free_retryable_error(standin):
    from connector.core.errors import RetryableSendError

    client = OpenAIClient()
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    with pytest.raises(RetryableSendError) as raised:
        client.post(f"{standin.base_url}/v1/events?pid={STANDIN_PIXEL}", headers, b'{"events":[]}')
    assert str(raised.value) == "the request could not be made: ValueError"
    # Raised outside the except block: the original error is neither the cause nor the context
    assert raised.value.__cause__ is None and raised.value.__context__ is None


def _settings(base_url: str):
    from connector.core.settings import Settings

    return Settings.from_env(
        {"PIXEL_ID": STANDIN_PIXEL, "API_KEY_SECRET_ID": "openai-key", "BASE_URL": base_url, "QUEUE_URL": "q"}
    )
