"""`python -m connector`: check, try and redrive, as an operator runs them."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from urllib.parse import quote

import pytest
from connector import cli
from connector.core.actions_change import document_digest

from local.apigw import proxy_event
from tests.support.loopback import STANDIN_PIXEL
from tests.support.repo import ROOT, fresh, load_event

BUNDLED = ROOT / "functions" / "ingest" / "actions.json"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main(list(argv), out=out)
    return code, out.getvalue()


def write(tmp_path, name: str, content: object) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


# ---- check --------------------------------------------------------------------------------------------


def test_check_passes_the_bundled_document_and_lists_its_actions():
    code, out = run("check", str(BUNDLED))

    assert code == 0
    assert f"7 actions, no problems (digest {document_digest(BUNDLED.read_text())})" in out
    assert "  purchase_debug: realtime, order_created, Debug Mode (validate_only)" in out


def test_check_names_an_unknown_consent_category_and_a_bad_kept_parameter(tmp_path):
    entry = {
        "delivery": "realtime",
        "event_type": "order_created",
        "consent_attribute": "cp.CONSENTMGR",
        "consent_categories": ["display_ads", "analytcs"],
        "keep_query_parameters": ["utm_source", ""],
    }
    code, out = run("check", write(tmp_path, "actions.json", {"actions": {"purchase": entry}}))
    assert code == 1
    problems = [line.strip() for line in out.splitlines()[1:]]
    assert problems[0].startswith(
        'actions.purchase.consent_categories: unknown category "analytcs"; did you mean "analytics"?'
    )
    assert problems[1].startswith("actions.purchase.keep_query_parameters: must be a list of query parameter names")
    assert len(problems) == 2


def test_check_lists_every_problem_with_did_you_mean(tmp_path):
    # GIVEN a document with typos in several actions and fields
    path = write(
        tmp_path,
        "actions.json",
        {
            "actions": {
                "purchase": {
                    "delivery": "realtme",
                    "event_type": "order_create",
                    "mapings": {},
                    "debug": "yes",
                    "mappings": {"emial": "customer_email", "phone": 3},
                },
                "lead": {"delivery": "batched", "event_type": "custom"},
                "ok": {"delivery": "batched", "event_type": "page_viewed"},
            }
        },
    )
    # WHEN it is checked
    code, out = run("check", path)
    # THEN every problem is listed, each naming the action and field, near misses with a suggestion
    assert code == 1
    lines = out.splitlines()
    assert lines[0].endswith("actions.json: 7 problems")
    problems = [line.strip() for line in lines[1:]]
    assert len(problems) == 7
    assert problems[0].startswith('actions.purchase.mapings: unknown key; did you mean "mappings"? (allowed:')
    assert 'actions.purchase.delivery: must be one of realtime, batched; did you mean "realtime"?' in problems
    assert any(
        p.startswith("actions.purchase.event_type:") and p.endswith('did you mean "order_created"?') for p in problems
    )
    assert "actions.purchase.debug: must be true or false" in problems
    assert any(p.startswith('actions.purchase.mappings.emial: unknown field; did you mean "email"?') for p in problems)
    assert "actions.purchase.mappings.phone: must name a Tealium attribute or a dotted path" in problems
    assert "actions.lead.custom_event_name: is required when event_type is custom" in problems
    assert not any(p.startswith("actions.ok") for p in problems)


def test_check_says_nothing_to_suggest_for_a_far_miss(tmp_path):
    path = write(
        tmp_path,
        "actions.json",
        {"actions": {"a": {"delivery": "batched", "event_type": "page_viewed", "colour": "red"}}},
    )

    code, out = run("check", path)

    assert code == 1
    assert "actions.a.colour: unknown key (allowed:" in out
    assert "did you mean" not in out


@pytest.mark.parametrize(
    "content, expected",
    [
        ("{not json", "actions document: not valid JSON"),
        ({"actions": {}, "version": 2}, "actions document: version: unknown key"),
        ({"action": {}}, 'actions document: action: unknown key; did you mean "actions"?'),
    ],
)
def test_check_reports_a_bad_document_shape(tmp_path, content, expected):
    code, out = run("check", write(tmp_path, "actions.json", content))

    assert code == 1
    assert expected in out


def test_check_of_a_missing_file_exits_2_without_a_traceback(tmp_path):
    # The real command line, as an operator runs it: no traceback, the file named.
    result = subprocess.run(
        [sys.executable, "-m", "connector", "check", str(tmp_path / "nope.json")],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "layers" / "connector")},
        timeout=60,
    )

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"check: cannot read {tmp_path / 'nope.json'}: No such file or directory" in result.stderr


def test_help_describes_each_command():
    for command in ("check", "try", "redrive"):
        with pytest.raises(SystemExit) as done:
            cli.main([command, "--help"], out=io.StringIO())
        assert done.value.code == 0


# ---- try ------------------------------------------------------------------------------------------------


@pytest.fixture
def try_env(monkeypatch):
    monkeypatch.setenv("PIXEL_ID", STANDIN_PIXEL)
    monkeypatch.delenv("ACTIONS_CONFIG", raising=False)
    monkeypatch.delenv("BASE_URL", raising=False)


def events_printed(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("  {")]


def test_try_prints_the_exact_event_openai_receives(tmp_path, try_env, ingest_app, standin, lambda_context):
    # GIVEN a Tealium purchase event, as the webhook posts it
    document = fresh(load_event("tealium/purchase-event.json"))
    path = write(tmp_path, "payload.json", document)
    # WHEN it is tried offline, unmasked
    code, out = run("try", "purchase", path, "--unmasked")
    # THEN the printed line is byte for byte the event the ingest function sends to OpenAI
    assert code == 0
    assert f"/v1/events?pid={STANDIN_PIXEL} with validate_only=false (nothing is sent)" in out
    assert "event 0  id ORD-10042  would be sent" in out
    printed = [line[2:] for line in out.splitlines() if line.startswith("  {")]
    ingest_app.lambda_handler(proxy_event("purchase", json.dumps(document)), lambda_context)
    (request,) = standin.accepted_requests()
    body = request.body.decode()
    assert printed == [body[body.index('"events":[') + len('"events":[') : -2]]
    assert '"emails_sha256":["b5fc85e55755f9e0d030a10ab4429b6b2944855f9a0d60077fe832becbc41d72"]' in printed[0]


def test_try_masks_raw_identifiers_by_default(tmp_path, try_env):
    path = write(tmp_path, "payload.json", fresh(load_event("tealium/purchase-event.json")))

    code, out = run("try", "purchase", path)

    assert code == 0
    (event,) = events_printed(out)
    assert event["oppref"] == "<masked, 14 chars>"
    assert event["user"]["ip_address"].startswith("<masked, ")
    assert "opp_4f2b9c7e1a" not in out


def test_try_takes_a_form_body_and_a_list(tmp_path, try_env):
    purchase = fresh(load_event("tealium/purchase-event.json"))
    form = write(tmp_path, "form.txt", "data=" + quote(json.dumps(purchase)))
    broken = json.loads(json.dumps(purchase))
    broken["data"]["udo"].update(order_id="ORD-2", _ccurrency="US Dollars")
    listed = write(tmp_path, "list.json", [purchase, broken])

    code_form, out_form = run("try", "purchase", form)
    code_list, out_list = run("try", "purchase", listed)

    assert code_form == 0
    assert events_printed(out_form)[0]["id"] == "ORD-10042"
    assert code_list == 1  # the second event's currency is not a code
    assert "event 0  id ORD-10042  would be sent" in out_list
    assert "event 1  id ORD-2  would be rejected" in out_list
    assert "1 of 2 events would go" in out_list


def test_try_a_visitor_on_a_batched_action(tmp_path, try_env):
    path = write(tmp_path, "visitor.json", fresh(load_event("tealium/visitor.json")))

    code, out = run("try", "trial_started", path)

    assert code == 0
    assert out.startswith("trial_started: batched, trial_started;")
    assert events_printed(out)[0]["type"] == "trial_started"


def test_try_lists_errors_and_warnings_by_field(tmp_path, try_env):
    document = fresh(load_event("tealium/purchase-event.json"))
    document["data"]["udo"]["_ccurrency"] = "US Dollars"
    path = write(tmp_path, "payload.json", document)

    code, out = run("try", "purchase", path)

    assert code == 1
    assert "would be rejected" in out
    assert "  error    data.currency:" in out
    assert events_printed(out) == []


def test_try_judges_the_window_at_a_given_time(tmp_path, try_env):
    document = load_event("tealium/purchase-event.json")  # as captured: its own timestamps
    path = write(tmp_path, "payload.json", document)
    at = int(document["post_time"]) + 60_000

    assert run("try", "purchase", path)[0] in (0, 1)  # depends on today's date: the point is --at below
    code, out = run("try", "purchase", path, "--at", str(at))

    assert code == 0, out


def test_try_refuses_an_unreadable_body_as_the_api_would(tmp_path, try_env):
    code, out = run("try", "purchase", write(tmp_path, "payload.json", "{broken"))

    assert code == 1
    assert out.startswith("the body would be refused (HTTP 400): body:")


def test_try_names_the_configured_actions_for_an_unknown_one(tmp_path, try_env, capsys):
    code, _ = run("try", "purchse", write(tmp_path, "payload.json", {}))

    assert code == 2
    assert "try: purchse: unknown action; configured: lead, newsletter_signup, page_view, purchase," in (
        capsys.readouterr().err
    )


def test_try_reads_actions_from_the_option(tmp_path, try_env, capsys):
    actions = write(
        tmp_path,
        "actions.json",
        {
            "actions": {
                "signup": {"delivery": "realtime", "event_type": "order_created", "mappings": {"id": "order_id"}}
            }
        },
    )
    bad = write(tmp_path, "bad.json", {"actions": {"signup": {"delivery": "now"}}})
    payload = write(tmp_path, "payload.json", fresh(load_event("tealium/purchase-event.json")))

    assert run("try", "signup", payload, "--actions", actions)[0] == 0
    assert run("try", "signup", payload, "--actions", bad)[0] == 2
    assert "actions.signup.delivery: must be one of realtime, batched" in capsys.readouterr().err


# ---- redrive ----------------------------------------------------------------------------------------------


@pytest.fixture
def queues(monkeypatch, template, fast_sqs, moto_server, sqs):
    from local.services import provision

    resources = provision(
        template, fast_sqs.endpoint_url, moto_server.endpoint_url, "sk-unused", name_prefix=f"redrive{time.time_ns()}"
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", fast_sqs.endpoint_url)
    return resources


def dead_letter(sqs, dlq_url: str, event_id: str, timestamp_ms: int, reason: str | None, in_body: bool = True):
    """A message as the batch sender dead-letters it (reason in the body and as an attribute), or as SQS does."""
    message = {
        "v": 1,
        "route": {"pixel_id": STANDIN_PIXEL, "api_key_secret_id": "s", "validate_only": False, "base_url": "x"},
        "event": {"id": event_id, "type": "page_viewed", "timestamp_ms": timestamp_ms, "action_source": "web"},
    }
    if reason and in_body:
        message["dead_letter"] = {"reason": reason, "at_ms": timestamp_ms + 1}
    attributes = {"reason": {"DataType": "String", "StringValue": reason}} if reason else {}
    sqs.send_message(QueueUrl=dlq_url, MessageBody=json.dumps(message), MessageAttributes=attributes)
    message.pop("dead_letter", None)
    return message


def drain(sqs, queue_url: str) -> list[dict]:
    bodies = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        bodies += [json.loads(m["Body"]) for m in messages]
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)],
        )
    return bodies


def table(out: str) -> dict[str, list[str]]:
    """The redrive report's rows by reason: [moved, too old, not matching, ...]."""
    return {line.split("  ")[-1].strip(): line.split() for line in out.splitlines()[1:] if line.startswith(" ")}


