"""`make demo`: the whole connector on 127.0.0.1, Tealium samples in, what OpenAI receives out.

    python -m local.runner [--serve] [--window SECONDS] [--port N] [--standin-port N] [--sqs-port N]
                           [--moto-port N] [--quiet] [--verbose] [--base-url URL --api-key-file FILE --pixel-id PID]

Starts moto (Secrets Manager), the fast SQS emulator, the queues and the secret as template.yaml
defines them, the OpenAI stand-in, an HTTP front playing API Gateway and a poller playing the SQS
event source mapping; imports both Lambda handlers; posts the samples in events/tealium/ as a
Tealium webhook would and prints each answer and every request OpenAI received. Exit status 0 only
when every sample ended where it should. ``run_demo()`` is the same for tests.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import itertools
import json
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

# MASKED_FIELDS, PRETTY_WIDTH, STATUS_NOTES, masked and pretty moved to demo_output; importable here still.
from local.demo_output import (  # noqa: F401
    MASKED_FIELDS,
    PRETTY_WIDTH,
    STATUS_NOTES,
    Console,
    call_summary,
    counted,
    masked,
    plural_s,
    pretty,
    print_answer,
    print_requests,
    print_summary,
)
from local.http_front import HttpFront
from local.openai_standin import OpenAIStandin, RecordedRequest
from local.samples import refreshed
from local.services import Resources, ServiceError, aws_client, provision, start_fast_sqs, start_moto
from local.sqs_poller import LAMBDA_PAYLOAD_LIMIT, EventSourcePoller
from local.template import (
    event_source_settings,
    function_environment,
    function_properties,
    load_template,
    resolve_parameters,
)

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers" / "connector"
EVENTS = ROOT / "events" / "tealium"
#: Git-ignored; --serve writes a copy of the purchase sample stamped now there for curl.
STATE_DIR = ROOT / ".local-state"

#: The x-api-key the front wants (API Gateway's usage-plan key when deployed); the README's curl uses it.
LOCAL_API_KEY = "local-api-key"
#: The pixel id the stand-in knows.
LOCAL_PIXEL_ID = "px_local_demo"
#: The demo's batching window; the deployed one is the template's MaximumBatchingWindowInSeconds.
DEFAULT_WINDOW_SECONDS = 3.0
DEFAULT_SERVE_PORT = 8080
#: The stand-in's port with --serve, so its /_standin/ endpoints (README) stay where they were.
DEFAULT_STANDIN_SERVE_PORT = 8787
METRICS_NAMESPACE = "OpenAIEventsConnectorLocal"


@dataclass(frozen=True)
class Sample:
    """One webhook call of the demo and the status its event should get."""

    action: str
    file: str  # under events/tealium/
    expect: str
    order_id: str | None = None  # each purchase sample gets its own id, so it can be followed to OpenAI
    form: bool = False  # the form field `data=` instead of a JSON body
    udo: Mapping[str, str] = field(default_factory=dict)  # changes that break the event on purpose
    note: str = ""


SAMPLES = (
    Sample("purchase", "purchase-event.json", "sent"),
    Sample("purchase_batched", "purchase-event.json", "queued", order_id="ORD-10043"),
    Sample("purchase", "purchase-event.json", "sent", order_id="ORD-10044", form=True),
    Sample("trial_started", "visitor.json", "queued", note="AudienceStream visitor"),
    Sample("page_view", "pageview-event.json", "queued"),
    Sample("purchase_debug", "purchase-event.json", "validated", order_id="ORD-10045"),
    Sample(
        "purchase",
        "purchase-event.json",
        "rejected",
        order_id="ORD-10046",
        udo={"_ccurrency": "US Dollars"},
        note='broken on purpose: currency "US Dollars"',
    ),
)


@dataclass
class SampleAnswer:
    sample: Sample
    status_code: int
    body: dict[str, Any]

    @property
    def results(self) -> list[dict[str, Any]]:
        return list(self.body.get("results") or [])


@dataclass
class DemoReport:
    answers: list[SampleAnswer]
    #: Every request the stand-in received, in order (empty against a real endpoint).
    requests: list[RecordedRequest]
    sent: int = 0
    queued: int = 0
    delivered: int = 0
    validated: int = 0
    rejected: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def events(self) -> list[dict[str, Any]]:
        """The events OpenAI stored (validate_only requests excluded)."""
        return [e for r in self.requests if r.accepted and not r.validate_only for e in r.events]

    @property
    def validated_events(self) -> list[dict[str, Any]]:
        return [e for r in self.requests if r.accepted and r.validate_only for e in r.events]


@dataclass
class Options:
    window_seconds: float = DEFAULT_WINDOW_SECONDS
    port: int = 0
    #: 0: a free port. The OpenAI stand-in's, local-aws-sqs's and moto's.
    standin_port: int = 0
    sqs_port: int = 0
    moto_port: int = 0
    #: A real Events API endpoint instead of the stand-in; then api_key is the real key.
    base_url: str | None = None
    #: The OpenAI key put in the secret (a random one for the stand-in when None).
    api_key: str | None = None
    pixel_id: str = LOCAL_PIXEL_ID
    quiet: bool = False
    verbose: bool = False


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def connector_environment(
    template: Mapping[str, Any], resources: Resources, *, pixel_id: str, base_url: str, verbose: bool
) -> dict[str, str]:
    """What the template sets for both functions (parameter defaults), pointed at the local services."""
    declared: dict[str, Any] = {}
    for function_id in ("IngestFunction", "BatchSenderFunction"):
        declared |= resolve_parameters(template, function_environment(template, function_id))
    env = {name: value for name, value in declared.items() if isinstance(value, str)}  # refs: resources.env()
    env |= resources.env()
    env |= {
        "PIXEL_ID": pixel_id,
        "BASE_URL": base_url,
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
    }
    if not verbose:  # keep the output readable: no INFO logs, no metric blobs
        env |= {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
    return env


_loads = itertools.count()


def layer_on_path() -> None:
    """The connector package importable, as the Lambda layer makes it (/opt/python)."""
    if str(LAYER) not in sys.path:
        sys.path.insert(0, str(LAYER))


def load_handler(name: str) -> Any:
    """Import functions/<name>/app.py afresh: its module-level wiring reads the current environment."""
    layer_on_path()
    spec = importlib.util.spec_from_file_location(
        f"local_{name}_app_{next(_loads)}", ROOT / "functions" / name / "app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sample_document(sample: Sample, now_ms: int) -> dict[str, Any]:
    document = json.loads((EVENTS / sample.file).read_text(encoding="utf-8"))
    if sample.order_id:
        original = document["data"]["udo"]["order_id"]
        document = json.loads(json.dumps(document).replace(original, sample.order_id))
    document = refreshed(document, now_ms)
    if sample.udo:
        document["data"]["udo"].update(sample.udo)
    return document


def request_body(sample: Sample, document: dict[str, Any]) -> tuple[bytes, str]:
    text = json.dumps(document)
    if sample.form:
        return urlencode({"data": text}).encode(), "application/x-www-form-urlencoded"
    return text.encode(), "application/json"


class LocalConnector:
    """Everything `make demo` runs, started on enter and stopped (in reverse) on exit."""

    def __init__(self, options: Options, console: Console) -> None:
        self.options = options
        self.console = console
        self.standin: OpenAIStandin | None = None
        self._stack = contextlib.ExitStack()
        self._serving = False  # from then on every call to the front is summarized
        self._settled = 0  # batch records the batch sender did not hand back
        self._settled_changed = threading.Condition()
        #: (start, end) wall-clock times of batch sender invocations: what it sent arrived in one of them.
        self._batch_runs: list[tuple[float, float]] = []
        self._poller_thread: threading.Thread | None = None

    def __enter__(self) -> LocalConnector:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    # -- start -----------------------------------------------------------------------------------

    def _start(self) -> None:
        options, stack = self.options, self._stack
        template = load_template()
        moto = stack.enter_context(start_moto(options.moto_port, quiet=not options.verbose))
        sqs = stack.enter_context(start_fast_sqs(options.sqs_port))
        if options.base_url:
            api_key, base_url = options.api_key or "", options.base_url
        else:
            api_key = options.api_key or f"sk-local-{secrets.token_hex(16)}"
            self.standin = OpenAIStandin(api_keys=[api_key], pixel_ids=[options.pixel_id]).start(
                port=options.standin_port
            )
            stack.callback(self.standin.stop)
            base_url = self.standin.base_url
        self.resources = provision(template, sqs.endpoint_url, moto.endpoint_url, api_key)
        env = connector_environment(
            template, self.resources, pixel_id=options.pixel_id, base_url=base_url, verbose=options.verbose
        )
        stack.enter_context(patched_environ(env))
        from aws_lambda_powertools.utilities import parameters  # after the environment is set

        parameters.clear_caches()  # no secret client or value from an earlier run in this process
        stack.callback(parameters.clear_caches)
        self.ingest_app = load_handler("ingest")
        self.batch_app = load_handler("batch_sender")

        ingest = function_properties(template, "IngestFunction")
        self.front = HttpFront(
            self.ingest_app.lambda_handler,
            LOCAL_API_KEY,
            port=options.port,
            timeout_seconds=float(ingest.get("Timeout", 29)),
            on_call=self._call_answered,
        ).start()
        stack.callback(self.front.stop)

        source = event_source_settings(template)
        if source["Queue"] != "EventsQueue":
            raise ValueError(f"BatchSenderFunction reads {source['Queue']}; the runner provisions EventsQueue")
        self.batch_size = int(source["BatchSize"])
        self.deployed_window = source["MaximumBatchingWindowInSeconds"]
        self.poller = EventSourcePoller(
            self.resources.queue_url,
            self._invoke_batch_sender,
            batch_size=self.batch_size,
            window_seconds=options.window_seconds,
            max_batch_bytes=LAMBDA_PAYLOAD_LIMIT,
            report_batch_item_failures="ReportBatchItemFailures" in source["FunctionResponseTypes"],
            sqs_client=aws_client("sqs", self.resources.sqs_endpoint, self.resources.region),
            on_progress=self._progress,
            # Records handed back come again after a window, not after the deployed 1,020 s visibility timeout.
            failure_visibility_timeout=max(1, round(options.window_seconds)),
            wait_time_seconds=1,  # also how long stopping may take
        )
        self._print_setup(moto.endpoint_url, sqs.endpoint_url, base_url)

    def start_batch_sender(self) -> None:
        """Start the poller (once). The demo starts it after posting its samples: its queued events then
        make one batch whatever the window, where a busy machine could otherwise split them across two."""
        if self._poller_thread is not None:
            return
        thread, stop_event = self.poller.start()
        self._poller_thread = thread

        def stop_poller() -> None:
            stop_event.set()
            thread.join(timeout=self.options.window_seconds + 10)

        self._stack.callback(stop_poller)

    def _print_setup(self, moto_url: str, sqs_url: str, base_url: str) -> None:
        line, resources, options = self.console.line, self.resources, self.options
        where = "nothing leaves this machine" if self.standin is not None else "OpenAI is the real endpoint"
        line(f"OpenAI Events connector: local demo (on 127.0.0.1, no AWS account; {where})")
        line(f"  Secrets Manager  moto           {moto_url}   secret {resources.secret_name}")
        line(
            f"  SQS              local-aws-sqs  {sqs_url}   EventsQueue + DeadLetterQueue as template.yaml defines them"
        )
        if self.standin is not None:
            line(f"  OpenAI           stand-in       {base_url}   pixel {options.pixel_id}; checks the wire contract")
        else:
            line(f"  OpenAI           REAL endpoint  {base_url}   pixel {options.pixel_id}; key from --api-key-file")
        line(f"  API Gateway      HTTP front     {self.front.url}/actions/{{action}}   x-api-key: {LOCAL_API_KEY}")
        line(
            f"  SQS -> Lambda    event source   BatchSize {self.batch_size}, window {options.window_seconds:g} s"
            f" here (deployed: {self.deployed_window} s; --window to change)"
        )
        line()

    def _call_answered(self, request_line: str, status: int, data: bytes) -> None:
        if self._serving:
            self.console.line(call_summary(request_line, status, data))

    # -- the batch sender's side -------------------------------------------------------------------

    def _progress(self, count: int, batch_size: int, elapsed: float, window: float) -> None:
        if not self.options.quiet:
            text = f"  batch {count}/{batch_size} events, {elapsed:.1f} s of {window:g} s window"
            self.console.status(text, (count, int(elapsed)))

    def _invoke_batch_sender(self, event: dict[str, Any], context: Any) -> Any:
        records = len(event["Records"])
        started, wall_start = time.monotonic(), time.time()
        try:
            response = self.batch_app.lambda_handler(event, context)
        except Exception as error:
            self.console.keep_status()
            self.console.line(f"  BatchSenderFunction raised {type(error).__name__}: the batch goes back to the queue")
            raise
        failed = len((response or {}).get("batchItemFailures") or [])
        millis = (time.monotonic() - started) * 1000
        self._batch_runs.append((wall_start, time.time()))
        self.console.keep_status()
        self.console.line(
            f"  BatchSenderFunction invoked with {records} record{plural_s(records)}:"
            f" {records - failed} delivered or dead-lettered, {failed} handed back for retry ({millis:.0f} ms)"
        )
        with self._settled_changed:
            self._settled += records - failed
            self._settled_changed.notify_all()
        return response

    def _wait_for_batch_sender(self, count: int, timeout: float) -> bool:
        with self._settled_changed:
            return self._settled_changed.wait_for(lambda: self._settled >= count, timeout)

    # -- the client's side ---------------------------------------------------------------------------

    def post(self, action: str, body: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
        request = Request(
            f"{self.front.url}/actions/{action}",
            data=body,
            method="POST",
            headers={"x-api-key": LOCAL_API_KEY, "Content-Type": content_type},
        )
        try:
            with urlopen(request, timeout=60) as response:  # our own loopback front
                return response.status, json.loads(response.read() or b"{}")
        except HTTPError as error:
            with error:
                return error.code, json.loads(error.read() or b"{}")

    def _describe(self, sample: Sample) -> str:
        action = self.ingest_app.service.actions.get(sample.action)
        if action is None:
            mode = "unknown action"
        elif action.debug:
            mode = "Debug Mode"
        else:
            mode = "real-time" if action.delivery == "realtime" else action.delivery
        body = "form data=" if sample.form else "JSON body"
        return ", ".join(part for part in (mode, body, sample.note) if part)

    # -- the demo --------------------------------------------------------------------------------------

    def demo(self) -> DemoReport:
        started = time.monotonic()
        line, options = self.console.line, self.options
        now_ms = round(time.time() * 1000)
        line("1. Tealium posts the samples (events/tealium/, timestamps set to now) to the front;")
        line("   each purchase gets its own order id (ORD-10042...), so it can be followed to OpenAI:")
        answers: list[SampleAnswer] = []
        for sample in SAMPLES:
            if not (EVENTS / sample.file).exists():
                line(f"  (skipped {sample.action}: events/tealium/{sample.file} not found)")
                continue
            body, content_type = request_body(sample, sample_document(sample, now_ms))
            answer = SampleAnswer(sample, *self.post(sample.action, body, content_type))
            answers.append(answer)
            print_answer(self.console, answer, self._describe(sample))
        queued = [r["id"] for a in answers for r in a.results if r.get("status") == "queued"]

        line()
        line(
            f"2. The batch sender: the poller hands EventsQueue to BatchSenderFunction in batches of up to"
            f" {self.batch_size} events, {options.window_seconds:g} s after the first one arrives:"
        )
        self.start_batch_sender()
        settled = self._wait_for_batch_sender(len(queued), timeout=2 * options.window_seconds + 20)
        self.console.keep_status()
        dead_lettered = self._dead_letter_depth()

        requests = self.recorded_requests()
        line()
        self._print_requests(requests)
        report = self._report(answers, requests, settled, dead_lettered)
        report.seconds = time.monotonic() - started
        print_summary(self.console, report)
        return report

    def recorded_requests(self) -> list[RecordedRequest]:
        """What the stand-in received, without the Authorization header (the key stays out of reprs)."""
        if self.standin is None:
            return []
        return [
            dataclasses.replace(r, headers={k: v for k, v in r.headers.items() if k.lower() != "authorization"})
            for r in self.standin.requests
        ]

    def _dead_letter_depth(self) -> int:
        sqs = aws_client("sqs", self.resources.sqs_endpoint, self.resources.region)
        attributes = sqs.get_queue_attributes(
            QueueUrl=self.resources.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    def _print_requests(self, requests: list[RecordedRequest], first: int = 1) -> None:
        if self.standin is None:
            self.console.line(
                "3. Sent to the real Events API: its answers are above; nothing more is visible from here."
            )
            return
        show_events = not self.options.quiet
        print_requests(self.console, requests, first=first, batch_runs=self._batch_runs, show_events=show_events)

    def _report(
        self, answers: list[SampleAnswer], requests: list[RecordedRequest], settled: bool, dead_lettered: int
    ) -> DemoReport:
        report = DemoReport(answers, requests)
        queued = {str(r.get("id")) for a in answers for r in a.results if r.get("status") == "queued"}
        stored = {str(e.get("id")) for e in report.events}
        checked = {str(e.get("id")) for e in report.validated_events}
        for answer in answers:
            if not answer.results:
                why = "; ".join(f"{e.get('field')}: {e.get('reason')}" for e in answer.body.get("errors") or [])
                report.problems.append(f"{answer.sample.action}: HTTP {answer.status_code} without results ({why})")
            for result in answer.results:
                status, event_id = result.get("status"), str(result.get("id"))
                report.sent += status == "sent"
                report.queued += status == "queued"
                report.validated += status == "validated"
                report.rejected += status == "rejected"
                if status != answer.sample.expect:
                    report.problems.append(
                        f"{answer.sample.action} {event_id}: {status}, expected {answer.sample.expect}"
                    )
                if self.standin is None:
                    continue
                if status in ("sent", "queued") and event_id not in stored:
                    report.problems.append(f"{event_id}: {status} but OpenAI never stored it")
                if status == "validated" and (event_id not in checked or event_id in stored):
                    report.problems.append(f"{event_id}: validated, but not as a validate_only request")
                if status == "rejected" and event_id in stored:
                    report.problems.append(f"{event_id}: rejected, yet OpenAI stored it")
        if self.standin is not None:
            report.delivered = sum(1 for event_id in queued if event_id in stored)
        else:
            report.delivered = report.queued if settled and not dead_lettered else 0
        if not settled:
            report.problems.append("the batch sender did not finish every queued event in time")
        if dead_lettered:
            report.problems.append(f"{dead_lettered} event{plural_s(dead_lettered)} in the DeadLetterQueue")
        report.problems = counted(report.problems)
        return report

    # -- --serve ---------------------------------------------------------------------------------------

    def serve(self) -> None:
        """Serve until interrupted, printing each request OpenAI receives."""
        STATE_DIR.mkdir(exist_ok=True)
        sample = STATE_DIR / "purchase-event.json"
        sample.write_text(json.dumps(sample_document(SAMPLES[0], round(time.time() * 1000)), indent=2) + "\n")
        line = self.console.line
        line()
        line("Serving until Ctrl-C. Post an event as a Tealium webhook would:")
        line(
            f"  curl -X POST {self.front.url}/actions/purchase -H 'x-api-key: {LOCAL_API_KEY}'"
            f" -H 'content-type: application/json' -d @{sample.relative_to(ROOT)}"
        )
        line(
            f"  ({sample.relative_to(ROOT)} is events/tealium/purchase-event.json stamped now:"
            " OpenAI refuses events older than 7 days.)"
        )
        if self.standin is not None:
            line(f"  Recorded requests: curl {self.standin.base_url}/_standin/requests")
            line(
                f"  Fault injection:   curl -X POST {self.standin.base_url}/_standin/faults"
                """ -d '[{"status": 503}, {"status": 429, "retry_after": 1}]'  (README: the stand-in)"""
            )
        line("Each call to the front and each request OpenAI receives is printed below (--quiet: no event bodies).")
        self._serving = True
        seen = len(self.recorded_requests())
        while True:
            time.sleep(0.5)
            requests = self.recorded_requests()
            if len(requests) > seen:
                self._print_requests(requests[seen:], first=seen + 1)
                seen = len(requests)


def run_demo(
    window_seconds: float = DEFAULT_WINDOW_SECONDS,
    out: TextIO | None = None,
    *,
    api_key: str | None = None,
    quiet: bool = False,
) -> DemoReport:
    """The demo against the stand-in, printed to ``out``; every service is stopped on return."""
    options = Options(window_seconds=window_seconds, api_key=api_key, quiet=quiet)
    with LocalConnector(options, Console(out or sys.stdout)) as connector:
        return connector.demo()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.runner", description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="after the demo keep serving (Ctrl-C stops)")
    parser.add_argument(
        "--window", type=float, default=DEFAULT_WINDOW_SECONDS, metavar="SECONDS", help="batching window (default 3)"
    )
    parser.add_argument(
        "--port", type=int, help=f"the front's port (default: {DEFAULT_SERVE_PORT} with --serve, else free)"
    )
    parser.add_argument(
        "--standin-port",
        type=int,
        help=f"the OpenAI stand-in's port (default: {DEFAULT_STANDIN_SERVE_PORT} with --serve, else free)",
    )
    parser.add_argument("--sqs-port", type=int, default=0, help="local-aws-sqs's port (default: free)")
    parser.add_argument("--moto-port", type=int, default=0, help="moto's port, for Secrets Manager (default: free)")
    parser.add_argument("--base-url", help="a real Events API base URL instead of the stand-in (https)")
    parser.add_argument("--api-key-file", type=Path, help="file holding the real endpoint's API key")
    parser.add_argument("--pixel-id", default=LOCAL_PIXEL_ID, help="the pixel id (required with --base-url)")
    parser.add_argument("--quiet", action="store_true", help="no event bodies, no progress line")
    parser.add_argument("--verbose", action="store_true", help="the functions' INFO logs and metrics too")
    args = parser.parse_args(argv)
    if args.window <= 0:
        parser.error("--window: must be a positive number of seconds")
    if bool(args.base_url) != bool(args.api_key_file):
        parser.error("--base-url and --api-key-file go together")
    if args.base_url:
        from connector.core.errors import ConfigError
        from connector.core.settings import check_base_url

        try:
            args.base_url = check_base_url(args.base_url, "--base-url")
        except ConfigError as err:
            parser.error(str(err))
        if args.pixel_id == LOCAL_PIXEL_ID:
            parser.error("--base-url needs --pixel-id (your OpenAI Pixel ID)")
    return args


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    layer_on_path()
    from connector.core.errors import ConfigError as ConnectorConfigError

    args = parse_args(argv)
    api_key = None
    if args.api_key_file:
        try:
            api_key = args.api_key_file.read_text(encoding="utf-8").strip()
        except OSError as err:
            print(f"--api-key-file: {err.strerror}", file=sys.stderr)
            return 2
        if not api_key:
            print("--api-key-file: the file is empty", file=sys.stderr)
            return 2
    options = Options(
        window_seconds=args.window,
        port=args.port if args.port is not None else (DEFAULT_SERVE_PORT if args.serve else 0),
        standin_port=args.standin_port
        if args.standin_port is not None
        else (DEFAULT_STANDIN_SERVE_PORT if args.serve else 0),
        sqs_port=args.sqs_port,
        moto_port=args.moto_port,
        base_url=args.base_url,
        api_key=api_key,
        pixel_id=args.pixel_id,
        quiet=args.quiet,
        verbose=args.verbose,
    )
    console = Console(sys.stdout)
    for signum in (signal.SIGINT, signal.SIGTERM):  # both unwind the with, which stops everything
        signal.signal(signum, _interrupt)
    if options.base_url:
        console.line(f"WARNING: the samples go to {options.base_url} for pixel {options.pixel_id} as real events.")
    serving = False
    try:
        with LocalConnector(options, console) as connector:
            report = connector.demo()
            if args.serve:
                serving = True
                connector.serve()
    except KeyboardInterrupt:  # the with has stopped everything by now
        console.keep_status()
        console.line("Stopped.")
        return 0 if serving else 130
    except (ServiceError, OSError) as err:  # e.g. npm ci not run, or a port is taken (--port, --standin-port...)
        print(f"local runner: {err}", file=sys.stderr)
        return 2
    except ConnectorConfigError as err:  # e.g. a bad ACTIONS_CONFIG: its message is the whole story
        print(f"local runner: the connector cannot start: {err}", file=sys.stderr)
        print("  (python -m connector check FILE lists every problem of an actions document)", file=sys.stderr)
        return 2
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
