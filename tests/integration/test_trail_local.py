"""The event trail through the local stack (`make serve`): four journeys, each followed with `trace`.

A purchase sent in real time, a batched page view, a purchase OpenAI rejected that is redriven once
fixed, and a purchase dead-lettered because it aged out of OpenAI's window while queued. The trail
lines are read from the local runner's log; none may hold a raw identifier, IP, user agent or oppref.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from connector import cli

from local.demo_output import Console
from local.demo_samples import EVENTS, SAMPLES, Sample, request_body, sample_document
from local.local_connector import LocalConnector, Options
from tests.support.loopback import STANDIN_KEY

pytestmark = pytest.mark.integration

PURCHASE_ID = "ORD-10042"  # SAMPLES[0]: the real-time purchase
PAGE_VIEW = SAMPLES[4]
PAGE_VIEW_ID = json.loads((EVENTS / PAGE_VIEW.file).read_text(encoding="utf-8"))["event_id"]
REJECTED_ID = "ORD-20001"
AGED_ID = "ORD-20002"
#: Seconds the batch sender's clock runs ahead for the aged event: past OpenAI's 7-day window.
AGE_SECONDS = 8 * 86400
WAIT_SECONDS = 60.0
#: Every key a trail line may hold: Powertools' own, the Lambda context's, and the trail record's.
TRAIL_LINE_KEYS = {
    *("level", "location", "message", "timestamp", "service", "cold_start", "function_name"),
    *("function_memory_size", "function_arn", "function_request_id", "correlation_id", "xray_trace_id"),
    *("step", "outcome", "action", "event_id", "event_type", "strong_key", "reason_field", "reason"),
    *("http_status", "openai_request_id"),
    *("has_oppref", "has_obref", "has_email", "has_phone", "has_external_id", "has_names", "has_ip_ua"),
    "has_android_id",
}


def trail(log_file: Path) -> list[dict]:
    lines = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("message") == "event_trail"]


def steps(log_file: Path, event_id: str) -> list[tuple[str, str]]:
    return [(line["step"], line["outcome"]) for line in trail(log_file) if line.get("event_id") == event_id]


def wait_for(log_file: Path, event_id: str, step: str, outcome: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while (step, outcome) not in steps(log_file, event_id):
        assert time.monotonic() < deadline, f"{event_id}: no {step} {outcome} line: {steps(log_file, event_id)}"
        time.sleep(0.1)


def post(stack: LocalConnector, sample: Sample, now_ms: int) -> tuple[dict, dict]:
    document = sample_document(sample, now_ms)
    status, answer = stack.post(sample.action, *request_body(sample, document))
    assert status in (200, 202), answer
    return document, answer


def command(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main(list(argv), out)
    return code, out.getvalue()


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    log_file = tmp_path_factory.mktemp("trail") / "functions.log"
    options = Options(window_seconds=1.0, api_key=STANDIN_KEY, quiet=True, log_file=log_file)
    documents = []
    with LocalConnector(options, Console(io.StringIO())) as stack, pytest.MonkeyPatch.context() as patch:
        assert stack.standin is not None
        now_ms = round(time.time() * 1000)
        # GIVEN a real-time purchase, a batched page view, and a batched purchase OpenAI will refuse
        for sample in (SAMPLES[0], PAGE_VIEW, Sample("purchase_batched", "purchase-event.json", "", REJECTED_ID)):
            documents.append(post(stack, sample, now_ms)[0])
        stack.standin.reject_ids.add(REJECTED_ID)
        stack.start_batch_sender()
        wait_for(log_file, REJECTED_ID, "batch", "dead_lettered")
        wait_for(log_file, PAGE_VIEW_ID, "batch", "sent")

        # AND a purchase still queued when its timestamp leaves OpenAI's window (the sender's clock runs ahead)
        sender = stack.batch_app.service
        real_clock = sender.clock
        sender.clock = lambda: time.time() + AGE_SECONDS
        try:
            documents.append(post(stack, Sample("purchase_batched", "purchase-event.json", "", AGED_ID), now_ms)[0])
            wait_for(log_file, AGED_ID, "batch", "dead_lettered")
        finally:
            sender.clock = real_clock

        # WHEN the cause of the rejection is fixed and the operator redrives what OpenAI rejected
        stack.standin.reject_ids.clear()
        patch.setenv("CONNECTOR_LOG_FILE", str(log_file))
        resources = stack.resources
        redrive = command("redrive", "--from", resources.dlq_url, "--to", resources.queue_url, "--reason", "rejected")
        wait_for(log_file, REJECTED_ID, "batch", "sent")
        patch.delenv("CONNECTOR_LOG_FILE")
        requests = stack.recorded_requests()
    traces = {
        event_id: command("trace", event_id, "--log-file", str(log_file))
        for event_id in (PURCHASE_ID, PAGE_VIEW_ID, REJECTED_ID, AGED_ID, "ORD-NEVER-SENT")
    }
    return {"log": log_file, "documents": documents, "requests": requests, "traces": traces, "redrive": redrive}


def line_of(story, event_id: str, step: str, outcome: str) -> dict:
    (line,) = [
        line
        for line in trail(story["log"])
        if (line.get("event_id"), line["step"], line["outcome"]) == (event_id, step, outcome)
    ]
    return line


def trace_lines(story, event_id: str) -> tuple[int, list[str]]:
    code, text = story["traces"][event_id]
    return code, text.splitlines()


def test_a_real_time_purchase_is_received_then_sent_with_openais_status_and_request_id(story):
    assert steps(story["log"], PURCHASE_ID) == [("ingest", "received"), ("ingest", "sent")]
    sent = line_of(story, PURCHASE_ID, "ingest", "sent")
    (request,) = [r for r in story["requests"] if PURCHASE_ID in [e["id"] for e in r.events]]
    assert sent["http_status"] == 200
    assert sent["openai_request_id"] == request.request_id
    assert sent["action"] == "purchase" and sent["event_type"] == "order_created"
    assert sent["function_request_id"]  # the Lambda request id, from the function's context
    # The sample carries every key but an Android advertising id.
    keys = {name: sent[f"has_{name}"] for name in ("oppref", "obref", "email", "phone", "external_id", "names")}
    assert keys == dict.fromkeys(keys, True)
    assert sent["has_ip_ua"] is True and sent["has_android_id"] is False and sent["strong_key"] is True

    code, lines = trace_lines(story, PURCHASE_ID)
    assert code == 0
    assert [line.split()[2:4] for line in lines[1:3]] == [["ingest", "received"], ["ingest", "sent"]]
    assert f"OpenAI request {request.request_id}" in lines[2]
    assert lines[-1] == f"now: at OpenAI (HTTP 200, OpenAI request {request.request_id})"


def test_a_batched_page_view_is_queued_then_sent_by_the_batch_sender(story):
    page_view_id = PAGE_VIEW_ID
    assert steps(story["log"], page_view_id) == [("ingest", "received"), ("ingest", "queued"), ("batch", "sent")]
    sent = line_of(story, page_view_id, "batch", "sent")
    assert sent["action"] == "page_view" and sent["event_type"] == "page_viewed" and sent["http_status"] == 200
    # page_view maps the visitor id as external id; Tealium's IP and user agent are automapped.
    assert (sent["has_external_id"], sent["has_ip_ua"], sent["strong_key"]) == (True, True, True)
    assert (sent["has_email"], sent["has_phone"], sent["has_oppref"], sent["has_names"]) == (False,) * 4

    code, lines = trace_lines(story, page_view_id)
    assert code == 0
    assert [line.split()[2:4] for line in lines[1:-1]] == [
        ["ingest", "received"],
        ["ingest", "queued"],
        ["batch", "sent"],
    ]
    assert lines[-1].startswith("now: at OpenAI (HTTP 200, OpenAI request req_")


def test_an_event_openai_rejected_is_dead_lettered_then_redriven_and_sent(story):
    assert steps(story["log"], REJECTED_ID) == [
        ("ingest", "received"),
        ("ingest", "queued"),
        ("batch", "dead_lettered"),
        ("redrive", "moved"),
        ("batch", "sent"),
    ]
    parked = line_of(story, REJECTED_ID, "batch", "dead_lettered")
    assert parked["reason"].startswith("OpenAI rejected it: ") and parked["reason_field"] == "event"
    moved = line_of(story, REJECTED_ID, "redrive", "moved")
    assert moved["action"] == "purchase_batched" and moved["reason"] == parked["reason"]
    assert story["redrive"][0] == 0, story["redrive"][1]

    code, lines = trace_lines(story, REJECTED_ID)
    assert code == 0
    assert [line.split()[2:4] for line in lines[1:-1]] == [
        ["ingest", "received"],
        ["ingest", "queued"],
        ["batch", "dead_lettered"],
        ["redrive", "moved"],
        ["batch", "sent"],
    ]
    assert "OpenAI rejected it: " in lines[3]
    assert lines[-1].startswith("now: at OpenAI (HTTP 200")


def test_an_event_that_aged_out_while_queued_is_dead_lettered_with_its_reason(story):
    assert steps(story["log"], AGED_ID) == [("ingest", "received"), ("ingest", "queued"), ("batch", "dead_lettered")]
    parked = line_of(story, AGED_ID, "batch", "dead_lettered")
    assert parked["reason_field"] == "timestamp_ms" and parked["reason"].endswith("at send time")

    code, lines = trace_lines(story, AGED_ID)
    assert code == 0
    assert lines[-1] == f"now: dead-lettered: {parked['reason']}"


def test_an_id_that_never_arrived_is_not_found(story):
    code, lines = trace_lines(story, "ORD-NEVER-SENT")
    assert code == 1
    assert lines == ["ORD-NEVER-SENT: never arrived: no trail line names this id in the last 24h"]


def test_no_trail_line_holds_a_raw_identifier_ip_user_agent_or_oppref(story):
    raw_values = set()
    for document in story["documents"]:
        udo = document["data"]["udo"]
        raw_values |= {document["client_ip"], document["useragent"], document["visitor_id"]}
        for name in ("customer_email", "customer_phone", "customer_id", "customer_first_name", "customer_last_name"):
            if name in udo:
                raw_values |= {udo[name].strip(), udo[name].strip().lower()}
        raw_values |= {udo[name] for name in ("oppref", "cp.__obref") if name in udo}
    assert {"opp_4f2b9c7e1a", "203.0.113.42", "CUST-00042"} <= raw_values  # the inputs hold what we look for

    lines = trail(story["log"])
    assert len(lines) == 2 + 3 + 5 + 3  # the four journeys
    for line in lines:
        assert set(line) <= TRAIL_LINE_KEYS, set(line) - TRAIL_LINE_KEYS
        text = json.dumps(line, ensure_ascii=False)
        escaped = json.dumps(line)
        leaked = [value for value in raw_values if value in text or json.dumps(value)[1:-1] in escaped]
        assert not leaked, (line["event_id"], line["step"], line["outcome"], leaked)
    # Nor does any other line the functions logged beside the trail.
    whole_log = story["log"].read_text(encoding="utf-8")
    assert not [value for value in raw_values if value in whole_log or json.dumps(value)[1:-1] in whole_log]


def test_report_prints_match_quality_per_action_from_the_same_log(story):
    code, text = command("report", "--log-file", str(story["log"]))
    assert code == 0
    tables = text.split("\n\n")
    match_table = next(table for table in tables if table.startswith("Match keys"))
    rows = {line.split()[0]: line.split()[1:] for line in match_table.splitlines()[2:]}
    # purchase: one real-time event; all keys but android id. page_view: external id and IP + user agent only.
    assert rows["purchase"] == ["1", "100%", "100%", "100%", "100%", "100%", "100%", "100%", "0%"]
    assert rows["page_view"] == ["1", "0%", "0%", "0%", "0%", "100%", "0%", "100%", "0%"]
    assert rows["purchase_batched"][0] == "1"  # the redriven one; the aged one never went
    rejections = next(table for table in tables if table.startswith("Rejected"))
    assert sorted(line.split() for line in rejections.splitlines()[2:]) == [
        ["purchase_batched", "batch", "event", "1"],
        ["purchase_batched", "batch", "timestamp_ms", "1"],
    ]
