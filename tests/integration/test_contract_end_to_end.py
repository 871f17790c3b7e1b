"""The current contract end to end: Tealium events through the ingest handler (and the queue) to the strict stand-in.

The stand-in refuses any field the contract does not name, so the exact JSON it received is what OpenAI would get.
"""

from __future__ import annotations

import json
import time

import boto3
import pytest
from connector.core.errors import ConfigError
from connector.core.queue_message import to_message
from connector.core.wire.request import encode_event
from connector.wiring import build_ingest_service

from local.handlers import load_handler
from local.sqs_poller import EventSourcePoller
from tests.support.core import (
    BUNDLED_ACTIONS,
    COUNTRY_US_SHA256,
    EMAIL_ADA_SHA256,
    EMAIL_USER_SHA256,
    EXTERNAL_ID_CUSTOMER_123_SHA256,
    EXTERNAL_ID_SHA256,
    FIRST_NAME_JOSE_SHA256,
    FIRST_NAME_MARY_JANE_SHA256,
    LAST_NAME_OCONNOR_SHA256,
    LAST_NAME_STEFANESCU_SHA256,
    PHONE_RO_SHA256,
    PHONE_SF_SHA256,
)
from tests.support.loopback import STANDIN_PIXEL
from tests.support.repo import fresh, load_event

pytestmark = pytest.mark.integration

#: Every user mapping key -> the data-layer variable it reads, as a site would name them.
EVERY_USER_FIELD = {
    "email": "customer_email",
    "email_sha256": "customer_email_hash",
    "phone": "customer_phone",
    "phone_sha256": "customer_phone_hash",
    "external_id": "customer_id",
    "external_id_sha256": "crm_id_hash",
    "external_id_raw": "loyalty_id",
    "first_name": "customer_first_name",
    "first_name_sha256": "customer_first_name_hash",
    "last_name": "customer_last_name",
    "last_name_sha256": "customer_last_name_hash",
    "country": "customer_country",
    "region": "customer_state",
    "city": "customer_city",
    "zip": "customer_zip",
    "android_advertising_id": "app_gaid",
    "obref": "cp.__obref",
    "ip_address": "client_ip",
    "user_agent": "useragent",
}
#: The data-layer values a Tealium purchase carries for them (the sample adds the rest).
USER_UDO = {
    "customer_email_hash": EMAIL_USER_SHA256.upper(),
    "customer_phone_hash": PHONE_SF_SHA256,
    "crm_id_hash": EXTERNAL_ID_CUSTOMER_123_SHA256,
    "loyalty_id": "customer_123",
    "customer_first_name": "Mary Jane",
    "customer_first_name_hash": FIRST_NAME_JOSE_SHA256,
    "customer_last_name": "O'Connor",
    "customer_last_name_hash": LAST_NAME_STEFANESCU_SHA256,
    "customer_state": "New York",
    "app_gaid": "38400000-8CF0-11BD-B23E-10B96E40000D",
    "cp.__obref": "ob.1.Zx9-kQ",
}


def write_actions(tmp_path, actions: dict) -> str:
    path = tmp_path / "actions.json"
    path.write_text(json.dumps({"actions": actions}), encoding="utf-8")
    return str(path)


@pytest.fixture
def app_with(connector_env, monkeypatch, tmp_path):
    """The ingest handler built with the given actions document (a cold start)."""

    def build(actions: dict):
        monkeypatch.setenv("ACTIONS_CONFIG", write_actions(tmp_path, actions))
        return load_handler("ingest")

    return build


def post(app, action: str, document: object, lambda_context) -> tuple[int, dict]:
    from local.apigw import proxy_event

    response = app.lambda_handler(proxy_event(action, json.dumps(document)), lambda_context)
    return response["statusCode"], json.loads(response["body"])


