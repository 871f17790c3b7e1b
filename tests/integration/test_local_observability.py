"""The local run as an operator watches it: call summaries, fixed ports, a missing action, a bad actions document."""

from __future__ import annotations

import http.client
import io
import json
import os
import socket
import subprocess
import sys

import pytest

from local import local_connector
from local.demo_output import Console, call_summary, counted
from local.http_front import HttpFront
from tests.support.loopback import STANDIN_KEY
from tests.support.repo import ROOT

pytestmark = pytest.mark.integration

BUNDLED = ROOT / "functions" / "ingest" / "actions.json"


def answer(*results, errors=()) -> bytes:
    return json.dumps({"results": list(results), "errors": list(errors)}).encode()


def result(status, errors=(), warnings=()):
    return {"status": status, "errors": [{"field": f, "reason": "r"} for f in errors], "warnings": list(warnings)}


@pytest.mark.parametrize(
    "status, data, expected",
    [
        (
            200,
            answer(result("sent"), result("sent"), result("rejected", ["data.currency", "user.email"])),
            "  call  POST /actions/purchase  -> HTTP 200: 2 sent, 1 rejected; errors: data.currency, user.email",
        ),
        (
            400,
            answer(result("rejected", ["id"]), result("rejected", ["id"], [{"field": "user.phone", "reason": "r"}])),
            "  call  POST /actions/purchase  -> HTTP 400: 2 rejected; errors: id x2; 1 warning",
        ),
        (
            404,
            answer(errors=[{"field": "action", "reason": "unknown action; configured: lead, page_view"}]),
            "  call  POST /actions/purchase  -> HTTP 404: action: unknown action; configured: lead, page_view",
        ),
        (
            403,
            b'{"message": "Forbidden"}',
            "  call  POST /actions/purchase  -> HTTP 403 Forbidden: the x-api-key header is missing or wrong"
            " (API Gateway's answer; the function never ran)",
        ),
    ],
)
def test_call_summary_is_one_line_of_statuses_and_fields(status, data, expected):
    assert call_summary("POST /actions/purchase", status, data) == expected


def test_repeated_problems_are_counted_not_repeated():
    assert counted(["a", "b", "a", "a"]) == ["a (x3)", "b"]


def test_front_reports_every_call_it_answers():
    calls = []

    def handler(event, context):
        return {"statusCode": 202, "body": json.dumps({"results": [{"status": "queued"}]})}

    with HttpFront(handler, "key-1", on_call=lambda *call: calls.append(call)) as front:
        host, port = front.url.removeprefix("http://").split(":")
        for headers in ({"x-api-key": "key-1"}, {}):
            connection = http.client.HTTPConnection(host, int(port), timeout=5)
            connection.request("POST", "/actions/lead", body=b"{}", headers=headers)
            connection.getresponse().read()
            connection.close()

    assert [(line, status) for line, status, _ in calls] == [("POST /actions/lead", 202), ("POST /actions/lead", 403)]
    assert json.loads(calls[1][2]) == {"message": "Forbidden"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_missing_action_is_named_once_with_the_404_text_and_ports_can_be_fixed(tmp_path, monkeypatch):
    # GIVEN an actions document without the purchase action, and a fixed port for the stand-in
    document = json.loads(BUNDLED.read_text())
    del document["actions"]["purchase"]
    actions = tmp_path / "actions.json"
    actions.write_text(json.dumps(document))
    monkeypatch.setenv("ACTIONS_CONFIG", str(actions))
    port = free_port()
    options = local_connector.Options(window_seconds=1.0, api_key=STANDIN_KEY, standin_port=port)
    out = io.StringIO()
    # WHEN the demo runs
    with local_connector.LocalConnector(options, Console(out)) as connector:
        assert connector.standin.base_url == f"http://127.0.0.1:{port}"
        report = connector.demo()
    # THEN the summary says why, once, with how many calls it hit
    configured = ", ".join(sorted(document["actions"]))
    expected = f"purchase: HTTP 404 without results (action: unknown action; configured: {configured}) (x3)"
    assert expected in report.problems
    assert out.getvalue().count("  - purchase: HTTP 404") == 1


def test_a_bad_actions_document_stops_the_runner_with_its_message_not_a_traceback(tmp_path):
    actions = tmp_path / "actions.json"
    actions.write_text(json.dumps({"actions": {"purchase": {"delivery": "now", "event_type": "order_created"}}}))

    completed = subprocess.run(
        [sys.executable, "-m", "local.runner", "--window", "1"],
        cwd=ROOT,
        env={**os.environ, "ACTIONS_CONFIG": str(actions)},
        capture_output=True,
        text=True,
        timeout=90,
    )

    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert (
        "local runner: the connector cannot start: actions.purchase.delivery: must be one of realtime, batched"
        in completed.stderr
    )
