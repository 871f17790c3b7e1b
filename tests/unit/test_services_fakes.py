"""The services driven through in-memory fakes of their ports (tests/support/fakes.py): no network, no AWS."""

from __future__ import annotations

import json
import time

import pytest
from connector.core.errors import RetryableSendError
from connector.core.queue_message import to_message
from connector.core.types import EventStatus, Outcome, Route
from connector.core.wire.request import encode_event
from connector.services.batch import BatchService, Record
from connector.services.delivery import Sender
from connector.services.ingest import IngestService

from tests.support.core import NOW_MS, bundled_actions, sample_settings
from tests.support.fakes import FakeClient, FakeKeys, FakeQueue, rejection, reply
from tests.support.repo import load_event

ROUTE = Route("px_123", "openai-key", False, "https://bzr.openai.com")
BATCHED = "purchase_batched"


def wire_event(event_id: str) -> dict[str, object]:
    """A valid page_viewed event, stamped at the tests' clock."""
    return {
        "id": event_id,
        "type": "page_viewed",
        "timestamp_ms": NOW_MS,
        "action_source": "web",
        "source_url": "https://shop.example.com/p",
        "data": {"type": "contents"},
    }


def encoded(*ids: str) -> list[bytes]:
    return [encode_event(wire_event(event_id)) for event_id in ids]


def outcomes(results) -> list[Outcome]:
    return [result.outcome for result in results]


def rejecting(bad_id: str, param: bool = False):
    """A client that refuses any request holding `bad_id` (naming it in error.param when asked), else 200."""

    def respond(post):
        if bad_id not in post.ids:
            return reply(200)
        return rejection(f"events[{post.ids.index(bad_id)}]" if param else None)

    return respond


# ---- Sender: transient failures ---------------------------------------------------------------------


def test_a_5xx_after_the_clients_retries_gives_up_on_every_pending_request():
    # GIVEN 1,001 events (two requests) and OpenAI answering 503 even after the client's own retries
    client = FakeClient(lambda post: reply(503, retries=3))
    sender = Sender(client, FakeKeys())
    # WHEN they are sent
    results = sender.send(ROUTE, encoded(*(f"e{n}" for n in range(1001))))
    # THEN one request was tried, and every event (the second request's too) is kept for a retry
    assert len(client.posts) == 1
    assert set(outcomes(results)) == {Outcome.RETRY}
    assert results[-1].reason == "OpenAI answered 503 after retries"
    assert (sender.stats.requests, sender.stats.retries, sender.stats.statuses) == (1, 3, {503: 1})


def test_no_answer_at_all_keeps_every_event_for_a_retry():
    client = FakeClient(lambda post: RetryableSendError("timeout"))
    results = Sender(client, FakeKeys()).send(ROUTE, encoded("a", "b"))
    assert outcomes(results) == [Outcome.RETRY, Outcome.RETRY]
    assert {result.reason for result in results} == {"timeout"}


def test_a_spent_time_budget_sends_nothing():
    client = FakeClient()
    results = Sender(client, FakeKeys()).send(ROUTE, encoded("a"), deadline=time.monotonic() - 1)
    assert client.posts == []
    assert results[0].outcome is Outcome.RETRY and results[0].reason == "time budget spent before sending"


def test_an_unreadable_key_sends_nothing():
    client = FakeClient()
    results = Sender(client, FakeKeys(error="cannot read the API key secret")).send(ROUTE, encoded("a", "b"))
    assert client.posts == []
    assert outcomes(results) == [Outcome.RETRY, Outcome.RETRY]


def test_debug_mode_validates_only():
    client = FakeClient()
    results = Sender(client, FakeKeys(), "connector-tests").send(
        Route("px_123", "openai-key", True, "https://bzr.openai.com"), encoded("a")
    )
    assert outcomes(results) == [Outcome.VALIDATED]
    assert client.posts[0].body["validate_only"] is True
    assert client.posts[0].body["integration_source"] == "connector-tests"
    assert client.posts[0].url == "https://bzr.openai.com/v1/events?pid=px_123"


# ---- Sender: a 400 isolates the bad event --------------------------------------------------------------


