"""Tealium data through the ingest handler to the strict stand-in: money, consent, oppref and obref."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from local.handlers import load_handler
from tests.support.loopback import call, queued_messages
from tests.support.repo import fresh, load_event

pytestmark = pytest.mark.integration

OPPREF, OBREF = "opp_9Zr-Q/t=", "obr_3Lm8"
UA = load_event("tealium/purchase-event.json")["useragent"]
ACTIONS = {
    "purchase_eu": {"delivery": "realtime", "event_type": "order_created", "decimal_separator": ","},
    "purchase_us": {"delivery": "realtime", "event_type": "order_created"},
    "purchase_consent_skip": {
        "delivery": "realtime",
        "event_type": "order_created",
        "consent_attribute": "consent_marketing",
        "mappings": {"email": "customer_email"},
    },
    "batched_consent_skip": {
        "delivery": "batched",
        "event_type": "order_created",
        "consent_attribute": "consent_marketing",
    },
    "purchase_consent_opt_out": {
        "delivery": "batched",
        "event_type": "order_created",
        "consent_attribute": "consent_marketing",
        "on_no_consent": "opt_out",
        "mappings": {"email": "customer_email"},
    },
}


@pytest.fixture
def app(connector_env, monkeypatch, tmp_path):
    path = tmp_path / "actions.json"
    path.write_text(json.dumps({"actions": ACTIONS}))
    monkeypatch.setenv("ACTIONS_CONFIG", str(path))
    return load_handler("ingest")


def stock_purchase(**udo: object) -> dict:
    """A stock Tealium purchase: the order id in `_corder`, attribution only where the Pixel leaves it."""
    document = fresh(load_event("tealium/purchase-event.json"))
    for name in ("order_id", "oppref", "customer_email", "customer_phone", "customer_id"):
        del document["data"]["udo"][name]
    for name in ("customer_country", "customer_city", "customer_zip", "cp.__obref"):
        del document["data"]["udo"][name]
    document["data"]["udo"].update(udo)
    return document


def wire_base(document: dict) -> dict:
    """What every one of these purchases carries on the wire, before its own data and user fields."""
    return {
        "id": "ORD-10042",
        "type": "order_created",
        "timestamp_ms": int(document["data"]["udo"]["tealium_timestamp_epoch"]) * 1000,
        # the page URL without its query (the order number) and fragment: docs/actions.md, What leaves
        "source_url": "https://shop.example.com/checkout/thank-you",
        "action_source": "web",
    }


USER = {"ip_address": "203.0.113.42", "user_agent": UA}


def sent_events(standin) -> list[dict]:
    return [event for request in standin.accepted_requests() for event in request.json["events"]]


def test_purchase_with_a_decimal_comma_action_reaches_openai_in_minor_units(app, standin, lambda_context):
    document = stock_purchase(_csubtotal="1.299,50", _ccurrency="EUR", _cprice=["25,00", "1.249,50"])
    status, answer = call(app, "purchase_eu", document, lambda_context)
    assert status == 200, answer
    assert answer["results"][0]["status"] == "sent"
    data = load_event("tealium/purchase-event.expected.json")["data"] | {"amount": 129950, "currency": "EUR"}
    for item, amount in zip(data["contents"], (2500, 124950), strict=True):
        item.update(amount=amount, currency="EUR")
    assert sent_events(standin) == [{**wire_base(document), "user": USER, "data": data}]


def test_an_ambiguous_amount_is_refused_naming_the_attribute_and_nothing_is_sent(app, standin, lambda_context):
    document = stock_purchase(_csubtotal="129,99", _ccurrency="EUR")
    status, answer = call(app, "purchase_us", document, lambda_context)
    assert status == 400
    [result] = answer["results"]
    assert result["status"] == "rejected" and result["id"] == "ORD-10042"
    [error] = result["errors"]
    assert error["field"] == "data.amount"
    assert 'set the action\'s decimal_separator to ","' in error["reason"]
    assert error["reason"].endswith('; read from "_csubtotal"') and "129" not in error["reason"]
    assert standin.requests == []


def emf_metrics(stdout: str) -> dict[str, object]:
    """The metric values of the EMF lines the handler printed."""
    values: dict[str, object] = {}
    for line in stdout.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            document = json.loads(line)
            for definition in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                values[definition["Name"]] = document[definition["Name"]]
    return values


def test_consent_denied_with_skip_sends_and_queues_nothing(app, standin, lambda_context, aws, capsys):
    document = stock_purchase(consent_marketing="denied", customer_email="ada@example.com")
    status, answer = call(app, "purchase_consent_skip", [document, {**document, "event_id": "x"}], lambda_context)
    assert status == 200
    assert [r["status"] for r in answer["results"]] == ["skipped", "skipped"]
    assert answer["results"][0]["warnings"] == [
        {
            "field": "consent",
            "reason": 'skipped: "consent_marketing" does not grant consent; nothing was sent '
            '(the action\'s on_no_consent is "skip")',
        }
    ]
    assert standin.requests == []
    assert queued_messages(aws.queue_url) == []
    metrics = emf_metrics(capsys.readouterr().out)
    assert metrics["EventsSkipped"] == [2.0] and "EventsSent" not in metrics


def test_skipped_and_rejected_together_answer_200(app, standin, lambda_context):
    skipped = stock_purchase(consent_marketing="0")
    rejected = stock_purchase(consent_marketing="1", _csubtotal="1,5")
    status, answer = call(app, "purchase_consent_skip", [skipped, rejected], lambda_context)
    assert status == 200
    assert [r["status"] for r in answer["results"]] == ["skipped", "rejected"]


def test_a_skipped_event_beside_a_queued_one_answers_202_and_only_the_granted_one_is_queued(
    app, standin, lambda_context, aws
):
    denied, granted = stock_purchase(consent_marketing="no"), stock_purchase(consent_marketing="Granted", _corder="G-1")
    status, answer = call(app, "batched_consent_skip", [denied, granted], lambda_context)
    assert status == 202
    assert [(r["id"], r["status"]) for r in answer["results"]] == [("ORD-10042", "skipped"), ("G-1", "queued")]
    assert [m["event"]["id"] for m in queued_messages(aws.queue_url)] == ["G-1"]


def test_consent_denied_with_opt_out_queues_the_event_opted_out_without_user_data(app, standin, lambda_context, aws):
    document = stock_purchase(
        consent_marketing="no", customer_email="ada@example.com", **{"cp.__obref": OBREF, "qp.oppref": OPPREF}
    )
    status, answer = call(app, "purchase_consent_opt_out", document, lambda_context)
    assert status == 202 and answer["results"][0]["status"] == "queued"
    [message] = queued_messages(aws.queue_url)
    event = message["event"]
    base = wire_base(document)
    assert event == {
        "id": base["id"],
        "type": base["type"],
        "timestamp_ms": base["timestamp_ms"],
        "source_url": base["source_url"],  # no oppref: the ad click's id identifies the click
        "action_source": "web",
        "opt_out": True,
        "data": load_event("tealium/purchase-event.expected.json")["data"],
    }


def test_oppref_from_the_landing_url_reaches_openai(app, standin, lambda_context):
    document = stock_purchase()
    url = f"https://shop.example.com/checkout/thank-you?order=ORD-10042&oppref={quote(OPPREF, safe='')}"
    document["data"]["dom"]["url"] = url
    status, answer = call(app, "purchase_us", document, lambda_context)
    assert status == 200, answer
    assert sent_events(standin) == [
        {
            **wire_base(document),
            "oppref": OPPREF,
            "user": USER,
            "data": load_event("tealium/purchase-event.expected.json")["data"],
        }
    ]


def from_url_and_firstparty_cookie(document: dict) -> None:
    url = f"https://shop.example.com/checkout/thank-you?order=ORD-10042&oppref={quote(OPPREF, safe='')}"
    document["data"]["dom"]["url"] = url
    document["data"]["firstparty_tealium_cookies"]["__obref"] = OBREF


def from_data_layer_cookies(document: dict) -> None:
    document["data"]["udo"].update({"cp.__oppref": OPPREF, "cp.__obref": OBREF})


@pytest.mark.parametrize("place", [from_url_and_firstparty_cookie, from_data_layer_cookies])
def test_oppref_and_obref_from_the_url_and_the_pixel_cookies_reach_openai(app, standin, lambda_context, place):
    document = stock_purchase()
    place(document)
    status, answer = call(app, "purchase_us", document, lambda_context)
    assert status == 200, answer
    assert sent_events(standin) == [
        {
            **wire_base(document),
            "oppref": OPPREF,
            "user": {**USER, "obref": OBREF},
            "data": load_event("tealium/purchase-event.expected.json")["data"],
        }
    ]
