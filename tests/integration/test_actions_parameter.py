"""Actions from an SSM parameter (moto): a good document, a bad edit that changes nothing, then a good one again."""

from __future__ import annotations

import itertools
import json
import time

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from connector.adapters.actions_parameter import ParameterActions, parameter_name
from connector.core.errors import ConfigError

from local.apigw import proxy_event
from local.handlers import load_handler
from tests.support.repo import fresh, load_event

_names = itertools.count()

GOOD = {
    "actions": {"purchase": {"delivery": "realtime", "event_type": "order_created", "mappings": {"id": "order_id"}}}
}
BAD = {"actions": {"purchase": {"delivery": "sometimes", "event_type": "order_created"}, "lead": {"delivery": "x"}}}
GOOD_AGAIN = {
    "actions": {
        **GOOD["actions"],
        "purchase_debug": {
            "delivery": "realtime",
            "event_type": "order_created",
            "debug": True,
            "mappings": {"id": "order_id"},
        },
    }
}


@pytest.fixture
def ssm(monkeypatch, moto_server):
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", moto_server.endpoint_url)
    parameters.clear_caches()  # no provider built against another endpoint
    yield boto3.client("ssm", endpoint_url=moto_server.endpoint_url)
    parameters.clear_caches()


@pytest.fixture
def name():
    return f"/connector-tests/{next(_names)}/actions"


def put(ssm, name: str, document: object) -> None:
    value = document if isinstance(document, str) else json.dumps(document)
    ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)
    parameters.clear_caches()  # as if max_age had passed


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_parameter_name_is_read_from_the_ssm_prefix_only():
    assert parameter_name("ssm:/connector/actions") == "/connector/actions"
    assert parameter_name("functions/ingest/actions.json") is None
    assert parameter_name(None) is None


def test_good_then_bad_then_good_again(ssm, name):
    # GIVEN a good document in the parameter
    put(ssm, name, GOOD)
    rejected: list[str] = []
    clock = Clock()
    actions = ParameterActions(name, 60, on_rejected=rejected.append, clock=clock)
    assert sorted(actions) == ["purchase"]
    # WHEN a bad document replaces it
    put(ssm, name, BAD)
    # THEN the good one stays in use, and the problem is reported once per cache age, not per lookup
    assert actions["purchase"].delivery == "realtime"
    assert "lead" not in actions
    assert len(rejected) == 1
    assert rejected[0].startswith("actions.purchase.delivery: must be one of realtime, batched")
    assert "actions.lead.delivery" in rejected[0]
    clock.now += 61
    assert sorted(actions) == ["purchase"]
    assert len(rejected) == 2
    # WHEN a good document follows
    put(ssm, name, GOOD_AGAIN)
    # THEN it is in use, and nothing more is reported
    assert sorted(actions) == ["purchase", "purchase_debug"]
    assert actions["purchase_debug"].debug is True
    assert len(rejected) == 2


def test_routes_are_checked_too(ssm, name):
    put(ssm, name, GOOD)
    rejected: list[str] = []

    def check(found) -> None:
        if "purchase_debug" in found:
            raise ConfigError("actions.purchase_debug.pixel_id: no override and PIXEL_ID is not set")

    actions = ParameterActions(name, 60, check=check, on_rejected=rejected.append)
    put(ssm, name, GOOD_AGAIN)

    assert sorted(actions) == ["purchase"]
    assert rejected == ["actions.purchase_debug.pixel_id: no override and PIXEL_ID is not set"]


def test_an_unreadable_parameter_keeps_the_last_good_document(ssm, name):
    put(ssm, name, GOOD)
    rejected: list[str] = []
    actions = ParameterActions(name, 60, on_rejected=rejected.append)

    ssm.delete_parameter(Name=name)
    parameters.clear_caches()

    assert sorted(actions) == ["purchase"]
    assert rejected == ["cannot read the parameter (ParameterNotFound)"]


@pytest.mark.parametrize(
    "document, expected",
    [
        (
            None,
            r"^ACTIONS_CONFIG \(ssm:/connector-tests/\d+/actions\): cannot read the parameter \(ParameterNotFound\)$",
        ),
        ("{not json", r"^ACTIONS_CONFIG \(ssm:/connector-tests/\d+/actions\): actions document: not valid JSON"),
        (BAD, r"^ACTIONS_CONFIG \(ssm:/connector-tests/\d+/actions\): actions\.purchase\.delivery: must be"),
    ],
)
def test_a_cold_start_without_a_good_document_fails_naming_the_parameter(ssm, name, document, expected):
    if document is not None:
        put(ssm, name, document)

    with pytest.raises(ConfigError, match=expected):
        ParameterActions(name, 60)


