"""Tealium's Consent Manager through the ingest handler to the strict stand-in: what leaves in each consent state.

Each consent form Tealium writes (the CONSENTMGR cookie plain or percent-encoded, with `dns:true` or
`consent:false`; the Collect tag's list of granted categories; missing or garbled) is posted in a stock
purchase whose page URL carries an email address; the test asserts the exact wire event OpenAI received,
or that nothing was sent.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from local.handlers import load_handler
from tests.support.core import EMAIL_ADA_SHA256, SAMPLE_PURCHASE_DATA
from tests.support.loopback import call
from tests.support.repo import fresh, load_event

pytestmark = pytest.mark.integration

EMAIL = "ada@example.com"
PAGE = "https://shop.example.com/checkout/thank-you"
#: The thank-you page as sites send it: the order, the visitor's email, a campaign tag, a fragment.
URL = f"{PAGE}?order=ORD-10042&email={quote(EMAIL, safe='')}&utm_source=newsletter#{EMAIL}"
MAPPINGS = {"id": "order_id", "email": "customer_email", "oppref": "oppref", "obref": "cp.__obref"}
CONSENT_MANAGER = {"consent_attribute": "cp.CONSENTMGR", "consent_categories": ["display_ads"], "mappings": MAPPINGS}
ACTIONS = {
    "cmp_skip": {"delivery": "realtime", "event_type": "order_created", **CONSENT_MANAGER},
    "cmp_opt_out": {"delivery": "realtime", "event_type": "order_created", "on_no_consent": "opt_out"}
    | CONSENT_MANAGER,
    "collect": {
        "delivery": "realtime",
        "event_type": "order_created",
        "consent_attribute": "consent_categories",
        "consent_categories": ["analytics", "c3"],
        "mappings": MAPPINGS,
    },
}
GRANTED = "consent:true|ts:1762183974556|c1:1|c2:0|c3:1|c4:0|c5:0"


@pytest.fixture
def app(connector_env, monkeypatch, tmp_path):
    path = tmp_path / "actions.json"
    path.write_text(json.dumps({"actions": ACTIONS}))
    monkeypatch.setenv("ACTIONS_CONFIG", str(path))
    return load_handler("ingest")


def purchase(cookie: str | None = None, **udo: object) -> dict:
    document = fresh(load_event("tealium/purchase-event.json"))
    document["data"]["dom"]["url"] = URL
    if cookie is not None:  # Tealium's event JSON carries the data layer's cp.* cookies here
        document["data"]["firstparty_tealium_cookies"]["CONSENTMGR"] = cookie
    document["data"]["udo"].update(udo)
    return document


def granted_event(document: dict) -> dict:
    """The purchase as sent with consent: the page URL less its query (but the campaign tag) and fragment."""
    return {
        "id": "ORD-10042",
        "type": "order_created",
        "timestamp_ms": int(document["data"]["udo"]["tealium_timestamp_epoch"]) * 1000,
        "oppref": "opp_4f2b9c7e1a",
        "source_url": f"{PAGE}?utm_source=newsletter",
        "action_source": "web",
        "user": {
            "emails_sha256": [EMAIL_ADA_SHA256],
            "obref": "ob_7d2e9a41c0",
            "ip_address": "203.0.113.42",
            "user_agent": document["useragent"],
        },
        "data": SAMPLE_PURCHASE_DATA,
    }


def opted_out_event(document: dict) -> dict:
    """Opted out: nothing that identifies the person or their click, the URL without any query."""
    return {
        "id": "ORD-10042",
        "type": "order_created",
        "timestamp_ms": int(document["data"]["udo"]["tealium_timestamp_epoch"]) * 1000,
        "source_url": PAGE,
        "action_source": "web",
        "opt_out": True,
        "data": SAMPLE_PURCHASE_DATA,
    }


def sent(standin) -> list[dict]:
    return [event for request in standin.accepted_requests() for event in request.json["events"]]


@pytest.mark.parametrize(
    "action, cookie, udo",
    [
        ("cmp_skip", GRANTED, {}),
        ("cmp_skip", quote(GRANTED, safe=""), {}),  # percent-encoded, %7C for |
        ("cmp_opt_out", GRANTED + "|dns:false", {}),
        ("collect", None, {"consent_categories": ["analytics", "display_ads", "email"]}),
        ("collect", None, {"consent_categories": "analytics,display_ads"}),
    ],
    ids=["consentmgr", "consentmgr-encoded", "dns-false", "category-list", "category-text"],
)
def test_granted_consent_sends_the_event_with_user_data(app, standin, lambda_context, action, cookie, udo):
    document = purchase(cookie, **udo)
    status, answer = call(app, action, document, lambda_context)
    assert status == 200, answer
    assert answer["results"] == [{"index": 0, "id": "ORD-10042", "status": "sent", "errors": [], "warnings": []}]
    assert sent(standin) == [granted_event(document)]


DENIED = {
    "dns-true": GRANTED + "|dns:true",
    "consent-false": "consent:false|ts:1762183974556|c1:1|c3:1",
    "display-ads-denied": "consent:true|ts:1762183974556|c1:1|c3:0",
    "display-ads-not-mentioned": "consent:true|c1:1",
}


@pytest.mark.parametrize("cookie", DENIED.values(), ids=DENIED.keys())
def test_denied_consent_skips_the_event_and_nothing_is_sent(app, standin, lambda_context, cookie):
    status, answer = call(app, "cmp_skip", purchase(cookie), lambda_context)
    assert status == 200
    assert answer["results"] == [
        {
            "index": 0,
            "id": "ORD-10042",
            "status": "skipped",
            "errors": [],
            "warnings": [
                {
                    "field": "consent",
                    "reason": 'skipped: "cp.CONSENTMGR" does not grant consent; nothing was sent '
                    '(the action\'s on_no_consent is "skip")',
                }
            ],
        }
    ]
    assert standin.requests == []


@pytest.mark.parametrize("cookie", DENIED.values(), ids=DENIED.keys())
def test_denied_consent_with_opt_out_sends_nothing_that_identifies_the_person(app, standin, lambda_context, cookie):
    document = purchase(cookie)
    status, answer = call(app, "cmp_opt_out", document, lambda_context)
    assert status == 200
    assert answer["results"][0] == {
        "index": 0,
        "id": "ORD-10042",
        "status": "sent",
        "errors": [],
        "warnings": [],
    }
    assert sent(standin) == [opted_out_event(document)]


def test_a_category_list_without_every_category_is_no_consent(app, standin, lambda_context):
    status, answer = call(app, "collect", purchase(consent_categories=["analytics"]), lambda_context)
    assert (status, answer["results"][0]["status"]) == (200, "skipped")
    assert standin.requests == []


UNREADABLE = {
    "missing": (None, "is missing"),
    "garbled": (
        "consent:maybe|c3:yes",
        "cannot be read as Tealium consent (a CONSENTMGR value or a list of categories)",
    ),
    "not-consent": ("c3=1;c1=1", "cannot be read as Tealium consent (a CONSENTMGR value or a list of categories)"),
}


@pytest.mark.parametrize("cookie, problem", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_missing_or_garbled_consent_is_no_consent_and_the_warning_names_the_attribute(
    app, standin, lambda_context, cookie, problem
):
    # skip: nothing is sent, and the warning says why
    status, answer = call(app, "cmp_skip", purchase(cookie), lambda_context)
    assert (status, answer["results"][0]["status"]) == (200, "skipped")
    assert answer["results"][0]["warnings"] == [
        {
            "field": "consent",
            "reason": f'skipped: "cp.CONSENTMGR" {problem}, so it grants no consent; nothing was sent '
            '(the action\'s on_no_consent is "skip")',
        }
    ]
    assert standin.requests == []
    # opt_out: sent opted out, with the same reason
    document = purchase(cookie)
    status, answer = call(app, "cmp_opt_out", document, lambda_context)
    assert (status, answer["results"][0]["status"]) == (200, "sent")
    assert answer["results"][0]["warnings"] == [
        {
            "field": "consent",
            "reason": f'"cp.CONSENTMGR" {problem}, so it grants no consent: sent opted out, without user data, '
            "oppref or obref",
        }
    ]
    assert sent(standin) == [opted_out_event(document)]
