"""The whole connector on 127.0.0.1, as `make demo` runs it: ``LocalConnector`` starts and stops it.

Starts moto (Secrets Manager), the fast SQS emulator, the queues and the secret as template.yaml
defines them, the OpenAI stand-in, an HTTP front playing API Gateway and a poller playing the SQS
event source mapping, and imports both Lambda handlers. ``demo()`` posts the samples of
``local/demo_samples.py`` and reports where each ended; ``serve()`` keeps serving. The command line
is ``local/runner.py``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from local.demo_output import Console, call_summary, plural_s, print_answer, print_requests, print_summary
from local.demo_samples import (
    EVENTS,
    SAMPLES,
    DemoReport,
    Sample,
    SampleAnswer,
    build_report,
    request_body,
    sample_document,
)
from local.handlers import connector_environment, declared_environment, load_handler, patched_environ
from local.http_front import HttpFront
from local.openai_standin import OpenAIStandin, RecordedRequest
from local.services import aws_client, provision, start_fast_sqs, start_moto
from local.sqs_poller import LAMBDA_PAYLOAD_LIMIT, EventSourcePoller
from local.template import event_source_settings, function_properties, load_template

ROOT = Path(__file__).resolve().parent.parent
#: Git-ignored; --serve writes a copy of the purchase sample stamped now there for curl.
STATE_DIR = ROOT / ".local-state"
#: Every log line of both functions (the event trail among them), for `python -m connector trace ID --local`.
LOG_FILE = STATE_DIR / "functions.log"

#: The x-api-key the front wants (API Gateway's usage-plan key when deployed); the README's curl uses it.
LOCAL_API_KEY = "local-api-key"
#: The pixel id the stand-in knows.
LOCAL_PIXEL_ID = "px_local_demo"
#: The demo's batching window; the deployed one is the template's MaximumBatchingWindowInSeconds.
DEFAULT_WINDOW_SECONDS = 3.0
METRICS_NAMESPACE = "OpenAIEventsConnectorLocal"


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
    #: Where the functions' log lines go, started afresh each run (the console shows WARNING and above
    #: unless verbose); `trace --log-file` and `report --log-file` read it.
    log_file: Path = LOG_FILE


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
        stack.enter_context(patched_environ(self._environment(template, base_url)))
        from aws_lambda_powertools.utilities import parameters  # after the environment is set

        stack.callback(parameters.clear_caches)  # load_handler clears them before each load
        self.ingest_app = load_handler("ingest")
        self.batch_app = load_handler("batch_sender")
        self._log_to_file()

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

    def _environment(self, template: dict[str, Any], base_url: str) -> dict[str, str]:
        """What the template sets for both functions (parameter defaults), pointed at the local services."""
        env = declared_environment(template) | connector_environment(
            self.resources,
            base_url,
            pixel_id=self.options.pixel_id,
            POWERTOOLS_TRACE_DISABLED="1",
            POWERTOOLS_METRICS_NAMESPACE=METRICS_NAMESPACE,
        )
        # INFO, for the trail lines in the log file; the console shows them only when verbose (_log_to_file).
        env["POWERTOOLS_LOG_LEVEL"] = "INFO"
        if not self.options.verbose:  # keep the output readable: no metric blobs
            env["POWERTOOLS_METRICS_DISABLED"] = "true"
        return env

    def _log_to_file(self) -> None:
        """Both functions log through the same two Powertools loggers (their service's, and its `-trail` one):
        their lines go to the log file too, as CloudWatch Logs would keep them; the console keeps WARNING and
        above unless verbose."""
        from connector.adapters.trail_log import TRAIL_SERVICE_SUFFIX

        service = self.ingest_app.logger.service
        self.options.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.options.log_file.write_text("", encoding="utf-8")  # a fresh log per run
        for name in (service, service + TRAIL_SERVICE_SUFFIX):
            logger = logging.getLogger(name)
            (console,) = logger.handlers  # Powertools' own, to stdout
            # Appending (O_APPEND): `redrive` run beside it appends its trail lines to the same file.
            to_file = logging.FileHandler(self.options.log_file, mode="a", encoding="utf-8")
            to_file.setFormatter(console.formatter)
            logger.addHandler(to_file)
            self._stack.callback(to_file.close)
            self._stack.callback(logger.removeHandler, to_file)
            if not self.options.verbose:
                self._stack.callback(console.setLevel, console.level)
                console.setLevel(logging.WARNING)

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
        report = build_report(answers, requests, settled, dead_lettered, recorded=self.standin is not None)
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

    # -- --serve ---------------------------------------------------------------------------------------

    def serve(self) -> None:
        """Serve until interrupted, printing each request OpenAI receives."""
        STATE_DIR.mkdir(exist_ok=True)
        sample = STATE_DIR / "purchase-event.json"
        sample.write_text(json.dumps(sample_document(SAMPLES[0], round(time.time() * 1000)), indent=2) + "\n")
        batch_sample = next(s for s in SAMPLES if s.file == "batched-events.json")
        batch = STATE_DIR / batch_sample.file
        batch.write_text(json.dumps(sample_document(batch_sample, round(time.time() * 1000)), indent=2) + "\n")
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
        line("A batch of 6 purchases as Tealium's batched webhook posts it (one result per event):")
        line(
            f"  curl -X POST {self.front.url}/actions/{batch_sample.action} -H 'x-api-key: {LOCAL_API_KEY}'"
            f" -H 'content-type: application/json' -d @{batch.relative_to(ROOT)}"
        )
        if self.standin is not None:
            line(f"  Recorded requests: curl {self.standin.base_url}/_standin/requests")
            line(
                f"  Fault injection:   curl -X POST {self.standin.base_url}/_standin/faults"
                """ -d '[{"status": 503}, {"status": 429, "retry_after": 1}]'  (docs/local.md: the stand-in)"""
            )
        log = self.options.log_file
        where = "--local" if log == LOG_FILE else f"--log-file {log}"  # --local reads LOG_FILE
        line(f"  Follow one event:  make cli ARGS='trace ORD-10042 {where}'  (the functions' log: {log.name})")
        line(f"  Match quality:     make cli ARGS='report {where}'  (printed on Ctrl-C too)")
        line("Each call to the front and each request OpenAI receives is printed below (--quiet: no event bodies).")
        self._serving = True
        seen = len(self.recorded_requests())
        while True:
            time.sleep(0.5)
            requests = self.recorded_requests()
            if len(requests) > seen:
                self._print_requests(requests[seen:], first=seen + 1)
                seen = len(requests)
