"""The cost model's arithmetic (bench/cost.py) on fixed inputs: counts and dollars, no timing involved."""

from __future__ import annotations

import dataclasses
import math

import pytest

from bench import cost

INPUTS = cost.Inputs(
    memory_mb=512,
    core_ms=1.0,
    send_ms=0.1,
    requests_per_1000=3,
    event_bytes=2_000,
    message_bytes=2_200,
    ingest_log_bytes=900,
    api_key_max_age_s=300,
    events_per_second=100.0,
)


def mode(result: dict, name: str) -> dict:
    return next(m for m in result["modes"] if m["mode"] == name)


def item(found: dict, name: str) -> dict:
    return next(row for row in found["items"] if row["item"] == name)


@pytest.fixture(scope="module")
def result() -> dict:
    return cost.model(INPUTS, metric_count=14, alarm_count=4)


def test_every_mode_totals_its_line_items(result):
    for found in result["modes"]:
        assert found["usd"] == pytest.approx(sum(row["usd"] for row in found["items"]))
        for row in found["items"]:
            assert row["usd"] >= 0, row["item"]
    assert result["monthly_usd"] == pytest.approx(0.40 + 14 * 0.30 + 4 * 0.10 + 648_000 / 1e6 * 0.40)


def test_real_time_one_event_per_call_pays_one_api_request_and_invocation_per_event(result):
    found = mode(result, "real-time, 1 event per call")

    assert item(found, "API Gateway REST requests")["quantity"] == 1e6
    assert item(found, "API Gateway REST requests")["usd"] == pytest.approx(3.50)
    assert item(found, "Lambda requests")["usd"] == pytest.approx(0.20)
    # 1.0 + 0.1 + 80 ms = 81.1 ms, billed as 82 ms at 0.5 GB.
    assert item(found, "Lambda GB-seconds")["quantity"] == pytest.approx(1e6 * 0.082 * 0.5)
    assert item(found, "Lambda GB-seconds")["usd"] == pytest.approx(41_000 * cost.LAMBDA_PER_GB_SECOND)
    assert found["openai_requests"] == 1e6
    assert not [row for row in found["items"] if row["item"].startswith("SQS")]
    # 9 warm containers (100/s x 81.1 ms), each reading the key once per 300 s over 10,000 s.
    assert item(found, "Secrets Manager GetSecretValue calls")["quantity"] == 9 * 34
    # 1e6 x (2,000 event + 600 HTTP) bytes out.
    assert item(found, "Data transfer out to OpenAI (GB)")["quantity"] == pytest.approx(2.6)


def test_a_hundred_events_per_call_divide_the_per_call_charges(result):
    found = mode(result, "real-time, 100 events per call")

    assert found["calls"] == 10_000
    assert found["openai_requests"] == 10_000
    assert item(found, "API Gateway REST requests")["usd"] == pytest.approx(0.035)
    assert item(found, "CloudWatch Logs ingested (GB)")["quantity"] == pytest.approx(10_000 * (330 + 900) / 1e9)


def test_batched_delivery_counts_every_sqs_request(result):
    found = mode(result, "batched, 1 event per call")

    # One SendMessageBatch per call; the event source receives and deletes 10 messages a request.
    assert item(found, "SQS SendMessageBatch requests")["quantity"] == 1e6
    assert item(found, "SQS ReceiveMessage requests (event source)")["quantity"] == 100_000
    assert item(found, "SQS DeleteMessageBatch requests (event source)")["quantity"] == 100_000
    sqs = sum(row["usd"] for row in found["items"] if row["item"].startswith("SQS"))
    assert sqs == pytest.approx(1.2 * cost.SQS_PER_MILLION_REQUESTS)
    assert found["invocations"] == 1e6 + 1_000
    assert found["openai_requests"] == 3_000


