"""openapi.yaml is a valid OpenAPI 3 document and the ingest API keeps to it, under schemathesis' generated calls.

The API runs as locally as it gets: local/http_front.py (API Gateway's part: routing, x-api-key, the
10 MB cap) in front of IngestFunction's lambda_handler, with moto and the OpenAI stand-in behind it.
"""

from __future__ import annotations

import json

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.loopback import loaded_ingest, purchase
from tests.support.repo import ROOT

pytestmark = pytest.mark.integration

OPENAPI = ROOT / "openapi.yaml"
FRONT_KEY = "local-front-key-for-schemathesis"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_path(OPENAPI)
OPERATION = schema["/actions/{action}"]["POST"]


@pytest.fixture(scope="module")
def front(template, moto_server, standin_server):
    from local.http_front import HttpFront

    with (
        loaded_ingest(template, moto_server, standin_server, "openapi") as (handler, _),
        HttpFront(handler.lambda_handler, FRONT_KEY) as http_front,
    ):
        yield http_front, handler


def test_document_is_valid_openapi_3():
    document, _ = read_from_filename(str(OPENAPI))
    validate(document)
    assert document["openapi"].startswith("3.")
    responses = document["paths"]["/actions/{action}"]["post"]["responses"]
    assert {"200", "202", "400", "403", "404", "413", "503"} <= set(responses)
    statuses = document["components"]["schemas"]["Result"]["properties"]["status"]["enum"]
    assert statuses == ["sent", "validated", "queued", "rejected", "skipped", "failed"]


@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
def test_generated_calls_get_documented_answers(case, front):
    http_front, _ = front
    headers = {"x-api-key": FRONT_KEY}
    response = case.call(base_url=http_front.url, headers=headers, timeout=30)
    if case.method.upper() != "POST":
        # schemathesis also tries undocumented methods: that is the gateway's business (API Gateway answers
        # 403 "Missing Authentication Token"; the local front leaves TRACE/OPTIONS/HEAD to http.server's 501).
        assert not 200 <= response.status_code < 300
        return
    assert response.status_code < 500, response.text[:500]
    # Not negative_data_rejection: a list whose items break the schema is taken on purpose (each item
    # gets its own result, the good ones go on), so a schema-violating request may well answer 200.
    case.validate_response(response, checks=CHECKS, headers=headers, transport_kwargs={"base_url": http_front.url})


def call(front, case_kwargs: dict, headers: dict | None = None, checks=CHECKS) -> requests.Response:
    """One hand-written call, validated against the document like the generated ones."""
    http_front, _ = front
    headers = {"x-api-key": FRONT_KEY} if headers is None else headers
    case = OPERATION.Case(**case_kwargs)
    response = case.call(base_url=http_front.url, headers=headers, timeout=30)
    case.validate_response(response, checks=checks, headers=headers, transport_kwargs={"base_url": http_front.url})
    return response


def test_every_documented_status_has_its_documented_body(front, standin_server, monkeypatch):
    _, handler = front
    json_call = {"media_type": "application/json", "path_parameters": {"action": "purchase"}}
    # 200: sent; 202: queued; 400: rejected; 404: unknown action
    assert call(front, {**json_call, "body": purchase("ORD-OAS-1")}).status_code == 200
    queued = {**json_call, "path_parameters": {"action": "purchase_batched"}, "body": [purchase("ORD-OAS-2")]}
    assert call(front, queued).status_code == 202
    assert call(front, {**json_call, "body": {"order_id": "ORD-OAS-3"}}).status_code == 400
    assert call(front, {**json_call, "path_parameters": {"action": "no_such_action"}, "body": {}}).status_code == 404
    form = {
        **json_call,
        "media_type": "application/x-www-form-urlencoded",
        "body": {"data": json.dumps(purchase("ORD-OAS-4"))},
    }
    assert call(front, form).status_code == 200
    # 403: API Gateway without the key, or with a wrong one
    assert call(front, {**json_call, "body": purchase("ORD-OAS-5")}, headers={}).status_code == 403
    assert call(front, {**json_call, "body": purchase("ORD-OAS-5")}, headers={"x-api-key": "wrong"}).status_code == 403
    # 413: more than 1,000 events (ours)
    too_many = {**json_call, "body": [{"order_id": str(i)} for i in range(1001)]}
    assert call(front, too_many).status_code == 413
    # 503: an accepted event that could not be queued
    monkeypatch.setattr(
        handler.service.queue, "send", lambda messages, reasons=None: ["SQS: Throttled"] * len(messages)
    )
    documented_5xx = [check for check in CHECKS if check is not not_a_server_error]
    response = call(front, {**queued, "body": [purchase("ORD-OAS-6")]}, checks=documented_5xx)
    assert response.status_code == 503
    (result,) = response.json()["results"]
    assert result["status"] == "failed" and result["errors"][0]["field"] == "queue"
    assert "ORD-OAS-2" not in standin_server.event_ids()  # queued, not sent


def test_gateway_payload_limit_answers_413(front):
    http_front, _ = front
    body = b"[" + b" " * (10 * 1024 * 1024) + b"]"
    response = requests.post(
        f"{http_front.url}/actions/purchase",
        data=body,
        timeout=30,
        headers={"x-api-key": FRONT_KEY, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    case = OPERATION.Case(path_parameters={"action": "purchase"}, media_type="application/json", body=[])
    case.validate_response(response, checks=CHECKS)
