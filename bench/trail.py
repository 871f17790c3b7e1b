"""The event trail's log bytes per event per step, measured on the lines the functions write.

The real services (ingest, batch sender) run the bench's purchase through the real trail adapter
(connector/adapters/trail_log.py). The function's Logger carries what a deployed function's lines
carry: the Lambda context's keys (`inject_lambda_context` with a deployed-looking function name and
ARN), the API Gateway correlation id on ingest, and the X-Ray trace id Lambda sets with active
tracing; the trail's own Logger takes the request id from it and nothing else. Every trail line is
counted in UTF-8 bytes plus its newline; the cost model (bench/cost.py) adds them per event to the
CloudWatch Logs charge, trail on against trail off."""

from __future__ import annotations

import io
import json
import logging
import os
import uuid
from collections.abc import Sequence

from aws_lambda_powertools import Logger
from connector.adapters.trail_log import LoggerTrail, trail_line, trail_logger
from connector.core.trail import TRAIL_MESSAGE, trail_record
from connector.core.types import Response
from connector.services.batch import BatchService, Record
from connector.services.delivery import Sender
from connector.services.ingest import IngestService

from bench import payloads
from bench.timing import paired

#: Trail lines per timing repeat.
TIMED_LINES = 2000

#: A deployed function's name: CloudFormation's `<stack>-<LogicalId>-<12 random>`, at the samconfig stack name.
FUNCTION_NAMES = {
    "ingest": "openai-events-connector-IngestFunction-Q1w2E3r4T5y6",
    "batch": "openai-events-connector-BatchSenderFunctio-A1s2D3f4G5h6",
}
#: What Lambda puts in _X_AMZN_TRACE_ID with active tracing; Powertools logs its Root as xray_trace_id.
TRACE_HEADER = "Root=1-6750a1b2-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"
#: Same length as the functions' trail Logger's name ("openai-events-connector-trail") and one per run:
#: Powertools sets a service's logger up once per process, and row 5 has set that one up already.
SERVICES = iter(f"openai-events-bench-trail-{n:03d}" for n in range(1000))
#: The same for the trail's Logger, whose name trail_logger suffixes: as long as the functions' service name.
TRAIL_SERVICES = iter(f"openai-events-bench{n:04d}" for n in range(1000))


class _Context:
    """The Lambda context fields Powertools logs."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())


class _Client:
    """OpenAI answering 200 with a request id shaped like the stand-in's, or 400 naming the first event."""

    def __init__(self, reject: bool = False) -> None:
        self.reject = reject

    def post(self, url: str, headers: dict[str, str], body: bytes, deadline: float | None = None) -> Response:
        if self.reject:
            error = (
                b'{"error":{"message":"Invalid event at events[0]: data.currency: unsupported","param":"events[0]"}}'
            )
            return Response(400, error, 0, f"req_{uuid.uuid4().hex}")
        return Response(200, b"{}", 0, f"req_{uuid.uuid4().hex}")


class _Queue:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def send(self, messages: Sequence[str], reasons: Sequence[str | None] | None = None) -> list[str | None]:
        self.messages.extend(messages)
        return [None] * len(messages)


def _logger() -> tuple[Logger, LoggerTrail, io.StringIO]:
    """A function's Logger and the trail writing through its own, into one buffer."""
    out = io.StringIO()
    function_logger = Logger(service=next(SERVICES), logger_handler=logging.StreamHandler(out))
    trail = trail_logger(next(TRAIL_SERVICES), logging.StreamHandler(out))  # as the functions build it
    return function_logger, LoggerTrail(function_logger, trail=trail), out


def _lines(out: io.StringIO) -> list[str]:
    return [line for line in out.getvalue().splitlines() if f'"message":"{TRAIL_MESSAGE}"' in line]


def run() -> dict:
    """Bytes of each step's trail line, and per event for real-time and batched delivery."""
    saved = os.environ.get("_X_AMZN_TRACE_ID")
    os.environ["_X_AMZN_TRACE_ID"] = TRACE_HEADER
    try:
        steps = _measure()
    finally:
        if saved is None:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        else:
            os.environ["_X_AMZN_TRACE_ID"] = saved
    return {
        "steps": steps,
        **_time_per_line(),
        "realtime_bytes_per_event": steps["ingest received"] + steps["ingest sent"],
        "batched_bytes_per_event": steps["ingest received"] + steps["ingest queued"] + steps["batch sent"],
    }


def _measure() -> dict[str, int]:
    actions = payloads.actions()
    queue = _Queue()
    logger, trail, out = _logger()
    ingest = IngestService(
        payloads.SETTINGS, actions, Sender(_Client(), lambda route, force: "sk-bench"), queue, trail=trail
    )

    @logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
    def post(event: dict, context: _Context) -> None:
        ingest.handle(event["action"], json.dumps(payloads.purchase()), "application/json", None)

    request = {"requestContext": {"requestId": str(uuid.uuid4())}}
    post(request | {"action": "purchase"}, _Context(FUNCTION_NAMES["ingest"]))
    post(request | {"action": "purchase_batched"}, _Context(FUNCTION_NAMES["ingest"]))
    ingest_lines = _lines(out)

    routes = {
        name: action.route("px_bench", "bench/openai-key", "https://bzr.openai.com") for name, action in actions.items()
    }
    batch_lines = []
    for reject in (False, True):
        logger, trail, out = _logger()
        sender = BatchService(Sender(_Client(reject), lambda route, force: "sk-bench"), _Queue(), routes, trail=trail)

        @logger.inject_lambda_context
        def handle(event: dict, context: _Context, sender: BatchService = sender) -> None:
            sender.handle([Record(str(uuid.uuid4()), queue.messages[-1])])

        handle({}, _Context(FUNCTION_NAMES["batch"]))
        batch_lines += _lines(out)

    queued = json.loads(queue.messages[-1])
    moved = trail_line(trail_record("redrive", "moved", "purchase_batched", queued["event"], reason=_REASON), 0)
    lines = [*ingest_lines, *batch_lines, moved]
    named = {}
    for line in lines:
        record = json.loads(line)
        named.setdefault(f"{record['step']} {record['outcome']}", len(line.encode("utf-8")) + 1)
    return named


def _time_per_line() -> dict[str, float]:
    """CPU time of one trail line (the record from the wire event, then the Logger's JSON line) against a
    baseline of one `json.dumps` of the finished record: what the trail adds to each event's step."""
    _, trail, out = _logger()
    event = _purchase_event()

    def line() -> None:
        trail.write(trail_record("ingest", "sent", "purchase", event, http_status=200, openai_request_id="req_1"))
        out.seek(0)
        out.truncate()

    finished = trail_record("ingest", "sent", "purchase", event, http_status=200, openai_request_id="req_1")
    timed = paired({"line": line, "baseline": lambda: json.dumps(finished)}, TIMED_LINES)
    return {"us_per_line": timed["line"] * 1e6, "baseline_us_per_line": timed["baseline"] * 1e6}


def _purchase_event() -> dict:
    from connector.core.pipeline import prepare_events

    (prepared,) = prepare_events(
        payloads.actions()["purchase"], [payloads.purchase()], payloads.SETTINGS, payloads.now_ms()
    )
    return prepared.event


#: A typical dead-letter reason, for the redrive line.
_REASON = "OpenAI rejected it: Invalid event at events[0]: data.currency: unsupported"