def test_tealiums_batched_webhook_into_a_batched_action_pays_per_call_charges_once_per_100_events(result):
    found = mode(result, "batched, 100 events per call")
    one = mode(result, "batched, 1 event per call")

    # GIVEN 10,000 calls of 100 events WHEN each is queued in 10 SendMessageBatch requests of 10 messages
    assert found["calls"] == 10_000
    assert item(found, "API Gateway REST requests")["usd"] == pytest.approx(0.035)
    assert item(found, "SQS SendMessageBatch requests")["quantity"] == 10_000 * 10
    # THEN the event source's receives and deletes and the sender's requests to OpenAI are those of any batch
    for name in ("SQS ReceiveMessage requests (event source)", "SQS DeleteMessageBatch requests (event source)"):
        assert item(found, name)["quantity"] == item(one, name)["quantity"] == 100_000
    assert found["openai_requests"] == one["openai_requests"] == 3_000
    assert found["invocations"] == 10_000 + 1_000
    # 100 x 1.0 ms of core + 10 x 15 ms SQS round trips = 250 ms a call at 0.5 GB, plus the sender's
    sender = 1_000 * math.ceil(1_000 * 0.1 + 3 * 80) / 1000 * 0.5
    assert item(found, "Lambda GB-seconds")["quantity"] == pytest.approx(10_000 * 0.250 * 0.5 + sender)
    assert found["usd"] < one["usd"] / 5


def test_sqs_bills_each_64_kb_chunk_as_a_request():
    big = cost.model(cost.Inputs(**{**INPUTS.__dict__, "message_bytes": 10_000}), 14, 4)
    found = mode(big, "batched, 1 event per call")

    assert item(found, "SQS ReceiveMessage requests (event source)")["quantity"] == 100_000 * math.ceil(
        100_000 / 65_536
    )


def test_xray_default_sampling_records_one_a_second_and_five_percent_of_the_rest():
    assert cost.sampled_fraction(0.5) == 1.0
    assert cost.sampled_fraction(100) == pytest.approx((1 + 0.05 * 99) / 100)


def test_http_api_ingress_prices_the_same_calls(result):
    one = result["ingress"]["1 event per call"]

    assert one["rest_usd"] == pytest.approx(3.50)
    assert one["http_usd"] == pytest.approx(1.00)
    assert one["authorizer_calls"] == math.ceil(10_000 / cost.AUTHORIZER_CACHE_SECONDS)


def test_the_event_trail_is_a_log_charge_of_its_own_that_trail_off_removes():
    inputs = dataclasses.replace(INPUTS, trail_bytes_realtime=1_700, trail_bytes_batched=2_500)
    with_trail = cost.model(inputs, metric_count=14, alarm_count=4)
    realtime = mode(with_trail, "real-time, 1 event per call")
    batched = mode(with_trail, "batched, 1 event per call")
    # A million events x 1,700 bytes = 1.7 GB at $0.50; batched: 2.5 GB.
    assert item(realtime, cost.TRAIL_ITEM)["quantity"] == pytest.approx(1.7)
    assert item(realtime, cost.TRAIL_ITEM)["usd"] == pytest.approx(0.85)
    assert item(batched, cost.TRAIL_ITEM)["usd"] == pytest.approx(1.25)
    assert realtime["usd"] - realtime["usd_trail_off"] == pytest.approx(0.85)
    # Off is the model without trail bytes at all.
    without = mode(cost.model(INPUTS, metric_count=14, alarm_count=4), "real-time, 1 event per call")
    assert without["usd"] == pytest.approx(realtime["usd_trail_off"])


def test_the_trails_cpu_time_is_billed_with_each_step_and_saved_by_trail_off():
    # 0.5 ms a line: a real-time event writes two (2 x 0.5 + 1.0 + 0.1 + 80 = 82.1 ms, billed 83 ms).
    inputs = dataclasses.replace(INPUTS, trail_ms_per_line=0.5)
    realtime = mode(cost.model(inputs, metric_count=14, alarm_count=4), "real-time, 1 event per call")
    assert item(realtime, "Lambda GB-seconds")["quantity"] == pytest.approx(1e6 * 0.083 * 0.5)
    off = mode(cost.model(INPUTS, metric_count=14, alarm_count=4), "real-time, 1 event per call")
    assert realtime["usd_trail_off"] == pytest.approx(off["usd"])
    assert realtime["usd"] - off["usd"] == pytest.approx(1e6 * 0.001 * 0.5 * cost.LAMBDA_PER_GB_SECOND)
