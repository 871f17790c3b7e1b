"""packing: events grouped by route and cut into as few requests as OpenAI's limits allow."""

from __future__ import annotations

import json

import pytest
from connector.core.packing import group_by, pack_events, pack_sizes
from connector.core.wire.build import EventSpec, build_event
from connector.core.wire.request import (
    MAX_EVENTS_PER_REQUEST,
    MAX_REQUEST_BYTES,
    encode_event,
    request_body,
    request_overhead,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.core import NOW_MS, web_values


def fits(sizes: list[int], overhead: int, max_events: int, max_bytes: int, separator: int) -> bool:
    return len(sizes) <= max_events and overhead + sum(sizes) + separator * (len(sizes) - 1) <= max_bytes


def minimum_requests(sizes: list[int], overhead: int, max_events: int, max_bytes: int, separator: int) -> int:
    """Independent of the packer: a DP over every split into contiguous requests.

    An event too large for any request is left out and ends the run of events before it
    (requests are contiguous ranges of positions).
    """
    total, run = 0, []
    for size in [*sizes, None]:
        if size is not None and overhead + size <= max_bytes:
            run.append(size)
            continue
        best = [0] + [len(run) + 1] * len(run)  # best[i]: fewest requests for run[:i]
        for end in range(1, len(run) + 1):
            used = 0  # bytes of run[start:end] with separators, grown one event leftwards at a time
            for start in range(end - 1, max(end - max_events, 0) - 1, -1):
                used += run[start] + (separator if start < end - 1 else 0)
                if overhead + used > max_bytes:
                    break
                best[end] = min(best[end], best[start] + 1)
        total += best[len(run)]
        run = []
    return total


# ---- unit -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sizes, limits, requests, too_large",
    [
        ([], {}, [], []),
        ([10, 10, 10], {}, [range(0, 3)], []),
        ([10, 10, 10], {"max_events": 2}, [range(0, 2), range(2, 3)], []),
        # overhead 5 + 10 + 1 + 10 = 26 fits 26 exactly; a third event would need 37
        ([10, 10, 10], {"max_bytes": 26}, [range(0, 2), range(2, 3)], []),
        ([10, 10, 10], {"max_bytes": 25}, [range(0, 1), range(1, 2), range(2, 3)], []),
        ([10, 30, 10, 10], {"max_bytes": 26}, [range(0, 1), range(2, 4)], [1]),
        ([30], {"max_bytes": 26}, [], [0]),
        ([21, 1], {"max_bytes": 26}, [range(0, 1), range(1, 2)], []),
    ],
)
def test_pack_sizes(sizes, limits, requests, too_large):
    assert pack_sizes(sizes, overhead=5, **{"max_events": 1000, "max_bytes": 10_000, **limits}) == (requests, too_large)


def test_defaults_are_openai_limits():
    requests, too_large = pack_sizes([1] * 2500, overhead=0)
    assert [len(r) for r in requests] == [1000, 1000, 500] and too_large == []
    assert (MAX_EVENTS_PER_REQUEST, MAX_REQUEST_BYTES) == (1000, 1_000_000)


def test_group_by_keeps_first_seen_group_order_and_item_order():
    items = [("b", 1), ("a", 2), ("b", 3), ("c", 4), ("a", 5)]
    groups = group_by(items, key=lambda item: item[0])
    assert list(groups) == ["b", "a", "c"]
    assert groups == {"b": [("b", 1), ("b", 3)], "a": [("a", 2), ("a", 5)], "c": [("c", 4)]}


# ---- properties -------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=60), max_size=40),
    overhead=st.integers(min_value=0, max_value=20),
    max_events=st.integers(min_value=1, max_value=6),
    max_bytes=st.integers(min_value=21, max_value=120),
    separator=st.integers(min_value=0, max_value=2),
)
def test_pack_sizes_loses_nothing_keeps_order_respects_limits_and_is_minimal(
    sizes, overhead, max_events, max_bytes, separator
):
    limits = {"overhead": overhead, "max_events": max_events, "max_bytes": max_bytes, "separator": separator}
    requests, too_large = pack_sizes(sizes, **limits)
    # every position appears exactly once, in order, in a request or among the too-large
    placed = sorted([*(p for r in requests for p in r), *too_large])
    assert placed == list(range(len(sizes)))
    assert [p for r in requests for p in r] == sorted(p for r in requests for p in r)
    # every request is non-empty and within both limits
    for request in requests:
        assert request.step == 1 and len(request) >= 1
        assert fits([sizes[p] for p in request], overhead, max_events, max_bytes, separator)
    # exactly the events that fit no request alone are reported too large
    assert too_large == [p for p, size in enumerate(sizes) if overhead + size > max_bytes]
    # no packing into contiguous requests uses fewer
    assert len(requests) == minimum_requests(sizes, overhead, max_events, max_bytes, separator)


@settings(max_examples=200, deadline=None)
@given(items=st.lists(st.tuples(st.sampled_from("abcd"), st.integers()), max_size=30))
def test_group_by_partitions_without_loss_or_reordering(items):
    groups = group_by(items, key=lambda item: item[0])
    assert sorted(item for group in groups.values() for item in group) == sorted(items)
    assert list(groups) == list(dict.fromkeys(key for key, _ in items))
    for key, group in groups.items():
        assert group == [item for item in items if item[0] == key]


# ---- on real events ---------------------------------------------------------------


@pytest.mark.parametrize("validate_only", [False, True])
def test_pack_events_of_real_events_gives_bodies_within_openai_limits(validate_only):
    # GIVEN 2,600 events: among the first 1,000, one in eight near the oppref limit (over 1 MB together),
    # then 1,600 small ones (more than 1,000 to a request)
    spec = EventSpec("page_viewed")
    events = [
        build_event(
            spec,
            web_values(
                id=f"evt-{i}", email=f"user{i}@example.com", oppref="o" * (8000 if i < 1000 and i % 8 == 0 else 10)
            ),
            NOW_MS,
        ).event
        for i in range(2600)
    ]
    encoded = [encode_event(event) for event in events]
    # WHEN they are packed
    requests, too_large = pack_events(encoded, validate_only)
    # THEN every body is a valid request within both limits, and together they hold every event once, in order
    assert too_large == []
    # both limits bind: one request is cut by bytes before 1,000 events, another at 1,000 events
    assert len(requests[0]) < MAX_EVENTS_PER_REQUEST
    assert any(len(request) == MAX_EVENTS_PER_REQUEST for request in requests)
    sent = []
    for request in requests:
        body = request_body([encoded[p] for p in request], validate_only)
        assert len(body) <= MAX_REQUEST_BYTES
        document = json.loads(body)
        assert 1 <= len(document["events"]) <= MAX_EVENTS_PER_REQUEST
        assert document["validate_only"] is validate_only
        sent.extend(document["events"])
    assert sent == events
    assert len(requests) == minimum_requests(
        [len(e) for e in encoded], request_overhead(validate_only), 1000, 1_000_000, 1
    )


def test_pack_events_reports_an_event_too_large_for_any_request():
    encoded = [b'{"id":"a"}', b"x" * MAX_REQUEST_BYTES, b'{"id":"b"}']
    assert pack_events(encoded, False) == ([range(0, 1), range(2, 3)], [1])