def test_the_ingest_function_follows_the_parameter_and_alarms_on_a_bad_edit(
    ssm, name, connector_env, monkeypatch, standin, lambda_context, caplog
):
    # GIVEN the ingest function configured with ACTIONS_CONFIG=ssm:/name holding a good document
    put(ssm, name, GOOD)
    monkeypatch.setenv("ACTIONS_CONFIG", f"ssm:{name}")
    app = load_handler("ingest")
    metrics: list[str] = []
    add_metric = app.metrics.add_metric
    monkeypatch.setattr(
        app.metrics, "add_metric", lambda **metric: (metrics.append(metric["name"]), add_metric(**metric))
    )
    body = json.dumps(fresh(load_event("tealium/purchase-event.json")))

    def post(action: str) -> int:
        return app.lambda_handler(proxy_event(action, body), lambda_context)["statusCode"]

    def rejections() -> list[str]:
        return [r.problem for r in caplog.records if r.getMessage().startswith("actions document rejected")]

    assert post("purchase") == 200
    assert "ActionsConfigRejected" not in metrics
    # WHEN a bad document is put in the parameter
    put(ssm, name, BAD)
    # THEN events keep flowing under the last good one, and the alarm metric is counted with the reason logged
    assert post("purchase") == 200
    assert metrics.count("ActionsConfigRejected") == 1
    (problem,) = rejections()
    assert problem.startswith("actions.purchase.delivery: must be one of realtime, batched")
    # WHEN the document is fixed, adding an action
    put(ssm, name, GOOD_AGAIN)
    # THEN the new action answers without a redeploy, and nothing more is counted
    assert post("purchase_debug") == 200
    assert metrics.count("ActionsConfigRejected") == 1
    assert [r.validate_only for r in standin.requests if r.status == 200] == [False, False, True]


def test_the_batch_sender_routes_by_the_parameter_it_reads_itself(
    ssm, name, connector_env, monkeypatch, standin, aws, lambda_context
):
    from connector.core.queue_message import to_message
    from connector.core.wire.request import encode_event

    from local.samples import sqs_record

    # GIVEN the batch sender configured with ACTIONS_CONFIG=ssm:/name holding one batched action
    batched = {"delivery": "batched", "event_type": "page_viewed"}
    put(ssm, name, {"actions": {"page_view": batched}})
    monkeypatch.setenv("ACTIONS_CONFIG", f"ssm:{name}")
    sender = load_handler("batch_sender")
    event = {"id": "PV-1", "type": "page_viewed", "timestamp_ms": 0, "action_source": "web",
             "source_url": "https://shop.example.com/", "data": {"type": "contents"}}  # fmt: skip

    def deliver(action: str, event_id: str) -> dict:
        queued = event | {"id": event_id, "timestamp_ms": fresh_timestamp_ms()}
        records = [sqs_record(to_message(action, encode_event(queued)))]
        return sender.lambda_handler({"Records": records}, lambda_context)

    # WHEN messages name that action, then an action the document gains without a redeploy
    assert deliver("page_view", "PV-1") == {"batchItemFailures": []}
    put(ssm, name, {"actions": {"page_view": batched, "page_view_debug": batched | {"debug": True}}})
    assert deliver("page_view_debug", "PV-2") == {"batchItemFailures": []}
    # AND an action the document no longer holds
    put(ssm, name, {"actions": {"page_view_debug": batched | {"debug": True}}})
    assert deliver("page_view", "PV-3") == {"batchItemFailures": []}

    # THEN the first two went where the parameter said, and the third was dead-lettered, never sent
    assert [(r.json["events"][0]["id"], r.json["validate_only"]) for r in standin.requests] == [
        ("PV-1", False),
        ("PV-2", True),
    ]
    parked = boto3.client("sqs").receive_message(QueueUrl=aws.dlq_url, MessageAttributeNames=["All"])["Messages"]
    assert [m["MessageAttributes"]["reason"]["StringValue"] for m in parked] == [
        "message.action: not an action this sender is configured with"
    ]


def fresh_timestamp_ms() -> int:
    return round(time.time() * 1000)
