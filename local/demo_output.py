"""What `make demo` prints: the console, events masked and laid out, the answers, requests and summary."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # the demo modules import this one
    from local.demo_samples import DemoReport, SampleAnswer
    from local.openai_standin import RecordedRequest

#: Wire fields sent as they are but printed masked: raw identifiers stay out of terminals and CI logs.
MASKED_FIELDS = (("oppref",), ("user", "obref"), ("user", "android_advertising_id"), ("user", "ip_address"))

#: Lines of printed events are kept about this wide.
PRETTY_WIDTH = 130

#: Answer status -> what it means, for a newcomer reading the output.
STATUS_NOTES = {
    "sent": "delivered to OpenAI during the request",
    "queued": "waits in EventsQueue for the batch sender",
    "validated": "Debug Mode: OpenAI checked it and stored nothing",
    "rejected": "not sent; the caller is told why",
    "skipped": "not sent: the action's consent attribute did not grant consent",
}

#: API Gateway's own answers (the function never ran) -> what to do about them.
GATEWAY_NOTES = {
    403: "the x-api-key header is missing or wrong (API Gateway's answer; the function never ran)",
    404: "no such route: POST /actions/{action}",
    413: "the body is over API Gateway's 10 MB limit",
    502: "the function failed; its log says why",
}


class Console:
    """Lines for the reader; on a terminal the batch progress is one status line rewritten in place."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = bool(getattr(out, "isatty", lambda: False)())
        self._lock = threading.Lock()
        self._status: str | None = None
        self._last_key: object = None
        self._last_draw = 0.0

    def line(self, text: str = "") -> None:
        with self._lock:
            if self._status is not None:
                self.out.write("\r\033[K")
            self.out.write(text + "\n")
            if self._status is not None:
                self.out.write(self._status)
            self.out.flush()

    def status(self, text: str, key: object) -> None:
        """A TTY rewrites the status line (10 times a second at most); other outputs get a line per new key."""
        with self._lock:
            if self.tty:
                now = time.monotonic()
                if key == self._last_key and now - self._last_draw < 0.1:
                    return
                self._status, self._last_draw = text, now
                self.out.write("\r\033[K" + text)
            elif key != self._last_key:
                self.out.write(text + "\n")
            self._last_key = key
            self.out.flush()

    def keep_status(self) -> None:
        """End the status line, leaving its last text on screen."""
        with self._lock:
            if self._status is not None:
                self.out.write("\n")
                self.out.flush()
            self._status = self._last_key = None


def masked(event: dict[str, Any]) -> dict[str, Any]:
    # Imported here: the runner puts the connector's layer on the path only once it starts.
    from connector.cli import masked_event

    return masked_event(event, MASKED_FIELDS)


def pretty(value: Any, indent: str = "") -> str:
    """Indented JSON with every list or object that fits on one line kept on one line."""
    compact = json.dumps(value, ensure_ascii=False)
    if not isinstance(value, dict | list) or len(indent) + len(compact) <= PRETTY_WIDTH:
        return compact
    inner = indent + "  "
    if isinstance(value, list):
        items = [inner + pretty(item, inner) for item in value]
        return "[\n" + ",\n".join(items) + f"\n{indent}]"
    items = [f"{inner}{json.dumps(key)}: {pretty(item, inner)}" for key, item in value.items()]
    return "{\n" + ",\n".join(items) + f"\n{indent}}}"


def print_answer(console: Console, answer: SampleAnswer, description: str) -> None:
    """The front's answer to one sample; `description` says how it was posted (mode, body, note)."""
    line, sample = console.line, answer.sample
    line(f"  POST /actions/{sample.action}  ({description})  -> HTTP {answer.status_code}")
    for issue in answer.body.get("errors") or []:
        line(f"      error    {issue.get('field')}: {issue.get('reason')}")
    for result in answer.results:
        status = result.get("status")
        should = sample.expected(result.get("index", -1))
        expected = "" if status == should else f"   UNEXPECTED: should be {should}"
        line(f"      {result.get('id')}  {status}  ({STATUS_NOTES.get(status, '?')}){expected}")
        for issue in result.get("errors") or []:
            line(f"        error    {issue['field']}: {issue['reason']}")
        for issue in result.get("warnings") or []:
            line(f"        warning  {issue['field']}: {issue['reason']} (field dropped, event kept)")


