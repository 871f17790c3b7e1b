"""Each function says which actions document it uses: logged at load, logged and counted once per change (moto's
SSM), with a warning at every load of a document that puts an action in Debug Mode."""

from __future__ import annotations

import itertools
import json

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from connector.core.actions_change import document_digest

from local.apigw import proxy_event
from local.handlers import load_handler
from tests.support.repo import ROOT, fresh, load_event

_names = itertools.count()

PURCHASE = {"delivery": "realtime", "event_type": "order_created", "mappings": {"id": "order_id"}}
FIRST = {"actions": {"purchase": PURCHASE, "lead": PURCHASE | {"event_type": "lead_created"}}}
#: Debug Mode switched on for purchase (OpenAI then stores nothing), lead dropped, page_view added.
SECOND = {"actions": {"purchase": PURCHASE | {"debug": True}, "page_view": PURCHASE | {"event_type": "page_viewed"}}}
DEBUG_WARNING = "actions in Debug Mode: OpenAI validates their events and stores none"


@pytest.fixture
def ssm(monkeypatch, moto_server):
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", moto_server.endpoint_url)
    parameters.clear_caches()
    yield boto3.client("ssm", endpoint_url=moto_server.endpoint_url)
    parameters.clear_caches()


def put(ssm, name: str, text: str) -> None:
    ssm.put_parameter(Name=name, Value=text, Type="String", Overwrite=True)
    parameters.clear_caches()  # as if ACTIONS_MAX_AGE_SECONDS had passed


def logged(caplog, message: str) -> list:
    return [record for record in caplog.records if record.getMessage() == message]


def counting(app, monkeypatch) -> list[str]:
    names: list[str] = []
    add_metric = app.metrics.add_metric
    monkeypatch.setattr(
        app.metrics, "add_metric", lambda **metric: (names.append(metric["name"]), add_metric(**metric))
    )
    return names


def test_a_changed_parameter_is_logged_and_counted_once_with_what_it_changes(
    ssm, connector_env, monkeypatch, standin, lambda_context, caplog
):
    # GIVEN the ingest function reading its actions from a parameter
    name = f"/connector-tests/changes/{next(_names)}"
    put(ssm, name, json.dumps(FIRST))
    monkeypatch.setenv("ACTIONS_CONFIG", f"ssm:{name}")
    app = load_handler("ingest")
    metrics = counting(app, monkeypatch)
    body = json.dumps(fresh(load_event("tealium/purchase-event.json")))

    def post(action: str) -> int:
        return app.lambda_handler(proxy_event(action, body), lambda_context)["statusCode"]

    (first,) = logged(caplog, "actions document loaded")
    assert first.digest == document_digest(json.dumps(FIRST))
    assert not logged(caplog, DEBUG_WARNING)
    # WHEN someone puts Debug Mode on for purchase, drops lead and adds page_view
    put(ssm, name, json.dumps(SECOND))
    assert post("purchase") == 200
    assert post("purchase") == 200
    # AND then writes the same document laid out differently
    put(ssm, name, json.dumps(SECOND, indent=2))
    assert post("purchase") == 200

    # THEN the change is logged and counted once, naming what changed, with a Debug Mode warning
    (change,) = logged(caplog, "actions document changed")
    assert change.levelname == "WARNING"
    assert (change.previous_digest, change.digest) == (first.digest, document_digest(json.dumps(SECOND)))
    assert (list(change.added), list(change.removed), list(change.changed)) == (["page_view"], ["lead"], ["purchase"])
    assert list(change.debug_actions) == ["purchase"]
    assert metrics.count("ActionsConfigChanged") == 1
    (warning,) = logged(caplog, DEBUG_WARNING)
    assert (warning.levelname, list(warning.debug_actions)) == ("WARNING", ["purchase"])
    # AND the new document is the one in use: purchase is validated only
    assert [request.validate_only for request in standin.requests] == [True, True, True]


def test_a_bundled_document_with_an_action_in_debug_mode_warns_at_every_load(connector_env, caplog):
    bundled = (ROOT / "functions" / "ingest" / "actions.json").read_text()

    load_handler("batch_sender")
    load_handler("ingest")

    loads = logged(caplog, "actions document loaded")
    warnings = logged(caplog, DEBUG_WARNING)
    assert [record.digest for record in loads] == [document_digest(bundled)] * 2
    assert [list(record.debug_actions) for record in warnings] == [["purchase_debug"], ["purchase_debug"]]
    assert not logged(caplog, "actions document changed")