def test_a_400_naming_the_event_rejects_it_and_resends_the_rest():
    # GIVEN OpenAI refusing the request that holds "bad", naming it in error.param
    client = FakeClient(rejecting("bad", param=True))
    # WHEN three events are sent, the bad one in the middle
    results = Sender(client, FakeKeys()).send(ROUTE, encoded("a", "bad", "c"))
    # THEN only it is rejected, and the others went again, split in halves (the bound of delivery._isolate)
    assert outcomes(results) == [Outcome.SENT, Outcome.REJECTED, Outcome.SENT]
    assert results[1].reason == "invalid event"
    assert [post.ids for post in client.posts] == [["a", "bad", "c"], ["a"], ["c"]]


def test_a_400_naming_no_event_is_bisected_down_to_the_bad_one():
    client = FakeClient(rejecting("bad"))
    results = Sender(client, FakeKeys()).send(ROUTE, encoded("a", "b", "bad", "d"))
    assert outcomes(results) == [Outcome.SENT, Outcome.SENT, Outcome.REJECTED, Outcome.SENT]
    assert [post.ids for post in client.posts] == [["a", "b", "bad", "d"], ["a", "b"], ["bad", "d"], ["bad"], ["d"]]


def test_a_rejection_message_never_carries_the_events_values_or_the_key():
    quoted = "events[0].source_url https://shop.example.com/p is not allowed with key sk-fake-key"
    client = FakeClient(lambda post: rejection("events[0]", quoted))
    [result] = Sender(client, FakeKeys()).send(ROUTE, encoded("a"))
    assert result.outcome is Outcome.REJECTED
    assert "https://shop.example.com/p" not in result.reason and "sk-fake-key" not in result.reason


# ---- Sender: the key is fetched again once after 401/403 -----------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_is_fetched_again_once(status):
    # GIVEN a rotated key: the cached one is refused, a fresh fetch gives the new one
    keys = FakeKeys("sk-old", "sk-new")
    client = FakeClient(lambda post: reply(200 if post.headers["Authorization"] == "Bearer sk-new" else status))
    # WHEN an event is sent
    results = Sender(client, keys).send(ROUTE, encoded("a"))
    # THEN it went with the new key, fetched with force_refresh
    assert outcomes(results) == [Outcome.SENT]
    assert keys.calls == [(ROUTE, False), (ROUTE, True)]
    assert [post.headers["Authorization"] for post in client.posts] == ["Bearer sk-old", "Bearer sk-new"]


def test_a_key_refused_again_after_the_refresh_keeps_every_event():
    client = FakeClient(lambda post: reply(401))
    keys = FakeKeys("sk-old", "sk-still-bad")
    results = Sender(client, keys).send(ROUTE, encoded(*(f"e{n}" for n in range(1001))))
    assert set(outcomes(results)) == {Outcome.AUTH}
    assert results[0].reason == "OpenAI answered 401: check the API key and pixel id"
    assert len(client.posts) == 2 and len(keys.calls) == 2


# ---- BatchService ----------------------------------------------------------------------------------------


def batch_service(client: FakeClient, dead_letters: FakeQueue | None, max_receive_count: int = 5) -> BatchService:
    return BatchService(
        Sender(client, FakeKeys()), dead_letters, {BATCHED: ROUTE}, max_receive_count, clock=lambda: NOW_MS / 1000
    )


def record(event_id: str, receive_count: int = 1, action: str = BATCHED) -> Record:
    return Record(f"m-{event_id}", to_message(action, encode_event(wire_event(event_id))), receive_count)


def test_the_batch_sender_dead_letters_what_openai_rejects_and_sends_the_rest():
    dead_letters = FakeQueue()
    report = batch_service(FakeClient(rejecting("bad", param=True)), dead_letters).handle([record("a"), record("bad")])
    assert report.failed_message_ids == []
    assert report.counts == {EventStatus.SENT: 1, EventStatus.DEAD_LETTERED: 1}
    [body] = dead_letters.bodies
    assert body["event"]["id"] == "bad"
    assert body["dead_letter"] == {"reason": "OpenAI rejected it: invalid event", "at_ms": NOW_MS}
    assert dead_letters.reasons == ["OpenAI rejected it: invalid event"]