def print_requests(
    console: Console,
    requests: list[RecordedRequest],
    *,
    first: int,
    batch_runs: list[tuple[float, float]],
    show_events: bool,
) -> None:
    """What the stand-in received, numbered from `first`; `batch_runs` tells the batch sender's requests apart."""
    line = console.line
    if first == 1:
        line("3. What OpenAI (the stand-in) received (oppref, obref, advertising id and IP masked here only):")
    for number, request in enumerate(requests, start=first):
        from_batch = any(start <= request.time <= end for start, end in batch_runs)
        origin = "BatchSenderFunction" if from_batch else "IngestFunction"
        validate_only = "true" if request.validate_only else "false"
        line(
            f"  request {number}  {request.method} {request.path}?pid={request.query.get('pid')}"
            f"  -> {request.status}  validate_only={validate_only}"
            f"  {len(request.events)} event{plural_s(request.events)}"
            f"  {request.body_bytes} bytes  (from {origin})"
        )
        if show_events:
            for event in request.events:
                for text in pretty(masked(event)).splitlines():
                    line(f"      {text}")


def print_summary(console: Console, report: DemoReport) -> None:
    """The counts by status and the verdict, then each problem found."""
    verdict = "everything arrived as expected" if report.ok else "PROBLEMS:"
    console.line()
    console.line(
        f"Summary: {report.sent} sent in real time, {report.queued} queued, {report.delivered} of"
        f" {report.queued} delivered by the batch sender, {report.validated} validated (Debug Mode),"
        f" {report.rejected} rejected (on purpose) in {report.seconds:.1f} s: {verdict}"
    )
    for problem in report.problems:
        console.line(f"  - {problem}")


def plural_s(count: int | list[Any]) -> str:
    """The "s" that makes a noun plural for this many (a count or a list)."""
    return "" if (count if isinstance(count, int) else len(count)) == 1 else "s"


def call_summary(request_line: str, status: int, data: bytes) -> str:
    """One line for a call the front answered: statuses per event and the fields in error, or why it was refused."""
    try:
        body = json.loads(data or b"{}")
    except ValueError:
        body = {}
    head = f"  call  {request_line}  -> HTTP {status}"
    if not isinstance(body, dict):
        return head
    if "message" in body:  # API Gateway's shape, not the function's
        return f"{head} {body['message']}: {GATEWAY_NOTES.get(status, 'refused by the front')}"
    results = body.get("results") or []
    parts = []
    if results:
        statuses = Counter(str(result.get("status")) for result in results)
        parts.append(", ".join(f"{count} {status}" for status, count in statuses.items()))
        fields = Counter(issue.get("field") for result in results for issue in result.get("errors") or [])
        if fields:
            listed = (f"{field} x{n}" if n > 1 else str(field) for field, n in fields.items())
            parts.append("errors: " + ", ".join(listed))
        warnings = sum(len(result.get("warnings") or []) for result in results)
        if warnings:
            parts.append(f"{warnings} warning{plural_s(warnings)}")
    for issue in body.get("errors") or []:
        parts.append(f"{issue.get('field')}: {issue.get('reason')}")
    return f"{head}: {'; '.join(parts)}" if parts else head


def counted(lines: list[str]) -> list[str]:
    """Each distinct line once, in first-seen order, with how many times it came when more than once."""
    counts = Counter(lines)
    return [line if counts[line] == 1 else f"{line} (x{counts[line]})" for line in dict.fromkeys(lines)]
