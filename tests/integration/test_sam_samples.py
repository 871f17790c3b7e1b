"""Every `sam local invoke` sample in events/ works with its handler (timestamps refreshed: OpenAI takes 7 days)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.support.repo import EVENTS, refreshed_apigw_sample

pytestmark = pytest.mark.integration
APIGW_SAMPLES = sorted((EVENTS / "apigw").glob("*.json"))
EXPECTED_STATUS = {"sent": 200, "validated": 200, "queued": 202}


def test_there_is_a_sample_per_delivery_mode_and_payload_kind():
    names = {path.stem for path in APIGW_SAMPLES}
    assert {"purchase-realtime", "purchase-batched", "purchase-form", "trial-visitor", "purchase-debug"} <= names


@pytest.mark.parametrize("sample", APIGW_SAMPLES, ids=lambda p: p.stem)
def test_api_gateway_sample_is_accepted_by_the_ingest_handler(ingest_app, standin, lambda_context, sample: Path):
    event = refreshed_apigw_sample(json.loads(sample.read_text()))
    assert event["resource"] == "/actions/{action}" and event["httpMethod"] == "POST"
    response = ingest_app.lambda_handler(event, lambda_context)
    results = json.loads(response["body"])["results"]
    statuses = {r["status"] for r in results}
    assert len(statuses) == 1 and not any(r["errors"] for r in results), results
    assert response["statusCode"] == EXPECTED_STATUS[statuses.pop()]


def test_sqs_sample_has_the_lambda_record_shape():
    records = json.loads((EVENTS / "sqs" / "batch-sender.json").read_text())["Records"]
    assert records and all(
        r["eventSource"] == "aws:sqs" and "ApproximateReceiveCount" in r["attributes"] for r in records
    )
    assert all(json.loads(r["body"])["event"]["timestamp_ms"] < time.time() * 1000 + 600_000 for r in records)
