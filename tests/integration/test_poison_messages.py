"""One bad input never costs another event: the batch sender and ingest under hostile JSON.

The batch sender's handler (functions/batch_sender/app.py, moto's SQS for the dead-letter queue, the strict
OpenAI stand-in) gets batches that mix valid queue messages with poison: any JSON shape, malformed JSON,
wrong types anywhere, lone surrogates, nesting to 20,000 levels, numbers beyond the float range, wrong
versions, unknown actions, a field OpenAI no longer takes. The handler never raises and retries nothing;
every valid message is sent exactly once; every other one is dead-lettered with a non-empty reason.
The same fragments inside Tealium payloads never make ingest answer a 5xx.
"""

from __future__ import annotations

import json
import time

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.handlers import apply_environment, connector_environment, load_handler
from local.sqs_poller import FakeLambdaContext
from tests.support.hostile import any_json_text, any_json_values, hostile_values, poison_values
from tests.support.loopback import CONNECTOR_SETTINGS, STANDIN_KEY, STANDIN_PIXEL, fast_client, loaded_ingest, purchase

pytestmark = pytest.mark.integration

#: Modest: each example is a handler call with real HTTP and SQS on loopback (two shared cores).
POISON = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
SLOT = "__SLOT__"


# ---- queue messages ----------------------------------------------------------------------------


def page_view(event_id: str, now_ms: int) -> dict:
    return {
        "id": event_id,
        "type": "page_viewed",
        "timestamp_ms": now_ms,
        "source_url": "https://shop.example.com/",
        "action_source": "web",
        "data": {"type": "contents"},
    }


def signup(event_id: str, now_ms: int, note: object = "weekly") -> dict:
    """A custom event as the newsletter_signup action queues it: custom properties travel as they came."""
    return {
        "id": event_id,
        "type": "custom",
        "custom_event_name": "newsletter_signup",
        "timestamp_ms": now_ms,
        "source_url": "https://shop.example.com/",
        "action_source": "web",
        "data": {"type": "custom", "list_name": note},
    }


def message(event: dict, action: str = "page_view", **extra: object) -> str:
    return json.dumps({"v": 2, "action": action, "event": event, **extra}, separators=(",", ":"))


def with_fragment(text: str, fragment: str) -> str:
    """`text` with the JSON string "__SLOT__" replaced by a fragment of JSON text."""
    return text.replace(json.dumps(SLOT), fragment, 1)


def good_message(event_id: str, now_ms: int, custom: bool) -> str:
    return message(signup(event_id, now_ms), "newsletter_signup") if custom else message(page_view(event_id, now_ms))


@st.composite
def poison_message(draw, event_id: str, now_ms: int) -> str:
    """A queue message body that can never be sent, in one of many ways."""
    kind = draw(
        st.sampled_from(
            [
                "any json",
                "malformed",
                "wrong type",
                "poison in a custom property",
                "poison in a field",
                "wrong version",
                "unknown action",
                "retired field",
                "extra key",
                "raw surrogate",
            ]
        )
    )
    event = page_view(event_id, now_ms)
    if kind == "any json":  # never a message: no "event" key, or not an object at all
        return draw(any_json_text().filter(lambda text: not isinstance(json.loads(text), dict) or "v" not in text))
    if kind == "malformed":  # a valid message cut short: an object that never closes
        whole = message(event)
        return whole[: draw(st.integers(0, len(whole) - 1))]
    if kind == "wrong type":  # a container where the contract wants text, a number or an object
        name = draw(st.sampled_from(["type", "id", "timestamp_ms", "action_source", "source_url", "data"]))
        wrong = any_json_values.filter(lambda v: isinstance(v, list) or (isinstance(v, dict) and name != "data"))
        event[name] = SLOT
        return with_fragment(message(event), json.dumps(draw(wrong)))
    if kind == "poison in a custom property":
        return with_fragment(message(signup(event_id, now_ms, SLOT), "newsletter_signup"), draw(poison_values))
    if kind == "poison in a field":
        event[draw(st.sampled_from(["id", "source_url", "timestamp_ms"]))] = SLOT
        return with_fragment(message(event), draw(poison_values))
    if kind == "wrong version":
        version = draw(st.sampled_from([1, 3, "2", True, 2.0, None, 0, [2]]))
        return json.dumps({"v": version, "action": "page_view", "event": event})
    if kind == "unknown action":
        return message(event, draw(st.sampled_from(["no_such_action", "", "PAGE_VIEW", "page_view "])))
    if kind == "retired field":  # hashed geo, which OpenAI no longer takes, or a field it never took
        retired = {"user": {"country_sha256": ["79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621"]}}
        return message(event | draw(st.sampled_from([retired, {"event_source_url": "https://shop.example.com/"}])))
    if kind == "extra key":  # a forged route: refused whole
        return message(event, route={"base_url": "https://attacker.example", "pixel_id": "px_attacker"})
    # "raw surrogate": a real lone surrogate in the body, as a decoded "\udc80" escape would give
    return message(signup(event_id, now_ms, SLOT), "newsletter_signup").replace(json.dumps(SLOT), '"a\udc80b"')


