"""pipeline: payloads in, one prepared event (or its errors) per input, neighbours unaffected."""

from __future__ import annotations

import json

import pytest
from connector.core.pipeline import prepare_events
from connector.core.types import Route
from connector.core.wire.request import encode_event

from tests.support.core import NOW_MS, bundled_actions, sample_settings
from tests.support.repo import load_event

ACTIONS = bundled_actions()


def good(order_id: str) -> dict[str, object]:
    document = load_event("tealium/purchase-event.json")
    document["data"]["udo"]["order_id"] = order_id
    return document


def test_one_bad_event_does_not_affect_its_neighbours():
    # GIVEN a list with a good event, one too old, a non-object, one with no id, and another good one
    too_old = good("ORD-OLD")
    too_old["data"]["udo"]["tealium_timestamp_epoch"] = str(NOW_MS // 1000 - 8 * 24 * 3600)
    no_id = good("")
    del no_id["data"]["udo"]["_corder"], no_id["event_id"]  # nor any id automapping would read
    documents = [good("ORD-1"), too_old, ["not", "an", "object"], no_id, good("ORD-2")]
    # WHEN they are prepared
    prepared = prepare_events(ACTIONS["purchase"], documents, sample_settings(), NOW_MS)
    # THEN each gets its own result, by index
    assert [p.index for p in prepared] == [0, 1, 2, 3, 4]
    assert [p.ok for p in prepared] == [True, False, False, False, True]
    assert [p.event_id for p in prepared] == ["ORD-1", "ORD-OLD", None, None, "ORD-2"]
    assert [[i.field for i in p.errors] for p in prepared] == [[], ["timestamp_ms"], ["events[2]"], ["id"], []]
    # AND the good events are identical apart from their id
    first, last = (json.loads(p.encoded) for p in (prepared[0], prepared[4]))
    assert {**first, "id": "ORD-2"} == last
    assert prepared[1].event is None and prepared[1].encoded is None


@pytest.mark.parametrize("document", [None, 42, "text", [1, 2], True])
def test_non_object_entries_are_rejected_naming_their_index(document):
    prepared = prepare_events(ACTIONS["page_view"], [{}, document], sample_settings(), NOW_MS)
    assert [issue.field for issue in prepared[1].errors] == ["events[1]"]
    assert not prepared[1].ok


def test_encoded_is_the_wire_encoding_of_the_event():
    [prepared] = prepare_events(ACTIONS["purchase"], [good("ORD-1")], sample_settings(), NOW_MS)
    assert prepared.encoded == encode_event(prepared.event)
    assert prepared.warnings == []


def test_route_comes_from_settings_and_action_overrides():
    [plain] = prepare_events(ACTIONS["purchase"], [good("A")], sample_settings(), NOW_MS)
    assert plain.route == Route("px_123", "openai-key", False, "https://bzr.openai.com")
    [debug] = prepare_events(ACTIONS["purchase_debug"], [good("A")], sample_settings(), NOW_MS)
    assert debug.route.validate_only is True


def test_a_rejected_event_still_echoes_its_id_and_warnings():
    # GIVEN an event whose email is invalid (a warning) and whose timestamp is in the far future (an error)
    document = good("ORD-9")
    document["data"]["udo"].update(customer_email="nope", tealium_timestamp_epoch=str(NOW_MS // 1000 + 3600))
    [prepared] = prepare_events(ACTIONS["purchase"], [document], sample_settings(), NOW_MS)
    assert prepared.event_id == "ORD-9"
    assert [i.field for i in prepared.errors] == ["timestamp_ms"]
    assert [i.field for i in prepared.warnings] == ["user.email"]
