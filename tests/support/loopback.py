"""Driving the handlers against the loopback services: the stand-in's key and pixel, calls, queues, the poller."""

from __future__ import annotations

import contextlib
import json

import boto3
import pytest

from local.apigw import proxy_event
from local.handlers import apply_environment, connector_environment, load_handler
from local.sqs_poller import EventSourcePoller
from tests.support import leak_guard
from tests.support.repo import fresh, load_event

STANDIN_KEY = "sk-standin-0123456789abcdef"
STANDIN_PIXEL = "px_standin_1"
#: Settings every test environment spells out beside the local resources, the pixel and the base URL.
CONNECTOR_SETTINGS = {"DEFAULT_ACTION_SOURCE": "web", "API_KEY_MAX_AGE_SECONDS": "300"}


def call(app, action, body, lambda_context, **kwargs):
    if isinstance(body, dict | list):
        body = json.dumps(body)
    response = app.lambda_handler(proxy_event(action, body, **kwargs), lambda_context)
    leak_guard.scan_answer(response["body"])  # every answer: no raw value (tests/support/leak_guard.py)
    return response["statusCode"], json.loads(response["body"])


def purchase(order_id="ORD-10042", **udo):
    document = fresh(load_event("tealium/purchase-event.json"))
    document["data"]["udo"]["order_id"] = order_id
    document["data"]["udo"].update(udo)
    return document


def page_views(count, start=0):
    base = fresh(load_event("tealium/purchase-event.json"))
    documents = []
    for i in range(start, start + count):
        document = json.loads(json.dumps(base))
        document["event_id"] = f"PV-{i:05d}"
        documents.append(document)
    return documents


def queued_messages(queue_url):
    sqs = boto3.client("sqs")
    messages = []
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        batch = got.get("Messages", [])
        if not batch:
            return messages
        messages += [json.loads(m["Body"]) for m in batch]


def fast_client(app, **overrides):
    from connector.adapters.openai_client import OpenAIClient

    # Quick backoff; the read timeout still leaves a loaded machine's stand-in ample time to answer.
    settings = {"read_timeout": 2.0, "backoff_factor": 0.01, "backoff_max": 0.05} | overrides
    app.service.sender.client = OpenAIClient(**settings)


def poller_for(app, queue_url, **kwargs):
    settings = {"batch_size": 1000, "window_seconds": 1, "failure_visibility_timeout": 0, "wait_time_seconds": 1}
    return EventSourcePoller(queue_url, app.lambda_handler, **(settings | kwargs))


def drain(poller, rounds=10):
    for _ in range(rounds):
        if not poller.poll_once():
            return


def dead_letters(queue_url):
    sqs = boto3.client("sqs")
    found = []
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        if not got.get("Messages"):
            return found
        for message in got["Messages"]:
            body = json.loads(message["Body"])
            found.append(
                (
                    body["event"]["id"],
                    body["dead_letter"]["reason"],
                    message["MessageAttributes"]["reason"]["StringValue"],
                )
            )


@contextlib.contextmanager
def loaded_ingest(template, moto_server, standin_server, name_prefix: str, **env_overrides: str):
    """IngestFunction imported once, with its own queues and secret on moto and the stand-in behind it.

    Yields (handler module, Resources). The environment stays set (and is restored after) for as long as
    the handler is in use: boto3 and Powertools read it lazily, at the first call.
    """
    from local.services import provision

    resources = provision(
        template, moto_server.endpoint_url, moto_server.endpoint_url, STANDIN_KEY, name_prefix=name_prefix
    )
    with pytest.MonkeyPatch.context() as patch:
        env = connector_environment(
            resources, standin_server.base_url, pixel_id=STANDIN_PIXEL, **CONNECTOR_SETTINGS, **env_overrides
        )
        apply_environment(patch, env)
        standin_server.reset()
        standin_server.api_keys = {STANDIN_KEY}
        handler = load_handler("ingest")
        fast_client(handler)
        try:
            yield handler, resources
        finally:
            standin_server.reset()
