"""Recovery after a 400 has a bounded cost (connector/services/delivery.py `_isolate`).

For a request of n events, whatever mix of good and bad events it holds and whichever bad event OpenAI
names (or none): at most 2n - 1 requests, and at most (1 + ceil(log2 n)) times the first request's bytes
plus each request's envelope. Every bad event is rejected, every good one sent exactly once.
"""

from __future__ import annotations

import math
import random

import pytest
from connector.core.types import Outcome, Route
from connector.core.wire.request import encode_event, request_overhead
from connector.services.delivery import Sender
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.core import NOW_MS
from tests.support.fakes import FakeClient, FakeKeys, rejection, reply

ROUTE = Route("px_123", "openai-key", False, "https://bzr.openai.com")


def purchase_event(event_id: str) -> bytes:
    """A purchase as the connector writes it (about 700 bytes): 1,000 of them make a request near 1 MB."""
    return encode_event(
        {
            "id": event_id,
            "type": "order_created",
            "timestamp_ms": NOW_MS,
            "action_source": "web",
            "source_url": "https://shop.example.com/checkout/confirmation?step=done",
            "user": {"emails_sha256": ["b4c9a289323b21a01c3e940f150eb9b8c542587f1abfd8f0e1cc1ffc5e475514"]},
            "data": {
                "type": "contents",
                "amount": 12999,
                "currency": "USD",
                "contents": [
                    {"id": f"SKU-{n}", "name": "Red T-Shirt", "content_type": "apparel", "quantity": 1, "amount": 2500}
                    for n in range(4)
                ],
            },
        }
    )


def openai_naming(bad: set[str], which: str):
    """A client that refuses any request holding a bad event: naming the first one in error.param (what the
    stand-in does), the last one, a random one, or none (bisection only)."""
    chooser = random.Random(7)

    def respond(post):
        positions = [i for i, event_id in enumerate(post.ids) if event_id in bad]
        if not positions:
            return reply(200)
        if which == "none":
            return rejection(None)
        named = {"first": positions[0], "last": positions[-1], "random": chooser.choice(positions)}[which]
        return rejection(f"events[{named}]")

    return respond


def send(n: int, bad_positions: set[int], which: str) -> tuple[FakeClient, list, list[str]]:
    ids = [f"ORD-{i:04d}" for i in range(n)]
    bad = {ids[i] for i in bad_positions}
    client = FakeClient(openai_naming(bad, which))
    results = Sender(client, FakeKeys()).send(ROUTE, [purchase_event(i) for i in ids])
    return client, results, ids


def assert_bounded_and_exact(n: int, bad_positions: set[int], which: str) -> tuple[int, int]:
    client, results, ids = send(n, bad_positions, which)
    requests, sent_bytes = len(client.posts), sum(post.size for post in client.posts)
    first = client.posts[0].size
    levels = 1 + math.ceil(math.log2(n)) if n > 1 else 1
    assert requests <= 2 * n - 1
    assert sent_bytes <= levels * first + requests * request_overhead(False)
    # Exact: the bad events rejected, each good one accepted in exactly one request.
    assert [r.outcome for r in results] == [Outcome.REJECTED if i in bad_positions else Outcome.SENT for i in range(n)]
    bad_ids = {ids[i] for i in bad_positions}
    accepted = [event_id for post in client.posts if not bad_ids & set(post.ids) for event_id in post.ids]
    assert sorted(accepted) == sorted(ids[i] for i in range(n) if i not in bad_positions)
    return requests, sent_bytes


def spread(n: int, count: int) -> set[int]:
    return {i * n // count for i in range(count)} if count else set()


@pytest.mark.parametrize("which", ["first", "none", "last", "random"])
@pytest.mark.parametrize("rejected", [0, 1, 10, 500, 1000])
def test_a_request_of_1000_events_costs_at_most_2n_requests_and_1_plus_log2_n_times_its_bytes(rejected, which):
    requests, sent_bytes = assert_bounded_and_exact(1000, spread(1000, rejected), which)
    if rejected == 0:
        assert requests == 1
    if rejected == 1000 and which == "first":
        # Before the bound: 1,000 requests of 1,000, 999, ... events (about 500 times the request's bytes).
        assert sent_bytes < 12 * 1000 * len(purchase_event("ORD-0000"))


def test_one_bad_event_named_costs_three_requests_and_twice_the_bytes():
    client, _, _ = send(1000, {500}, "first")
    assert [len(post.ids) for post in client.posts] == [1000, 500, 499]


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 160),
    which=st.sampled_from(["first", "none", "last", "random"]),
    data=st.data(),
)
def test_any_mix_of_good_and_bad_events_is_within_the_bound(n, which, data):
    bad = data.draw(st.sets(st.integers(0, n - 1), max_size=n), label="bad positions")
    assert_bounded_and_exact(n, bad, which)
