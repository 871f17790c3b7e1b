"""The suite's leak guard finds a raw value in any field of a request body, encoded or not, and in answers."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from tests.support import leak_guard


@pytest.fixture
def guard():
    """The guard as tests use it; what these checks record is taken back, so the session stays green."""
    recorded = len(leak_guard.LEAKS)
    yield leak_guard
    del leak_guard.LEAKS[recorded:]


def body(event: dict) -> bytes:
    return json.dumps({"validate_only": False, "events": [event]}, ensure_ascii=False).encode()


@pytest.mark.parametrize(
    "event, field",
    [
        ({"source_url": "https://shop.example.com/?email=ada%40example.com"}, "events[0].source_url"),
        ({"source_url": "https://shop.example.com/#tel=+40+746+123+456"}, "events[0].source_url"),
        ({"data": {"prefs": {"contact": ["x", "USER@EXAMPLE.COM"]}}}, "events[0].data.prefs.contact[1]"),
        ({"data": {"prefs": {"ada@example.com": True}}}, "events[0].data.prefs.ada@example.com"),
        ({"data": {"contents": [{"name": "for Ștefănescu"}]}}, "events[0].data.contents[0].name"),
    ],
)
def test_a_raw_value_in_any_field_of_a_body_is_found(guard, event, field):
    [found] = guard.scan_body(body(event))
    assert found.startswith(f"{field}: ")
    assert guard.LEAKS[-1].endswith(f"request body field {field} contains {found.split(': ', 1)[1]}")


def test_the_values_a_test_carried_are_looked_for_too_and_oppref_is_not(guard):
    carried = "jane.roe+promo@mail.example.org"
    event = {"oppref": "opp_4f2b9c7e1a", "source_url": f"https://a.example/?e={quote(carried, safe='')}"}
    assert guard.scan_body(body(event)) == []
    guard.carried(carried)
    assert guard.scan_body(body(event)) == [f"events[0].source_url: {carried!r}"]


def test_hashes_and_ordinary_fields_pass(guard):
    event = {
        "id": "ORD-10042",
        "source_url": "https://shop.example.com/checkout/thank-you?utm_source=newsletter",
        "user": {"emails_sha256": ["b5fc85e55755f9e0d030a10ab4429b6b2944855f9a0d60077fe832becbc41d72"]},
    }
    assert guard.scan_body(body(event)) == []


def test_an_answer_with_a_raw_value_is_found(guard):
    assert guard.scan_answer('{"errors": [{"reason": "bad +40 746 123 456"}]}') == ["+40 746 123 456"]