@pytest.fixture(scope="module")
def batch_sender(template, moto_server, standin_server):
    """BatchSenderFunction imported once, its queues and secret on moto, the stand-in behind it."""
    from local.services import provision

    resources = provision(
        template, moto_server.endpoint_url, moto_server.endpoint_url, STANDIN_KEY, name_prefix="poison"
    )
    with pytest.MonkeyPatch.context() as patch:
        env = connector_environment(resources, standin_server.base_url, pixel_id=STANDIN_PIXEL, **CONNECTOR_SETTINGS)
        apply_environment(patch, env)
        handler = load_handler("batch_sender")
        fast_client(handler)
        yield handler, resources


def sqs_event(bodies: list[str], queue_arn: str) -> dict:
    records = [
        {
            "messageId": f"m-{n}",
            "receiptHandle": f"r-{n}",
            "body": body,
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": "us-east-1",
        }
        for n, body in enumerate(bodies)
    ]
    return {"Records": records}


def take_dead_letters(queue_url: str) -> list[tuple[str, str]]:
    """(body, reason attribute) of every dead letter, removed from the queue."""
    sqs = boto3.client("sqs")
    found = []
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        messages = got.get("Messages", [])
        if not messages:
            return found
        for received in messages:
            reason = received.get("MessageAttributes", {}).get("reason", {}).get("StringValue", "")
            found.append((received["Body"], reason))
        entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)]
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)


@POISON
@given(data=st.data(), goods=st.integers(0, 6), poisons=st.integers(1, 6))
def test_poison_messages_are_dead_lettered_and_every_valid_one_is_sent_once(
    batch_sender, standin_server, data, goods, poisons
):
    handler, resources = batch_sender
    standin_server.reset()
    standin_server.api_keys = {STANDIN_KEY}
    now_ms = round(time.time() * 1000)  # read when the example runs: the sender checks the 7-day window
    # GIVEN a batch mixing valid messages (page views and custom events) with poison, in any order
    good = {f"good-{n}": good_message(f"good-{n}", now_ms, custom=n % 2 == 1) for n in range(goods)}
    bad = [data.draw(poison_message(f"bad-{n}", now_ms), label=f"poison {n}") for n in range(poisons)]
    bodies = data.draw(st.permutations([*good.values(), *bad]), label="order")
    # WHEN the batch sender's handler takes it
    answer = handler.lambda_handler(sqs_event(bodies, resources.queue_arn), FakeLambdaContext(timeout_seconds=120))
    # THEN nothing is handed back for a retry, every valid event reached OpenAI once, and nothing else did
    assert answer == {"batchItemFailures": []}
    assert sorted(standin_server.event_ids()) == sorted(good)
    # AND every poison message sits in the dead-letter queue with its reason
    dead = take_dead_letters(resources.dlq_url)
    assert len(dead) == poisons, [reason for _, reason in dead]
    assert all(reason.strip() for _, reason in dead), dead
    assert not any('"good-' in body for body, _ in dead)


def test_a_message_nested_20000_levels_deep_costs_only_itself(batch_sender, standin_server):
    handler, resources = batch_sender
    standin_server.reset()
    standin_server.api_keys = {STANDIN_KEY}
    now_ms = round(time.time() * 1000)
    deep_custom = with_fragment(message(signup("deep", now_ms, SLOT), "newsletter_signup"), "[" * 20_000 + "]" * 20_000)
    deep_body = "[" * 20_000 + "]" * 20_000
    bodies = [good_message("g1", now_ms, False), deep_custom, deep_body, good_message("g2", now_ms, True)]
    answer = handler.lambda_handler(sqs_event(bodies, resources.queue_arn), FakeLambdaContext(timeout_seconds=120))
    assert answer == {"batchItemFailures": []}
    assert sorted(standin_server.event_ids()) == ["g1", "g2"]
    reasons = sorted(reason for _, reason in take_dead_letters(resources.dlq_url))
    assert reasons == ["message: is nested too deeply to be read"] * 2


def test_shallower_poison_is_dead_lettered_with_the_field_named(batch_sender, standin_server):
    handler, resources = batch_sender
    standin_server.reset()
    standin_server.api_keys = {STANDIN_KEY}
    now_ms = round(time.time() * 1000)
    custom = message(signup("x", now_ms, SLOT), "newsletter_signup")
    bodies = [
        with_fragment(custom, "[" * 5_000 + "]" * 5_000),
        with_fragment(custom, "2" + "0" * 400),
        with_fragment(custom, '"a\\udc80"'),
        with_fragment(message(page_view("t", now_ms) | {"type": SLOT}), "[]"),
        message(page_view("v", now_ms)).replace('"v":2', '"v":2.0'),
    ]
    answer = handler.lambda_handler(sqs_event(bodies, resources.queue_arn), FakeLambdaContext(timeout_seconds=120))
    assert answer == {"batchItemFailures": []}
    assert standin_server.event_ids() == []
    assert sorted(reason for _, reason in take_dead_letters(resources.dlq_url)) == sorted(
        [
            "not a valid OpenAI event: data.list_name: is nested more than 32 levels deep",
            "not a valid OpenAI event: data.list_name: holds a number beyond the range of a 64-bit float"
            " (not interoperable JSON)",
            "data.list_name: is not valid Unicode text: it holds an unpaired surrogate escape (\\ud800-\\udfff)",
            "not a valid OpenAI event: type: must be a standard event name or custom",
            "message.v: unknown message version; this sender reads version 2 only",
        ]
    )


