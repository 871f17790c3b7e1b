"""The local runner end to end (`make demo`), and the HTTP front that plays API Gateway."""

from __future__ import annotations

import http.client
import io
import json
import subprocess
import sys
from urllib.parse import urlencode

import pytest
from connector.core.actions import load_actions
from connector.core.pipeline import prepare_events
from connector.core.settings import DEFAULT_INTEGRATION_SOURCE, Settings
from connector.core.wire.request import request_body

from local import demo_samples, local_connector, runner
from local.demo_output import Console
from local.http_front import MAX_PAYLOAD_BYTES, HttpFront
from tests.support import leak_guard
from tests.support.core import EMAIL_ADA_SHA256, EMAIL_USER_SHA256, EXTERNAL_ID_SHA256, PHONE_RO_SHA256
from tests.support.core import SAMPLE_PURCHASE_DATA as PURCHASE_DATA
from tests.support.loopback import STANDIN_KEY
from tests.support.repo import ROOT

pytestmark = pytest.mark.integration

PAGE_VIEW_ID = json.loads((ROOT / "events" / "tealium" / "pageview-event.json").read_text())["event_id"]
#: The good events of the batched webhook samples (events/tealium/batched-events.json, batched-visitors.json).
BATCHED_DELIVERED = {"ORD-20001", "ORD-20002", "ORD-20004", "ORD-20006", "TRIAL-7801", "TRIAL-7802", "TRIAL-7804"}


@pytest.fixture(scope="module")
def demo():
    out = io.StringIO()
    report = runner.run_demo(window_seconds=1.0, out=out, api_key=STANDIN_KEY)
    return report, out.getvalue()


def by_id(events):
    return {event["id"]: event for event in events}


def expected_event(action, sample, timestamp_ms):
    """What the connector core makes of the same refreshed payload at the same instant."""
    document = demo_samples.sample_document(sample, timestamp_ms)
    settings = Settings.from_env({"PIXEL_ID": local_connector.LOCAL_PIXEL_ID, "API_KEY_SECRET_ID": "local"})
    actions = load_actions(ROOT / "functions" / "ingest" / "actions.json")
    (prepared,) = prepare_events(actions[action], [document], settings, timestamp_ms)
    return prepared


def test_every_sample_reaches_openai_in_its_wire_form(demo):
    report, output = demo
    print(output)  # the suite's leak guard scans captured output too
    assert report.ok, report.problems
    stored = by_id(report.events)
    # GIVEN the real-time purchase, WHEN it reached the stand-in, THEN it is what the core builds, byte for byte
    purchase = stored["ORD-10042"]
    prepared = expected_event("purchase", demo_samples.SAMPLES[0], purchase["timestamp_ms"])
    assert purchase == prepared.event
    (request,) = [r for r in report.requests if "ORD-10042" in {e["id"] for e in r.events}]
    assert request.body == request_body([prepared.encoded], False, DEFAULT_INTEGRATION_SOURCE)
    assert request.query == {"pid": local_connector.LOCAL_PIXEL_ID}
    # ...with the contract's hashes and the e-commerce data in minor units
    assert purchase["type"] == "order_created"
    assert purchase["user"]["emails_sha256"] == [EMAIL_ADA_SHA256]
    assert purchase["user"]["phone_numbers_sha256"] == [PHONE_RO_SHA256]
    assert purchase["user"]["external_ids_sha256"] == [EXTERNAL_ID_SHA256]
    assert purchase["data"] == PURCHASE_DATA
    # the batched and the form-encoded purchases carry the same data under their own ids
    for order_id in ("ORD-10043", "ORD-10044"):
        assert stored[order_id]["data"] == PURCHASE_DATA
        assert stored[order_id]["user"] == purchase["user"]
    # the AudienceStream visitor and the page view went through the queue
    trial = stored["TRIAL-7781"]
    assert (trial["type"], trial["data"]) == ("trial_started", {"type": "plan_enrollment", "plan_id": "pro-annual"})
    assert trial["user"]["emails_sha256"] == [EMAIL_USER_SHA256]
    assert stored[PAGE_VIEW_ID]["type"] == "page_viewed"
    assert set(stored) == {"ORD-10042", "ORD-10043", "ORD-10044", "TRIAL-7781", PAGE_VIEW_ID, *BATCHED_DELIVERED}
    assert (report.sent, report.queued, report.delivered) == (2, 10, 10)


def test_debug_is_validated_not_stored_and_the_broken_event_is_rejected_by_field(demo):
    report, _ = demo
    assert [event["id"] for event in report.validated_events] == ["ORD-10045"]
    (validate_only,) = [r for r in report.requests if r.validate_only]
    assert validate_only.status == 200
    (broken,) = [a for a in report.answers if a.sample.expect == "rejected"]
    assert broken.status_code == 400
    (result,) = broken.results
    assert (result["id"], result["status"]) == ("ORD-10046", "rejected")
    assert result["errors"][0] == {
        "field": "data.currency",
        "reason": 'must be a three-letter ISO 4217 code; read from "_ccurrency"',
    }
    assert "ORD-10046" not in {e["id"] for r in report.requests for e in r.events}
    assert (report.validated, report.rejected) == (1, 4)


