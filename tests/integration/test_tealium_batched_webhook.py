"""Tealium's batched webhook through the local stack (`make demo`'s): 100 events a call, one result each.

The HTTP front plays API Gateway, fast SQS and moto the queues and the secret, a poller the event source
mapping, and the strict OpenAI stand-in records what OpenAI would receive (its /_standin/requests).
"""

from __future__ import annotations

import io
import json
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest

from local.demo_output import Console
from local.local_connector import LocalConnector, Options
from tests.support.batches import TEALIUM_BATCH, break_amount, drop_currency, purchase_batch, visitor_batch
from tests.support.loopback import STANDIN_KEY

pytestmark = pytest.mark.integration

#: How long the batch sender may take to deliver what was queued: a hang catcher, not a speed check.
DELIVERY_TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def stack():
    options = Options(window_seconds=1.0, api_key=STANDIN_KEY, quiet=True)
    with LocalConnector(options, Console(io.StringIO())) as connector:
        connector.start_batch_sender()
        yield connector


@pytest.fixture
def openai(stack):
    """The stand-in, emptied before each test."""
    stack.standin.reset()
    return stack.standin


def received(stack) -> list[dict]:
    """What OpenAI received, as the stand-in's /_standin/requests reports it."""
    with urlopen(Request(f"{stack.standin.base_url}/_standin/requests"), timeout=30) as response:
        return json.loads(response.read())["requests"]


def post_json(stack, action: str, documents: list[dict]) -> tuple[int, dict]:
    return stack.post(action, json.dumps(documents).encode(), "application/json; charset=UTF-8")


def test_a_batch_of_100_tealium_events_gets_100_results_and_openai_gets_the_good_ones_once(stack, openai):
    # GIVEN Tealium's "Send Batched Data" body of 100 EventStream purchases, two broken (a European
    # amount on a "." action, a missing currency)
    batch = purchase_batch(TEALIUM_BATCH)
    break_amount(batch[3])
    drop_currency(batch[64])
    order_ids = [f"ORD-B{n:04d}" for n in range(TEALIUM_BATCH)]
    good = [order_id for n, order_id in enumerate(order_ids) if n not in (3, 64)]
    # WHEN it is posted to a batched action
    status, answer = post_json(stack, "purchase_batched", batch)
    # THEN one result per event, in order: 98 queued, the 2 broken ones rejected by field
    assert status == 202
    results = answer["results"]
    assert [(r["index"], r["id"]) for r in results] == list(enumerate(order_ids))
    assert [r["id"] for r in results if r["status"] == "queued"] == good
    assert (results[3]["status"], results[3]["errors"][0]["field"]) == ("rejected", "data.amount")
    assert (results[64]["status"], results[64]["errors"][0]["field"]) == ("rejected", "data.currency")
    # AND the batch sender delivers the 98 in one request (1,000 events and 1 MB a request)
    openai.wait_for_events(len(good), DELIVERY_TIMEOUT_S)
    requests = received(stack)
    assert [(r["event_count"], r["validate_only"]) for r in requests] == [(98, False)]
    events = requests[0]["events"]
    assert sorted(e["id"] for e in events) == good
    assert {e["type"] for e in events} == {"order_created"}
    assert all(e["data"]["amount"] == 12999 and e["data"]["currency"] == "USD" for e in events)


def test_a_batch_of_100_audiencestream_visitors_is_delivered_under_each_visitors_id(stack, openai):
    batch = visitor_batch(TEALIUM_BATCH)
    trial_ids = [f"TRIAL-B{n:04d}" for n in range(TEALIUM_BATCH)]
    status, answer = post_json(stack, "trial_started", batch)
    assert status == 202
    assert [(r["index"], r["id"], r["status"]) for r in answer["results"]] == [
        (n, trial_id, "queued") for n, trial_id in enumerate(trial_ids)
    ]
    openai.wait_for_events(TEALIUM_BATCH, DELIVERY_TIMEOUT_S)
    requests = received(stack)
    assert [r["event_count"] for r in requests] == [TEALIUM_BATCH]
    events = requests[0]["events"]
    assert sorted(e["id"] for e in events) == trial_ids
    assert {(e["type"], e["data"]["type"], e["source_url"]) for e in events} == {
        ("trial_started", "plan_enrollment", "https://app.example.com/signup/trial")
    }


def test_a_retried_batch_reaches_openai_under_the_same_ids_so_it_counts_once(stack, openai):
    # GIVEN a batch Tealium sends again (its call timed out): the same body, twice, to a real-time action
    batch = purchase_batch(TEALIUM_BATCH)
    first_status, first = post_json(stack, "purchase", batch)
    again_status, again = post_json(stack, "purchase", batch)
    # THEN both calls answer the same way, and OpenAI gets the same (type, id) pairs both times:
    # it deduplicates on them (docs/wire-contract.md), so the retry adds nothing
    assert first_status == again_status == 200
    assert first["results"] == again["results"]
    requests = received(stack)
    assert [r["event_count"] for r in requests] == [TEALIUM_BATCH, TEALIUM_BATCH]
    keys = [sorted((e["type"], e["id"]) for e in r["events"]) for r in requests]
    assert keys[0] == keys[1] == sorted(("order_created", f"ORD-B{n:04d}") for n in range(TEALIUM_BATCH))


def test_the_batched_list_in_the_form_field_data_is_read_the_same(stack, openai):
    # GIVEN the batched action with Body Content Type application/x-www-form-urlencoded
    batch = visitor_batch(TEALIUM_BATCH)
    body = urlencode({"data": json.dumps(batch)}).encode()
    status, answer = stack.post("trial_started", body, "application/x-www-form-urlencoded; charset=UTF-8")
    assert status == 202
    assert len(answer["results"]) == TEALIUM_BATCH
    assert {r["status"] for r in answer["results"]} == {"queued"}
    openai.wait_for_events(TEALIUM_BATCH, DELIVERY_TIMEOUT_S)
    assert sum(r["event_count"] for r in received(stack)) == TEALIUM_BATCH


def test_a_body_tealium_could_not_have_meant_is_refused_whole(stack, openai):
    # GIVEN the customized batched action without Prefix and Suffix: records joined by commas only
    records = ",".join(json.dumps(event) for event in purchase_batch(3))
    status, answer = stack.post("purchase_batched", records.encode(), "application/json")
    assert status == 400
    (error,) = answer["errors"]
    assert error["field"] == "body"
    assert "set Prefix [, Joiner , and Suffix ]" in error["reason"]
    assert answer["results"] == []
    assert received(stack) == []
