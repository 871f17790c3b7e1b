"""The events queue is untrusted input: a forged message cannot choose where the batch sender posts,
which API key it sends or which pixel it names. Each forged message is dead-lettered with its reason,
and no request leaves: neither to the OpenAI stand-in nor to a second socket posing as the attacker's host."""

from __future__ import annotations

import json
import socket
import threading
import time

import boto3
import pytest
from connector.core.errors import ConfigError
from connector.core.queue_message import MESSAGE_VERSION, to_message
from connector.core.wire.request import encode_event

from local.handlers import load_handler
from tests.support.loopback import STANDIN_PIXEL, drain, poller_for

pytestmark = pytest.mark.integration


class AttackerHost:
    """A listening socket that counts every connection made to it: the host a forged message names."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._server.accept()
            except TimeoutError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._server.close()


@pytest.fixture
def attacker():
    host = AttackerHost()
    yield host
    host.close()


def page_view(event_id: str) -> dict:
    return {
        "id": event_id,
        "type": "page_viewed",
        "timestamp_ms": round(time.time() * 1000),
        "source_url": "https://shop.example.com/",
        "action_source": "web",
        "data": {"type": "contents"},
    }


def genuine(event_id: str, action: str = "page_view") -> dict:
    return json.loads(to_message(action, encode_event(page_view(event_id))))


def forged_messages(attacker_url: str) -> dict[str, dict]:
    old_route = {
        "pixel_id": "px_attacker",
        "api_key_secret_id": "attacker-secret",
        "validate_only": False,
        "base_url": attacker_url,
    }
    return {
        "base_url": genuine("F-BASE") | {"base_url": attacker_url},
        "route": genuine("F-ROUTE") | {"route": old_route},
        "pixel": genuine("F-PIXEL") | {"pixel_id": "px_attacker"},
        "secret": genuine("F-SECRET") | {"api_key_secret_id": "attacker-secret"},
        "action": genuine("F-ACTION", action="attacker_action"),
        "version 1 with its route": {"v": 1, "route": old_route, "event": page_view("F-V1")},
        "unknown version": genuine("F-V3") | {"v": MESSAGE_VERSION + 1},
        "no version": {key: value for key, value in genuine("F-NOV").items() if key != "v"},
        "action not text": genuine("F-ACTTYPE") | {"action": {"name": "page_view", "base_url": attacker_url}},
        "event not an object": genuine("F-EVT") | {"event": [page_view("F-EVT")]},
    }


def send(queue_url: str, bodies: list[str]) -> None:
    sqs = boto3.client("sqs")
    for body in bodies:
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)


def dead_letter_reasons(queue_url: str) -> list[str]:
    sqs = boto3.client("sqs")
    reasons = []
    while got := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]):
        if not got.get("Messages"):
            break
        reasons += [m["MessageAttributes"]["reason"]["StringValue"] for m in got["Messages"]]
        for message in got["Messages"]:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return reasons


EXPECTED_REASONS = {
    "base_url": "message: holds a key other than",
    "route": "message: holds a key other than",
    "pixel": "message: holds a key other than",
    "secret": "message: holds a key other than",
    "action": "message.action: not an action this sender is configured with",
    "version 1 with its route": "message.v: unknown message version",
    "unknown version": "message.v: unknown message version",
    "no version": "message.v: unknown message version",
    "action not text": "message.action: must name an action",
    "event not an object": "message.event: must be an object",
}


@pytest.mark.parametrize("case", sorted(EXPECTED_REASONS))
def test_forged_message_is_dead_lettered_and_no_request_leaves(case, batch_app, standin, aws, attacker):
    send(aws.queue_url, [json.dumps(forged_messages(attacker.base_url)[case])])

    drain(poller_for(batch_app, aws.queue_url))

    assert standin.requests == []
    assert attacker.connections == 0
    (reason,) = dead_letter_reasons(aws.dlq_url)
    assert reason.startswith(EXPECTED_REASONS[case])


def test_genuine_messages_beside_forged_ones_go_only_where_the_configuration_says(batch_app, standin, aws, attacker):
    forged = forged_messages(attacker.base_url)
    send(aws.queue_url, [json.dumps(genuine("OK-1")), *map(json.dumps, forged.values()), json.dumps(genuine("OK-2"))])

    drain(poller_for(batch_app, aws.queue_url))

    # The control: the harness sees requests when they are made, and they carry the configured pixel.
    assert sorted(standin.event_ids()) == ["OK-1", "OK-2"]
    assert {request.query["pid"] for request in standin.requests} == {STANDIN_PIXEL}
    assert attacker.connections == 0
    assert len(dead_letter_reasons(aws.dlq_url)) == len(forged)


def test_action_override_pixel_comes_from_the_senders_actions_document(
    connector_env, monkeypatch, tmp_path, standin, aws, attacker
):
    document = {
        "actions": {"page_view": {"delivery": "batched", "event_type": "page_viewed", "pixel_id": "px_override"}}
    }
    path = tmp_path / "actions.json"
    path.write_text(json.dumps(document))
    monkeypatch.setenv("ACTIONS_CONFIG", str(path))
    app = load_handler("batch_sender")
    send(aws.queue_url, [json.dumps(genuine("OV-1"))])

    drain(poller_for(app, aws.queue_url))

    assert [request.query["pid"] for request in standin.requests] == ["px_override"]


@pytest.mark.parametrize("base_url", ["http://attacker.example", "https://user:pw@bzr.openai.com", "ftp://x"])
def test_sender_checks_base_url_as_ingest_does(connector_env, monkeypatch, base_url):
    monkeypatch.setenv("BASE_URL", base_url)
    with pytest.raises(ConfigError, match="BASE_URL"):
        load_handler("batch_sender")
    with pytest.raises(ConfigError, match="BASE_URL"):
        load_handler("ingest")


def test_sender_refuses_an_actions_document_that_gives_an_action_no_pixel(connector_env, monkeypatch):
    monkeypatch.delenv("PIXEL_ID")
    with pytest.raises(ConfigError, match=r"actions\.\w+\.pixel_id"):
        load_handler("batch_sender")


def test_dead_lettered_message_redriven_to_the_queue_is_sent(batch_app, standin, aws):
    # What `aws sqs start-message-move-task` moves back: the message with its dead_letter note.
    redriven = genuine("RD-1") | {"dead_letter": {"reason": "OpenAI answered 401 ...", "at_ms": 1}}
    send(aws.queue_url, [json.dumps(redriven)])

    drain(poller_for(batch_app, aws.queue_url))

    assert standin.event_ids() == ["RD-1"]
    assert dead_letter_reasons(aws.dlq_url) == []