def test_a_transient_failure_is_handed_back_until_the_last_receive_then_dead_lettered():
    dead_letters = FakeQueue()
    service = batch_service(FakeClient(lambda post: reply(503)), dead_letters, max_receive_count=3)
    report = service.handle([record("early", receive_count=2), record("last", receive_count=3)])
    assert report.failed_message_ids == ["m-early"]
    assert report.counts == {EventStatus.RETRY: 1, EventStatus.DEAD_LETTERED: 1}
    assert dead_letters.reasons == ["gave up after 3 tries: OpenAI answered 503 after retries"]


def test_a_message_for_an_action_this_sender_does_not_hold_is_dead_lettered_unsent():
    client, dead_letters = FakeClient(), FakeQueue()
    report = batch_service(client, dead_letters).handle([record("a", action="someone-elses")])
    assert client.posts == []
    assert dead_letters.reasons == ["message.action: not an action this sender is configured with"]
    assert report.counts == {EventStatus.DEAD_LETTERED: 1}


def test_a_dead_letter_that_cannot_be_parked_is_handed_back_to_sqs():
    report = batch_service(FakeClient(rejecting("bad")), FakeQueue(fail_all="SQS: throttled")).handle([record("bad")])
    assert report.failed_message_ids == ["m-bad"]
    assert report.counts == {EventStatus.RETRY: 1}


# ---- IngestService ---------------------------------------------------------------------------------------


def ingest_service(client: FakeClient, queue: FakeQueue | None) -> IngestService:
    return IngestService(
        sample_settings(), bundled_actions(), Sender(client, FakeKeys()), queue, clock=lambda: NOW_MS / 1000
    )


def purchase_body() -> str:
    return json.dumps(load_event("tealium/purchase-event.json"))


def test_a_batched_action_queues_its_events_by_action_name():
    client, queue = FakeClient(), FakeQueue()
    answer = ingest_service(client, queue).handle(BATCHED, purchase_body(), "application/json", None)
    assert answer.status_code == 202
    assert [result["status"] for result in answer.body["results"]] == [EventStatus.QUEUED]
    assert client.posts == []
    [message] = queue.bodies
    assert set(message) == {"v", "action", "event"} and message["action"] == BATCHED


def test_a_realtime_event_openai_cannot_take_now_is_queued_instead():
    queue = FakeQueue()
    answer = ingest_service(FakeClient(lambda post: reply(503)), queue).handle(
        "purchase", purchase_body(), "application/json", None
    )
    assert answer.status_code == 202
    assert answer.counts == {EventStatus.QUEUED: 1}
    assert [message["action"] for message in queue.bodies] == ["purchase"]


def test_a_realtime_event_sent_now_is_never_queued():
    client, queue = FakeClient(), FakeQueue()
    answer = ingest_service(client, queue).handle("purchase", purchase_body(), "application/json", None)
    assert answer.status_code == 200 and answer.counts == {EventStatus.SENT: 1}
    assert len(client.posts) == 1 and queue.messages == []


def test_an_event_that_cannot_be_queued_fails_with_503():
    answer = ingest_service(FakeClient(), FakeQueue(fail_all="SQS: throttled")).handle(
        BATCHED, purchase_body(), "application/json", None
    )
    assert answer.status_code == 503
    [result] = answer.body["results"]
    assert result["status"] == EventStatus.FAILED
    reason = "could not enqueue (SQS: throttled); send the event again"
    assert result["errors"] == [{"field": "queue", "reason": reason}]


def test_a_realtime_call_spends_at_most_the_budget_the_settings_give(monkeypatch):
    # GIVEN REALTIME_BUDGET_SECONDS=3 (Tealium's webhook waits at most 10 s for the answer)
    from dataclasses import replace

    client = FakeClient()
    service = IngestService(
        replace(sample_settings(), realtime_budget_seconds=3),
        bundled_actions(),
        Sender(client, FakeKeys()),
        None,
        clock=lambda: NOW_MS / 1000,
    )
    # WHEN a real-time event is sent
    before = time.monotonic()
    service.handle("purchase", purchase_body(), "application/json", None)
    after = time.monotonic()
    # THEN its request carries a deadline 3 s after the call began
    [post] = client.posts
    assert before + 3 <= post.deadline <= after + 3