def test_one_event_mapping_every_user_field_reaches_openai_exactly(app_with, standin, lambda_context):
    # GIVEN an action mapping every user field, and a Tealium purchase carrying each of them
    app = app_with({"profile": {"delivery": "realtime", "event_type": "order_created", "mappings": {
        "id": "order_id", "oppref": "oppref", **EVERY_USER_FIELD}}})  # fmt: skip
    document = fresh(load_event("tealium/purchase-event.json"))
    document["data"]["udo"].update(USER_UDO)
    # WHEN it is posted
    status, answer = post(app, "profile", document, lambda_context)
    # THEN it is sent, and OpenAI received exactly this request
    assert status == 200, answer
    assert answer["results"][0]["status"] == "sent" and answer["results"][0]["warnings"] == []
    (request,) = standin.accepted_requests()
    assert request.json == {
        "validate_only": False,
        "integration_source": "tealium-openai-connector-aws",
        "events": [
            {
                "id": "ORD-10042",
                "type": "order_created",
                "timestamp_ms": document["post_time"] // 1000 * 1000,
                "oppref": "opp_4f2b9c7e1a",
                "source_url": "https://shop.example.com/checkout/thank-you",
                "action_source": "web",
                "user": {
                    "emails_sha256": [EMAIL_ADA_SHA256, EMAIL_USER_SHA256],
                    "phone_numbers_sha256": [PHONE_RO_SHA256, PHONE_SF_SHA256],
                    "external_ids_sha256": [EXTERNAL_ID_SHA256, EXTERNAL_ID_CUSTOMER_123_SHA256],
                    "first_names_sha256": [FIRST_NAME_MARY_JANE_SHA256, FIRST_NAME_JOSE_SHA256],
                    "last_names_sha256": [LAST_NAME_OCONNOR_SHA256, LAST_NAME_STEFANESCU_SHA256],
                    "countries": ["US"],
                    "regions": ["new york"],
                    "cities": ["new york"],
                    "postal_codes": ["10001"],
                    "android_advertising_id": "38400000-8cf0-11bd-b23e-10b96e40000d",
                    "obref": "ob.1.Zx9-kQ",
                    "ip_address": "203.0.113.42",
                    "user_agent": document["useragent"],
                },
                "data": {
                    "type": "contents",
                    "amount": 12999,
                    "currency": "USD",
                    "contents": [
                        {"id": "SKU-RED-M", "name": "Red T-Shirt", "content_type": "apparel", "quantity": 2,
                         "amount": 2500, "currency": "USD"},
                        {"id": "SKU-BLU-L", "name": "Blue Hoodie", "content_type": "apparel", "quantity": 1,
                         "amount": 7999, "currency": "USD"},
                    ],
                },
            }
        ],
    }  # fmt: skip


def test_a_custom_event_carries_its_properties_and_a_mapped_contents_list(app_with, standin, lambda_context):
    app = app_with({"upgrade": {
        "delivery": "realtime", "event_type": "custom", "custom_event_name": "plan_upgrade",
        "mappings": {"id": "event_id", "currency": "plan_currency", "plan_id": "plan", "contents": "cart_items"},
        "custom_data": {"plan_tier": "tier", "seats": "seat_count", "annual": "is_annual",
                        "missing": "nowhere"}}})  # fmt: skip
    document = fresh(load_event("tealium/purchase-event.json"))
    udo = document["data"]["udo"] = {"tealium_event": "upgrade", "tealium_timestamp_epoch": str(int(time.time()))}
    udo |= {"plan_currency": "eur", "plan": "pro", "tier": "gold", "seat_count": 12, "is_annual": False}
    udo["cart_items"] = [
        {"id": "PRO", "group_id": "PLANS", "content_type": "plan", "quantity": 12, "price": "9.50",
         "variant_dict": {"billing": "monthly"}},
        {"id": "SUPPORT", "amount": 1500, "currency": "USD"},
    ]  # fmt: skip
    status, answer = post(app, "upgrade", document, lambda_context)
    assert status == 200, answer
    (event,) = standin.events
    assert event["data"] == {
        "type": "custom",
        "plan_id": "pro",
        "currency": "EUR",
        "contents": [
            {"id": "PRO", "group_id": "PLANS", "content_type": "plan", "quantity": 12, "amount": 950,
             "currency": "EUR", "variant_dict": {"billing": "monthly"}},
            {"id": "SUPPORT", "amount": 1500, "currency": "USD"},
        ],
        "plan_tier": "gold",
        "seats": 12,
        "annual": False,
    }  # fmt: skip


# ---- what OpenAI no longer takes never reaches the wire ------------------------------------


def test_the_raw_external_id_reaches_openai_hashed_only(app_with, standin, lambda_context):
    app = app_with({"p": {"delivery": "realtime", "event_type": "order_created",
                          "mappings": {"id": "order_id", "external_id_raw": "loyalty_id"}}})  # fmt: skip
    document = fresh(load_event("tealium/purchase-event.json"))
    document["data"]["udo"]["loyalty_id"] = "LOYAL-5521-RAW"
    assert post(app, "p", document, lambda_context)[0] == 200
    (request,) = standin.accepted_requests()
    assert b"LOYAL-5521-RAW" not in request.body
    assert "external_id" not in request.json["events"][0]["user"]
    assert len(request.json["events"][0]["user"]["external_ids_sha256"]) == 1