def test_the_batched_webhook_samples_get_one_result_per_event_and_only_the_good_ones_reach_openai(demo):
    report, output = demo
    batched = {a.sample.file: a for a in report.answers if a.sample.file.startswith("batched-")}
    events, visitors = batched["batched-events.json"], batched["batched-visitors.json"]
    # GIVEN Tealium's batched bodies of 6 purchases and 4 visitors WHEN posted THEN one result each, in order
    assert events.status_code == visitors.status_code == 202
    assert [(r["index"], r["id"], r["status"]) for r in events.results] == [
        (0, "ORD-20001", "queued"),
        (1, "ORD-20002", "queued"),
        (2, "ORD-20003", "rejected"),
        (3, "ORD-20004", "queued"),
        (4, "ORD-20005", "rejected"),
        (5, "ORD-20006", "queued"),
    ]
    assert [(r["id"], r["status"]) for r in visitors.results] == [
        ("TRIAL-7801", "queued"),
        ("TRIAL-7802", "queued"),
        ("TRIAL-7803", "rejected"),
        ("TRIAL-7804", "queued"),
    ]
    # the broken ones say which field, from which attribute, and never reach OpenAI
    assert [e["field"] for e in events.results[2]["errors"]] == ["data.amount", "data.contents[0].amount"]
    assert events.results[4]["errors"][0]["field"] == "data.currency"
    assert visitors.results[2]["errors"][0]["field"] == "source_url"
    sent_ids = {e["id"] for r in report.requests for e in r.events}
    assert sent_ids >= BATCHED_DELIVERED and not {"ORD-20003", "ORD-20005", "TRIAL-7803"} & sent_ids
    assert "Tealium's batched webhook: 6 purchases in one call" in output


def test_output_tells_the_story_without_personal_data_or_keys(demo):
    _, output = demo
    assert "POST /actions/purchase_debug  (Debug Mode, JSON body)  -> HTTP 200" in output
    assert 'error    data.currency: must be a three-letter ISO 4217 code; read from "_ccurrency"' in output
    assert "BatchSenderFunction invoked with 10 records: 10 delivered or dead-lettered, 0 handed back" in output
    assert "validate_only=true  1 event" in output
    assert "deployed: 300 s" in output
    assert "everything arrived as expected" in output
    assert EMAIL_ADA_SHA256 in output  # hashes are shown as they are
    assert leak_guard.find(output) == []  # raw email, phone, customer id, oppref, the stand-in's key
    assert "203.0.113.42" not in output


def test_make_demo_exits_0_and_prints_the_summary():
    completed = subprocess.run(
        [sys.executable, "-m", "local.runner", "--window", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,  # a hang catcher: the demo takes seconds
    )
    output = completed.stdout + completed.stderr
    print(output)
    assert completed.returncode == 0, output
    assert "Summary: 2 sent in real time, 10 queued, 10 of 10 delivered by the batch sender" in output
    assert "ORD-10046  rejected" in output
    assert "batch 10/1000 events" in output  # not a TTY: plain progress lines
    assert "\r" not in output
    assert leak_guard.find(output) == []
    assert "sk-local-" not in output  # the generated stand-in key


# --------------------------------------------------------------------------- the HTTP front


@pytest.fixture
def front():
    seen = []

    def handler(event, context):
        seen.append(event)
        return {
            "statusCode": 202,
            "body": json.dumps({"ok": True}),
            "isBase64Encoded": False,
            "multiValueHeaders": {"Content-Type": ["application/json"]},
        }

    with HttpFront(handler, "key-1") as server:
        server.seen = seen
        yield server


def post(front, path, body=b"", headers=None):
    host, port = front.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("POST", path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_front_turns_requests_into_proxy_events(front):
    form = urlencode({"data": '{"a": 1}'})
    headers = {"x-api-key": "key-1", "Content-Type": "application/x-www-form-urlencoded"}
    assert post(front, "/actions/lead?debug=1", form, headers) == (202, {"ok": True})
    (event,) = front.seen
    assert event["pathParameters"] == {"action": "lead"}
    assert event["body"] == form and event["isBase64Encoded"] is False
    assert event["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert event["queryStringParameters"] == {"debug": "1"}
    assert post(front, "/v1/actions/lead", b"\xff\xfe", {"x-api-key": "key-1"})[0] == 202
    assert front.seen[1]["isBase64Encoded"] is True


@pytest.mark.parametrize(
    "path, headers, expected",
    [
        ("/actions/purchase", {}, (403, {"message": "Forbidden"})),
        ("/actions/purchase", {"x-api-key": "wrong"}, (403, {"message": "Forbidden"})),
        ("/other", {"x-api-key": "key-1"}, (404, {"message": "Not Found"})),
        ("/actions/a/b", {"x-api-key": "key-1"}, (404, {"message": "Not Found"})),
    ],
)
def test_front_refuses_like_api_gateway(front, path, headers, expected):
    assert post(front, path, b"{}", headers) == expected
    assert front.seen == []


def test_front_refuses_payloads_above_10_mb_unread(front):
    host, port = front.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("POST", "/actions/purchase")
    connection.putheader("x-api-key", "key-1")
    connection.putheader("Content-Length", str(MAX_PAYLOAD_BYTES + 1))
    connection.endheaders()  # the body is never sent: the front answers from the length alone
    response = connection.getresponse()
    assert (response.status, json.loads(response.read())) == (413, {"message": "Request Too Long"})
    connection.close()
    assert front.seen == []


def test_console_rewrites_the_progress_line_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out = Terminal()
    console = Console(out)
    console.status("batch 1/1000", key=1)
    console.line("an answer")
    console.status("batch 2/1000", key=2)
    console.keep_status()
    assert out.getvalue() == "\r\x1b[Kbatch 1/1000\r\x1b[Kan answer\nbatch 1/1000\r\x1b[Kbatch 2/1000\n"
