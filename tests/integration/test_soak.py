"""Faults, no loss: 20,000 events through the batched path while OpenAI misbehaves, then recovers.

The ingest handler queues the events on a fast local SQS (local-aws-sqs; the secret on moto); the batch
sender runs under a local play of the SQS event source mapping (batch size 1,000, a short window, failed
records back after a few seconds, dead-lettered on the 5th receive) while the OpenAI stand-in answers 429
(with Retry-After), 500, too slowly (beyond the client's read timeout; it stores the events anyway, as a
server would, so the retry makes duplicates) and resets connections for a stretch. At the end every
accepted event must be delivered (at least once) or be in the dead-letter queue with its reason.

Run by `make soak` (`pytest -m soak -s`), which prints the figures.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from collections import Counter

import boto3
import pytest

from local.handlers import apply_environment, connector_environment, load_handler
from local.openai_standin import Fault, OpenAIStandin
from local.sqs_poller import EventSourcePoller, FakeLambdaContext
from tests.support.loopback import (
    CONNECTOR_SETTINGS,
    STANDIN_KEY,
    STANDIN_PIXEL,
    call,
    fast_client,
    page_views,
    purchase,
)

pytestmark = pytest.mark.soak

TOTAL_EVENTS = 20_000
EVENTS_PER_CALL = 1_000
#: Every 500th event is invalid at the edge (rejected at ingest, never queued)...
INVALID_EVERY = 500
#: ...and every 4,000th (offset) is one OpenAI refuses: dead-lettered with OpenAI's reason.
OPENAI_REJECTS_EVERY = 4_000
OUTAGE_SECONDS = 24
#: The slow answer takes twice the sender's read timeout (below), so it times out however loaded the machine is.
OUTAGE_PATTERN = (Fault.status(429, retry_after=1), Fault.status(500), Fault.slow(4.0), Fault.reset())
#: The bound on draining the queue: a hang catcher, far above the ~40 s a run takes here, so a machine twice
#: as slow and busy with other work still passes. A passing run never waits for it.
DRAIN_BOUND_SECONDS = 400


def ingest_context() -> FakeLambdaContext:
    """A fresh context per call: one made at import would count down its 29 s while earlier tests run."""
    return FakeLambdaContext(function_name="IngestFunction", timeout_seconds=29)


_prefixes = itertools.count()


@pytest.fixture
def quiet_standin():
    """A stand-in of its own that keeps no request bodies: memory stays flat over 20,000 events."""
    server = OpenAIStandin(api_keys=[STANDIN_KEY], pixel_ids=[STANDIN_PIXEL], record_bodies=False).start()
    yield server
    server.stop()


@contextlib.contextmanager
def connector(template, fast_sqs, moto_server, standin):
    """Queues on the fast SQS, the secret on moto, both handlers loaded with that environment."""
    from local.services import provision

    resources = provision(
        template, fast_sqs.endpoint_url, moto_server.endpoint_url, STANDIN_KEY, name_prefix=f"soak{next(_prefixes)}"
    )
    # 20,000 events: keep the -s output to the figures (metrics are tested in the other suites)
    env = connector_environment(
        resources,
        standin.base_url,
        pixel_id=STANDIN_PIXEL,
        **CONNECTOR_SETTINGS,
        POWERTOOLS_LOG_LEVEL="WARNING",
        POWERTOOLS_METRICS_DISABLED="true",
        EVENT_TRAIL="off",  # its own logger ignores LogLevel; tests/integration/test_trail_local.py covers it
    )
    with pytest.MonkeyPatch.context() as patch:
        apply_environment(patch, env)
        yield resources, load_handler("ingest"), load_handler("batch_sender")


def depth(sqs, queue_url: str) -> int:
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
    return sum(int(attributes.get(name, 0)) for name in names)


def drain_messages(sqs, queue_url: str) -> list[dict]:
    """Every message now on the queue (bodies parsed), removed as it is read."""
    found, empty_polls = [], 0
    while empty_polls < 2:
        got = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"]
        ).get("Messages", [])
        empty_polls = 0 if got else empty_polls + 1
        for message in got:
            reason = message.get("MessageAttributes", {}).get("reason", {}).get("StringValue")
            found.append({"body": json.loads(message["Body"]), "reason": reason})
        if got:
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)],
            )
    return found


def soak_documents() -> tuple[list[list[dict]], set[str]]:
    """TOTAL_EVENTS page views with unique ids, in calls of EVENTS_PER_CALL; returns (calls, ids OpenAI refuses)."""
    calls, refused = [], set()
    for start in range(0, TOTAL_EVENTS, EVENTS_PER_CALL):
        documents = page_views(EVENTS_PER_CALL, start)
        for offset, document in enumerate(documents):
            number = start + offset
            if number % INVALID_EVERY == 7:
                document["data"]["udo"]["tealium_timestamp_epoch"] = "not a time"
                document["post_time"] = "not a time either"
            elif number % OPENAI_REJECTS_EVERY == 123:
                refused.add(document["event_id"])
        calls.append(documents)
    return calls, refused


def test_20000_events_through_an_outage_none_lost(template, fast_sqs, moto_server, quiet_standin):
    standin = quiet_standin
    with connector(template, fast_sqs, moto_server, standin) as (aws, ingest, sender):
        sqs = boto3.client("sqs")
        from connector.adapters.openai_client import OpenAIClient

        sender.service.sender.client = OpenAIClient(
            read_timeout=2.0, backoff_factor=0.05, backoff_max=0.5, max_attempts=3
        )
        calls, refused = soak_documents()
        standin.reject_ids = set(refused)
        started = time.monotonic()

        # GIVEN 20,000 events pushed through the batched action, 1,000 per call
        accepted: set[str] = set()
        rejected_at_edge = 0
        for documents in calls:
            status, answer = call(ingest, "page_view", documents, ingest_context())
            assert status == 202, answer.get("errors")
            for result in answer["results"]:
                if result["status"] == "queued":
                    accepted.add(result["id"])
                else:
                    assert result["status"] == "rejected" and result["errors"][0]["field"] == "timestamp_ms"
                    rejected_at_edge += 1
        pushed_seconds = time.monotonic() - started

        # WHEN OpenAI fails every way it can for OUTAGE_SECONDS, then recovers, while the batch sender runs
        standin.outage(list(OUTAGE_PATTERN), duration_s=OUTAGE_SECONDS)
        poller = EventSourcePoller(
            aws.queue_url,
            sender.lambda_handler,
            batch_size=1000,
            window_seconds=1,
            failure_visibility_timeout=5,
            wait_time_seconds=1,
        )
        deadline = time.monotonic() + DRAIN_BOUND_SECONDS
        while time.monotonic() < deadline:
            # Drained, and past the outage: a fast run can dead-letter everything before the outage ends.
            if poller.poll_once() == 0 and depth(sqs, aws.queue_url) == 0 and not standin.outage_active:
                break
        elapsed = time.monotonic() - started

        # THEN every accepted event was delivered at least once, or is parked in the DLQ with its reason
        delivered = standin.event_ids()
        delivered_unique = set(delivered)
        dead = drain_messages(sqs, aws.dlq_url)
        dead_ids = [m["body"]["event"]["id"] for m in dead]
        dead_reasons = Counter(_reason_kind(m) for m in dead)
        lost = accepted - delivered_unique - set(dead_ids)
        requests = standin.requests
        faults = Counter(r.fault or f"status {r.status}" for r in requests)
        figures = {
            "pushed": TOTAL_EVENTS,
            "accepted": len(accepted),
            "rejected at ingest": rejected_at_edge,
            "delivered (unique)": len(delivered_unique & accepted),
            "delivered (total)": len(delivered),
            "duplicates": len(delivered) - len(delivered_unique),
            "dead-lettered": len(dead_ids),
            "dead-lettered, also delivered": len(set(dead_ids) & delivered_unique),
            "lost": len(lost),
            "requests": len(requests),
            "batches": poller.batches,
            "records handed back": poller.failures,
            "elapsed s": round(elapsed, 1),
            "ingest s": round(pushed_seconds, 1),
        }
        print("\nSOAK (batched, outage then recovery):")
        for name, value in figures.items():
            print(f"  {name:>30}: {value}")
        print(f"  {'requests by answer':>30}: {dict(sorted(faults.items()))}")
        print(f"  {'dead-letter reasons':>30}: {dict(dead_reasons)}")

        assert lost == set(), f"{len(lost)} accepted events neither delivered nor dead-lettered"
        assert len(accepted) + rejected_at_edge == TOTAL_EVENTS
        assert rejected_at_edge == TOTAL_EVENTS // INVALID_EVERY
        assert delivered_unique <= accepted  # nothing invented, nothing rejected at the edge slipped through
        assert refused <= set(dead_ids) and not refused & delivered_unique
        assert all(m["reason"] for m in dead), "every dead-lettered message carries its reason"
        for message in dead:
            if message["body"]["event"]["id"] in refused:
                # OpenAI's reason, unless the outage outlasted its five receives first
                assert message["reason"].startswith(("OpenAI rejected it: ", "gave up after 5 tries"))
        assert depth(sqs, aws.queue_url) == 0, "the queue was not drained within the time bound"
        assert poller.handler_errors == 0
        # the outage really happened, in every form, and the stand-in recovered
        assert {"status", "slow", "reset"} <= set(faults) and not standin.outage_active
        assert any(r.status == 429 for r in requests) and any(r.status == 500 for r in requests)


def _reason_kind(message: dict) -> str:
    reason = message["reason"] or ""
    if reason.startswith("OpenAI rejected it"):
        return "OpenAI rejected it"
    if reason.startswith("gave up after"):
        return "gave up after retries"
    return reason.split(":")[0] or "no reason (SQS redrive)"


def test_realtime_burst_with_openai_down_queues_every_event(template, fast_sqs, moto_server, quiet_standin):
    standin = quiet_standin
    with connector(template, fast_sqs, moto_server, standin) as (aws, ingest, _):
        fast_client(ingest)
        sqs = boto3.client("sqs")
        # GIVEN OpenAI down (resets and 503s) for the whole burst
        standin.outage([Fault.reset(), Fault.status(503), Fault.status(500)], duration_s=600)
        started = time.monotonic()
        # WHEN 200 calls of 10 events each hit the real-time action
        sent_ids = []
        for number in range(200):
            documents = [purchase(f"RT-{number:03d}-{i}") for i in range(10)]
            status, answer = call(ingest, "purchase", documents, ingest_context())
            assert status == 202
            assert {r["status"] for r in answer["results"]} == {"queued"}
            sent_ids += [d["data"]["udo"]["order_id"] for d in documents]
        elapsed = time.monotonic() - started
        # THEN every one of the 2,000 events is on the queue, once, none dropped
        queued = [m["body"]["event"]["id"] for m in drain_messages(sqs, aws.queue_url)]
        print(
            f"\nREAL-TIME BURST (OpenAI down): calls 200, events {len(sent_ids)}, queued {len(queued)}, "
            f"unique {len(set(queued))}, requests {len(standin.requests)}, elapsed s {elapsed:.1f}"
        )
        assert sorted(queued) == sorted(sent_ids)
        assert standin.events == []