def test_apply_hash_geo_columns_reach_openai_raw_and_no_hashed_geo_list_exists(app_with, standin, lambda_context):
    app = app_with({"p": {"delivery": "realtime", "event_type": "order_created", "disable_automapping": False,
                          "mappings": {"id": "order_id", "country": "customer_country", "city": "customer_city",
                                       "zip": "customer_zip"}}})  # fmt: skip
    assert post(app, "p", fresh(load_event("tealium/purchase-event.json")), lambda_context)[0] == 200
    (request,) = standin.accepted_requests()
    user = request.json["events"][0]["user"]
    assert (user["countries"], user["cities"], user["postal_codes"]) == (["US"], ["new york"], ["10001"])
    for removed in (b"countries_sha256", b"cities_sha256", b"postal_codes_sha256", b'"external_id"'):
        assert removed not in request.body


@pytest.mark.parametrize("key", ["country_sha256", "city_sha256", "zip_sha256"])
def test_an_actions_document_mapping_hashed_geo_fails_the_cold_start(tmp_path, key):
    path = write_actions(tmp_path, {"geo": {"delivery": "batched", "event_type": "page_viewed",
                                            "mappings": {key: "hashed_geo"}}})  # fmt: skip
    env = {"PIXEL_ID": STANDIN_PIXEL, "API_KEY_SECRET_ID": "k", "ACTIONS_CONFIG": path}
    with pytest.raises(ConfigError, match=rf"^actions\.geo\.mappings\.{key}: .* map the raw attribute"):
        build_ingest_service(BUNDLED_ACTIONS, env)


def test_geo_format_fails_the_cold_start():
    env = {"PIXEL_ID": STANDIN_PIXEL, "API_KEY_SECRET_ID": "k", "GEO_FORMAT": "sha256"}
    with pytest.raises(ConfigError, match=r"^GEO_FORMAT: is no longer supported"):
        build_ingest_service(BUNDLED_ACTIONS, env)


def old_contract_event(event_id: str, **user: object) -> dict[str, object]:
    return {"id": event_id, "type": "page_viewed", "timestamp_ms": round(time.time() * 1000),
            "source_url": "https://shop.example.com/", "action_source": "web", "user": user,
            "data": {"type": "contents"}}  # fmt: skip


def test_a_queued_event_with_a_field_openai_no_longer_takes_is_dead_lettered_not_sent(connector_env, standin, aws):
    # GIVEN messages an older version queued: each with one field the current contract does not have
    removed = {
        "OLD-external_id": {"external_id": "CUST-00042"},
        "OLD-countries_sha256": {"countries_sha256": [COUNTRY_US_SHA256]},
        "OLD-cities_sha256": {"cities_sha256": [COUNTRY_US_SHA256]},
        "OLD-postal_codes_sha256": {"postal_codes_sha256": [COUNTRY_US_SHA256]},
    }
    events = [old_contract_event(event_id, **user) for event_id, user in removed.items()]
    events.append(old_contract_event("NEW-1", emails_sha256=[EMAIL_USER_SHA256]))
    sqs = boto3.client("sqs")
    for event in events:
        sqs.send_message(QueueUrl=aws.queue_url, MessageBody=to_message("page_view", encode_event(event)))
    # WHEN the batch sender takes them
    app = load_handler("batch_sender")
    poller = EventSourcePoller(aws.queue_url, app.lambda_handler, batch_size=10, window_seconds=1,
                               failure_visibility_timeout=0, wait_time_seconds=1)  # fmt: skip
    while poller.poll_once():
        pass
    # THEN only the valid one reached OpenAI, and each other one is parked with the field it names
    assert standin.event_ids() == ["NEW-1"]
    assert standin.accepted_requests()[0].json["integration_source"] == "tealium-openai-connector-aws"
    got = sqs.receive_message(QueueUrl=aws.dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    reasons = {json.loads(m["Body"])["event"]["id"]: m["MessageAttributes"]["reason"]["StringValue"]
               for m in got["Messages"]}  # fmt: skip
    not_a_field = "is not a field of OpenAI's user object"
    assert reasons == {
        event_id: f"not a valid OpenAI event: user.{event_id.removeprefix('OLD-')}: {not_a_field}"
        for event_id in removed
    }


@pytest.mark.parametrize("setting, expected", [("acme.bridge_2", {"integration_source": "acme.bridge_2"}), ("", {})])
def test_integration_source_follows_the_setting_and_empty_omits_it(
    app_with, standin, lambda_context, monkeypatch, setting, expected
):
    monkeypatch.setenv("INTEGRATION_SOURCE", setting)
    app = app_with({"p": {"delivery": "realtime", "event_type": "order_created", "mappings": {"id": "order_id"}}})
    assert post(app, "p", fresh(load_event("tealium/purchase-event.json")), lambda_context)[0] == 200
    (request,) = standin.accepted_requests()
    assert {k: v for k, v in request.json.items() if k != "events"} == {"validate_only": False, **expected}