def depth(sqs, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


@pytest.fixture
def dead_letters(queues, sqs):
    now_ms = round(time.time() * 1000)
    rejected = "OpenAI rejected it: events[0].user.emails_sha256 must be 64 hex characters"
    gave_up = "gave up after 5 tries: OpenAI answered 503 after retries"
    day = 24 * 3600 * 1000
    return {
        "key": [dead_letter(sqs, queues.dlq_url, f"key-{n}", now_ms - day, gave_up) for n in range(12)],
        "rejected": [dead_letter(sqs, queues.dlq_url, "bad-1", now_ms - day, rejected)],
        "old": [dead_letter(sqs, queues.dlq_url, "old-1", now_ms - 8 * day, gave_up)],
        "attribute": [dead_letter(sqs, queues.dlq_url, "attr-1", now_ms - day, gave_up, in_body=False)],
        "sqs": [dead_letter(sqs, queues.dlq_url, "sqs-1", now_ms - day, None)],
    }


def test_redrive_dry_run_counts_per_reason_and_moves_nothing(queues, dead_letters, sqs):
    code, out = run("redrive", "--from", queues.dlq_url, "--to", queues.queue_url, "--dry-run")

    assert code == 0
    rows = table(out)
    assert rows["gave up after 5 tries: OpenAI answered 503 after retries"][:3] == [
        "13",
        "1",
        "0",
    ]  # 12 + 1 by attribute; 1 too old
    assert rows["OpenAI rejected it: events[0].user.emails_sha256 must be 64 hex characters"][:3] == ["1", "0", "0"]
    assert rows["(no reason recorded: SQS moved it after too many receives)"][:3] == ["1", "0", "0"]
    assert rows["(total)"][:3] == ["15", "1", "0"]
    assert "too old: outside OpenAI's window" in out
    assert depth(sqs, queues.queue_url) == 0
    assert depth(sqs, queues.dlq_url) == 16  # released at once, not after the hold


def test_redrive_moves_matching_events_unchanged_but_for_the_note(queues, dead_letters, sqs):
    # WHEN only the events that gave up on a 503 are redriven
    code, out = run("redrive", "--from", queues.dlq_url, "--to", queues.queue_url, "--reason", "ANSWERED 503")
    # THEN they are back in the events queue exactly as first queued; the rest stay dead-lettered
    assert code == 0
    moved = drain(sqs, queues.queue_url)
    expected = dead_letters["key"] + dead_letters["attribute"]
    assert sorted(moved, key=lambda m: m["event"]["id"]) == sorted(expected, key=lambda m: m["event"]["id"])
    left = drain(sqs, queues.dlq_url)
    assert sorted(m["event"]["id"] for m in left) == ["bad-1", "old-1", "sqs-1"]
    assert table(out)["(total)"][:3] == ["13", "1", "2"]


def test_redrive_of_an_empty_queue_says_so(queues):
    code, out = run("redrive", "--from", queues.dlq_url, "--to", queues.queue_url)

    assert (code, out) == (0, "the dead-letter queue is empty\n")


def test_redrive_needs_both_queues(monkeypatch, capsys):
    monkeypatch.delenv("QUEUE_URL", raising=False)
    monkeypatch.delenv("DEAD_LETTER_QUEUE_URL", raising=False)

    code, _ = run("redrive", "--from", "https://sqs.example/dlq")

    assert code == 2
    assert "--from and --to are required" in capsys.readouterr().err


def test_try_reads_actions_from_the_ssm_parameter_actions_config_names(tmp_path, try_env, monkeypatch, moto_server):
    import boto3
    from aws_lambda_powertools.utilities import parameters

    name = f"/cli-tests/{time.time_ns()}/actions"
    document = {
        "actions": {"from_ssm": {"delivery": "batched", "event_type": "order_created", "mappings": {"id": "order_id"}}}
    }
    boto3.client("ssm", endpoint_url=moto_server.endpoint_url).put_parameter(
        Name=name, Value=json.dumps(document), Type="String"
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", moto_server.endpoint_url)
    monkeypatch.setenv("ACTIONS_CONFIG", f"ssm:{name}")
    parameters.clear_caches()
    payload = write(tmp_path, "payload.json", fresh(load_event("tealium/purchase-event.json")))

    code, out = run("try", "from_ssm", payload)

    parameters.clear_caches()
    assert code == 0
    assert out.startswith("from_ssm: batched, order_created;")


def test_the_functions_refuse_a_document_with_every_problem_the_first_leading(tmp_path):
    from connector.core.actions import find_problems, parse_actions
    from connector.core.errors import ConfigError

    text = json.dumps({"actions": {"a": {"delivery": "now", "event_type": "page_viewed", "debug": 1}}})

    with pytest.raises(ConfigError) as refused:
        parse_actions(text)

    assert str(refused.value).splitlines() == find_problems(text)
    assert str(refused.value).startswith("actions.a.delivery: must be one of realtime, batched\n")
    assert str(refused.value).endswith("actions.a.debug: must be true or false")


class FlakySqs:
    """An SQS client whose SendMessageBatch refuses one entry: what redrive does with a partial failure."""

    def __init__(self, bodies: list[str]) -> None:
        self.messages = [{"MessageId": f"m{n}", "ReceiptHandle": f"h{n}", "Body": b} for n, b in enumerate(bodies)]
        self.sent: list[str] = []
        self.deleted: list[str] = []
        self.released: list[str] = []

    def receive_message(self, **kwargs):
        messages, self.messages = self.messages, []
        return {"Messages": messages}

    def send_message_batch(self, QueueUrl, Entries):
        self.sent += [e["MessageBody"] for e in Entries[1:]]
        return {"Successful": [{"Id": e["Id"]} for e in Entries[1:]], "Failed": [{"Id": Entries[0]["Id"]}]}

    def delete_message_batch(self, QueueUrl, Entries):
        self.deleted += [e["ReceiptHandle"] for e in Entries]

    def change_message_visibility_batch(self, QueueUrl, Entries):
        self.released += [e["ReceiptHandle"] for e in Entries]


def test_redrive_leaves_what_could_not_be_sent_and_says_so():
    from connector.adapters.redrive import Redrive

    now_ms = round(time.time() * 1000)
    body = {"event": {"id": "e", "timestamp_ms": now_ms}, "dead_letter": {"reason": "gave up", "at_ms": now_ms}}
    sqs = FlakySqs([json.dumps(body), json.dumps(body)])

    report = Redrive(sqs, "dlq", "events").run()

    assert (report.moved["gave up"], report.failed["gave up"]) == (1, 1)
    assert [json.loads(b) for b in sqs.sent] == [{"event": {"id": "e", "timestamp_ms": now_ms}}]
    assert (sqs.deleted, sqs.released) == (["h1"], ["h0"])  # the unsent one is visible again at once


# ---- quiet terminals ----------------------------------------------------------------------------------

#: What a terminal acts on: ESC sequences (clear screen, colour), the one-byte CSI, a carriage return that
#: hides what came before, a bidi override that reverses it, a line break that forges a row.
TERMINAL_CONTROLS = ("\x1b", "\x9b", "\r", "\u202e", "\x07")


def test_redrive_escapes_control_characters_in_the_reasons_it_prints(queues, sqs):
    # GIVEN a dead letter whose reason quotes OpenAI's message with escape sequences, and one whose body holds a
    # lone surrogate escape (a reason SQS itself could not carry, read from the body)
    now_ms = round(time.time() * 1000)
    hostile = "OpenAI rejected it: \x1b[2J\x1b[31mfine\r\u202eevil\x9b0m\x07\nforged row"
    dead_letter(sqs, queues.dlq_url, "ansi-1", now_ms, hostile)
    body = json.dumps({"v": 2, "action": "page_view", "event": {"id": "s-1"}, "dead_letter": {"reason": "x\udc80y"}})
    sqs.send_message(QueueUrl=queues.dlq_url, MessageBody=body)
    # WHEN the operator counts them
    code, out = run("redrive", "--from", queues.dlq_url, "--to", queues.queue_url, "--dry-run")
    # THEN every control character is printed as visible escapes, one reason per line
    assert code == 0
    assert not any(control in out for control in TERMINAL_CONTROLS)
    assert r"OpenAI rejected it: \x1b[2J\x1b[31mfine\r\u202eevil\x9b0m\x07\nforged row" in out
    assert r"x\udc80y" in out
    out.encode("utf-8")  # no lone surrogate reaches the terminal's encoding
    assert len(out.splitlines()) == 4  # the header, two reasons, the total: no forged row


def test_try_escapes_control_characters_from_the_payload(tmp_path, try_env):
    document = fresh(load_event("tealium/purchase-event.json"))
    document["data"]["udo"]["order_id"] = "ORD-\x1b[2J\u202e1"
    document["data"]["udo"]["_corder"] = "ORD-\x1b[2J\u202e1"
    _, out = run("try", "purchase", write(tmp_path, "payload.json", document), "--unmasked")
    assert not any(control in out for control in TERMINAL_CONTROLS)
    assert r"ORD-\x1b[2J\u202e1" in out