# ---- ingest ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ingest(template, moto_server, standin_server):
    with loaded_ingest(template, moto_server, standin_server, "poison-ingest") as (handler, _):
        yield handler


def tealium_signup(event_id: str, list_name: object = "weekly", other: object = "x") -> dict:
    """A Tealium event for the real-time newsletter_signup action: `newsletter_list` becomes data.list_name."""
    document = purchase(event_id, newsletter_list=list_name, loyalty_note=other)
    document["event_id"] = event_id
    return document


@POISON
@given(data=st.data(), goods=st.integers(0, 4), poisons=st.integers(1, 4))
def test_hostile_payloads_never_make_ingest_answer_a_5xx(ingest, standin_server, data, goods, poisons):
    from local.apigw import proxy_event

    standin_server.reset()
    standin_server.api_keys = {STANDIN_KEY}
    # GIVEN good sign-ups and events whose mapped custom property, or an attribute nobody maps, is hostile
    events = [json.dumps(tealium_signup(f"good-{n}")) for n in range(goods)]
    for n in range(poisons):
        mapped = data.draw(st.booleans(), label=f"mapped {n}")
        text = json.dumps(tealium_signup(f"bad-{n}", SLOT, "x") if mapped else tealium_signup(f"bad-{n}", "w", SLOT))
        events.append(with_fragment(text, data.draw(hostile_values, label=f"value {n}")))
    body = "[" + ",".join(data.draw(st.permutations(events), label="order")) + "]"
    # WHEN they are posted in one call
    response = ingest.lambda_handler(
        proxy_event("newsletter_signup", body), FakeLambdaContext(function_name="IngestFunction", timeout_seconds=29)
    )
    # THEN the answer is never a 5xx; when the body could be read, every good event went
    assert response["statusCode"] < 500, response["body"][:300]
    answer = json.loads(response["body"])
    if answer["results"]:
        went = {r["id"] for r in answer["results"] if r["status"] == "sent"}
        assert {f"good-{n}" for n in range(goods)} <= went
        for result in answer["results"]:
            assert result["status"] != "rejected" or all(e["field"] and e["reason"] for e in result["errors"])
    else:
        assert response["statusCode"] == 400 and answer["errors"][0]["field"] == "body"


@pytest.mark.parametrize(
    "fragment, field",
    [
        ("[" * 5_000 + '"x"' + "]" * 5_000, "data.list_name"),
        ("2" + "0" * 400, "data.list_name"),
        ('"weekly\\ud800"', "data.list_name"),
    ],
)
def test_one_events_poison_rejects_that_event_alone(ingest, standin_server, fragment, field):
    from local.apigw import proxy_event

    standin_server.reset()
    standin_server.api_keys = {STANDIN_KEY}
    body = (
        "["
        + ",".join(
            [json.dumps(tealium_signup("ok-1")), with_fragment(json.dumps(tealium_signup("bad", SLOT)), fragment)]
        )
        + "]"
    )
    response = ingest.lambda_handler(
        proxy_event("newsletter_signup", body), FakeLambdaContext(function_name="IngestFunction", timeout_seconds=29)
    )
    answer = json.loads(response["body"])
    assert response["statusCode"] == 200
    assert [r["status"] for r in answer["results"]] == ["sent", "rejected"]
    [error] = answer["results"][1]["errors"]
    assert error["field"] == field and '"newsletter_list"' in error["reason"]
    assert standin_server.event_ids() == ["ok-1"]


def test_a_lone_surrogate_in_a_queued_id_is_dead_lettered_and_its_trail_line_written(
    batch_sender, standin_server, capsys, caplog
):
    handler, resources = batch_sender
    standin_server.reset()
    standin_server.api_keys = {STANDIN_KEY}
    now_ms = round(time.time() * 1000)
    bodies = [message(page_view("bad-\udc80", now_ms)), good_message("g3", now_ms, False)]
    answer = handler.lambda_handler(sqs_event(bodies, resources.queue_arn), FakeLambdaContext(timeout_seconds=120))
    assert answer == {"batchItemFailures": []}
    assert standin_server.event_ids() == ["g3"]
    [(_, reason)] = take_dead_letters(resources.dlq_url)
    assert reason.startswith("id: is not valid Unicode text")
    # AND its trail line names the id with the surrogate escaped: a raw one would make the line unwritable
    assert [r.event_id for r in caplog.records if getattr(r, "outcome", None) == "dead_lettered"] == ["bad-\\udc80"]
    assert "Logging error" not in capsys.readouterr().err
