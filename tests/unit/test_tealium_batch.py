"""tealium_batch: the bodies Tealium's batched webhook posts, the shapes it does not, and what a 413 says."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest
import yaml
from connector.core import tealium
from connector.core.errors import InputError
from connector.core.tealium_batch import (
    API_GATEWAY_MAX_BODY_BYTES,
    SEVERAL_JSON_VALUES,
    TEALIUM_MAX_RECORDS,
    body_too_large,
    largest_average_record,
    record_count_maximum,
)
from connector.core.types import EventStatus
from connector.services.delivery import Sender
from connector.services.ingest import MAX_BODY_BYTES, IngestService

from tests.support.batches import break_amount, drop_currency, purchase_batch, visitor_batch
from tests.support.core import NOW_MS, bundled_actions, sample_settings
from tests.support.fakes import FakeClient, FakeKeys, FakeQueue
from tests.support.repo import ROOT, load_event

# ---- the shapes Tealium posts: one result per event -----------------------------------------------------


def ingest(client: FakeClient | None = None, queue: FakeQueue | None = None) -> IngestService:
    return IngestService(
        sample_settings(),
        bundled_actions(),
        Sender(client or FakeClient(), FakeKeys()),
        queue if queue is not None else FakeQueue(),
        clock=lambda: NOW_MS / 1000,
    )


def test_send_batched_data_event_list_gets_one_result_per_event_in_order():
    # GIVEN Tealium's batched body of 100 EventStream purchases, two of them broken
    batch = purchase_batch(now_ms=NOW_MS)
    break_amount(batch[10])
    drop_currency(batch[57])
    queue = FakeQueue()
    # WHEN it reaches a batched action as a JSON body
    answer = ingest(queue=queue).handle("purchase_batched", json.dumps(batch), "application/json", None)
    # THEN each event has its own result, in order, the broken ones refused by field, the rest queued
    results = answer.body["results"]
    assert answer.status_code == 202
    assert [r["index"] for r in results] == list(range(100))
    assert [r["id"] for r in results] == [f"ORD-B{n:04d}" for n in range(100)]
    statuses = [r["status"] for r in results]
    assert statuses.count(EventStatus.QUEUED) == 98
    assert (statuses[10], statuses[57]) == (EventStatus.REJECTED, EventStatus.REJECTED)
    assert results[10]["errors"][0]["field"] == "data.amount"
    assert results[57]["errors"][0]["field"] == "data.currency"
    assert [m["event"]["id"] for m in queue.bodies] == [f"ORD-B{n:04d}" for n in range(100) if n not in (10, 57)]


def test_send_batched_data_visitor_list_takes_each_visitors_ids():
    # GIVEN 100 AudienceStream visitors, as "Send Batched Data" posts visitor data
    batch = visitor_batch(now_ms=NOW_MS)
    queue = FakeQueue()
    answer = ingest(queue=queue).handle("trial_started", json.dumps(batch), "application/json", None)
    # THEN one queued result per visitor, each under its own mapped trial id
    assert answer.status_code == 202
    assert [(r["id"], r["status"]) for r in answer.body["results"]] == [
        (f"TRIAL-B{n:04d}", EventStatus.QUEUED) for n in range(100)
    ]
    assert len(queue.bodies) == 100


def test_the_form_field_data_may_hold_the_batched_list():
    # GIVEN the batched action with Body Content Type application/x-www-form-urlencoded: the list in `data`
    batch = purchase_batch(3, now_ms=NOW_MS)
    body = urlencode({"data": json.dumps(batch)})
    answer = ingest().handle("purchase_batched", body, "application/x-www-form-urlencoded; charset=UTF-8", None)
    assert [r["id"] for r in answer.body["results"]] == ["ORD-B0000", "ORD-B0001", "ORD-B0002"]


def test_the_customized_batched_action_posts_a_list_of_flat_attribute_objects():
    # GIVEN "Send Batched Customized Data" with Prefix [, Joiner , and Suffix ]: each record is what the
    # Body Data template renders, here the attributes the lead action maps
    template = (
        '{{"event_id": "{id}", "customer_email": "user@example.com", "lead_value_cents": 500, "lead_currency": "EUR",'
        ' "dom.url": "https://shop.example.com/quote", "tealium_timestamp_epoch": {seconds}}}'
    )
    records = [template.format(id=f"lead-{n}", seconds=NOW_MS // 1000 - 60 * n) for n in range(2)]
    body = "[" + ",".join(records) + "]"  # Prefix, the records joined by Joiner, Suffix
    client = FakeClient()
    answer = ingest(client).handle("lead", body, "application/json", None)
    # THEN both are sent in one request, each under its own id
    assert [(r["id"], r["status"]) for r in answer.body["results"]] == [
        ("lead-0", EventStatus.SENT),
        ("lead-1", EventStatus.SENT),
    ]
    [post] = client.posts
    assert post.ids == ["lead-0", "lead-1"]


# ---- shapes Tealium does not document: refused with what to set --------------------------------------------


EVENT = json.dumps(load_event("tealium/purchase-event.json"))
VISITOR = json.dumps(load_event("tealium/visitor.json"))


@pytest.mark.parametrize(
    "body",
    [
        f"{EVENT}\n{EVENT}\n",  # newline-delimited JSON
        f"{EVENT},{EVENT}",  # the customized batched action with a Joiner but no Prefix and Suffix
        f"{VISITOR}, \r\n{VISITOR}",
        f"[{EVENT}][{EVENT}]",  # two lists one after the other
    ],
)
def test_several_json_values_one_after_another_are_refused_with_what_to_set(body):
    with pytest.raises(InputError) as refused:
        tealium.parse_body(body, "application/json", None)
    assert (refused.value.field, refused.value.reason) == ("body", SEVERAL_JSON_VALUES)
    assert "Prefix [, Joiner , and Suffix ]" in refused.value.reason


def test_trailing_text_after_one_object_is_plain_invalid_json():
    with pytest.raises(InputError) as refused:
        tealium.parse_body(EVENT + " oops", "application/json", None)
    assert refused.value.reason == "is not valid JSON"


@pytest.mark.parametrize("key", ["events", "data", "batch"])
@pytest.mark.parametrize("record", [EVENT, VISITOR])
def test_an_object_wrapping_a_list_of_tealium_records_is_refused_not_read_as_one_event(key, record):
    body = f'{{"{key}": [{record}, {record}], "count": 2}}'
    with pytest.raises(InputError) as refused:
        tealium.parse_body(body, "application/json", None)
    assert refused.value.field == "body"
    assert refused.value.reason.startswith("is a JSON object that wraps a list of 2 Tealium events or visitors")


def test_flat_attributes_holding_lists_of_objects_are_still_one_event():
    # a mapped contents attribute holds item objects, not Tealium records: one event, as before
    document = {"event_id": "e-1", "items": [{"id": "SKU-1", "quantity": 1}], "tags": []}
    assert tealium.parse_body(json.dumps(document), "application/json", None) == [document]


def test_a_form_body_with_the_data_field_twice_is_refused_not_half_read():
    body = "data=" + quote(EVENT) + "&data=" + quote(EVENT)
    with pytest.raises(InputError) as refused:
        tealium.parse_body(body, "application/x-www-form-urlencoded", None)
    assert refused.value.field == "body.data"
    assert refused.value.reason.startswith("appears more than once")


# ---- limits: Tealium's 100 records and 16 MB against API Gateway's 10 MB and our 5 MiB --------------------


def test_a_full_tealium_batch_fits_while_its_records_average_under_52_kb():
    assert TEALIUM_MAX_RECORDS == 100
    assert largest_average_record(MAX_BODY_BYTES) == 52_428
    assert MAX_BODY_BYTES < API_GATEWAY_MAX_BODY_BYTES < 16_000_000  # ours, API Gateway's, Tealium's


@pytest.mark.parametrize(
    "record_bytes, expected",
    [
        (1_780, 100),  # events/tealium/pageview-event.json: Tealium's cap decides
        (16_728, 100),  # a production page view (150 data layer variables, 40 cookies): 1.7 MB a call
        (52_428, 100),
        (52_429, 99),
        (191_224, 27),  # a visitor carrying 10 events of its current visit
        (525_804, 9),  # ... 30 events
        (6_000_000, 1),  # never 0: one record a call is the least Tealium can send
    ],
)
def test_record_count_maximum_keeps_a_batch_under_the_limit(record_bytes, expected):
    found = record_count_maximum(record_bytes, MAX_BODY_BYTES)
    assert found == expected
    assert found * record_bytes <= MAX_BODY_BYTES or found == 1


def test_a_body_over_5_mib_is_refused_with_what_to_set_in_tealium():
    # GIVEN a Tealium batch of 100 visitors carrying their visits' events: about 54 KB each
    batch = visitor_batch(now_ms=NOW_MS)
    for visitor in batch:
        visitor["current_visit"]["events"] = [{"event_id": "x", "data": {"udo": {"padding": "p" * 2_700}}}] * 20
    body = json.dumps(batch)
    assert MAX_BODY_BYTES < len(body) < API_GATEWAY_MAX_BODY_BYTES
    queue = FakeQueue()
    # WHEN it reaches the ingest
    answer = ingest(queue=queue).handle("trial_started", body, "application/json", None)
    # THEN it is refused whole, unread, and the reason says what to set
    assert answer.status_code == 413
    assert answer.body == {"errors": [{"field": "body", "reason": body_too_large(MAX_BODY_BYTES)}], "results": []}
    reason = answer.body["errors"][0]["reason"]
    assert reason.startswith(f"is larger than {MAX_BODY_BYTES} bytes; split it into several calls.")
    assert "up to 100 records a call, which fits while they average under 52 KB" in reason
    assert "Exclude Current Visit Event Data" in reason
    assert f"Record Count Maximum at most {MAX_BODY_BYTES} / the record's size" in reason
    assert queue.messages == []


def test_openapi_describes_the_413_the_ingest_answers():
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    described = " ".join(spec["paths"]["/actions/{action}"]["post"]["responses"]["413"]["description"].split())
    assert f"above 5 MiB ({MAX_BODY_BYTES:,} bytes)" in described
    assert f"up to {TEALIUM_MAX_RECORDS} records a call, which fits while they average under 52 KB" in described
    assert "Exclude Current Visit Event Data" in described and "Record Count Maximum" in described
    assert "API Gateway's 10 MB limit" in described
