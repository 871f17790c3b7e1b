"""The demo's samples: the webhook calls `make demo` posts, the status each should get, and the report.

Each ``Sample`` names a file under events/tealium/ and the action it is posted to; ``sample_document``
stamps it now (OpenAI refuses events older than 7 days) and gives each purchase its own order id, so
it can be followed to OpenAI. A file holding a JSON list is a body of Tealium's batched webhook
(connector/core/tealium_batch.py), answered with one result per event. ``build_report`` checks every
answer against what was expected.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from local.demo_output import counted, plural_s
from local.openai_standin import RecordedRequest
from local.samples import refreshed

EVENTS = Path(__file__).resolve().parent.parent / "events" / "tealium"


@dataclass(frozen=True)
class Sample:
    """One webhook call of the demo and the status its event (each event of a batched body) should get."""

    action: str
    file: str  # under events/tealium/; a JSON list is a batched body
    expect: str | tuple[str, ...]  # a tuple: one status per event of a batched body, in order
    order_id: str | None = None  # each purchase sample gets its own id, so it can be followed to OpenAI
    form: bool = False  # the form field `data=` instead of a JSON body
    udo: Mapping[str, str] = field(default_factory=dict)  # changes that break the event on purpose
    note: str = ""

    def expected(self, index: int) -> str:
        """The status the event at `index` of this call should get."""
        if isinstance(self.expect, str):
            return self.expect
        return self.expect[index] if 0 <= index < len(self.expect) else "no event at this index"


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
    Sample(
        "purchase_batched",
        "batched-events.json",
        ("queued", "queued", "rejected", "queued", "rejected", "queued"),
        note="Tealium's batched webhook: 6 purchases in one call, 2 broken on purpose (129,99; no currency)",
    ),
    Sample(
        "trial_started",
        "batched-visitors.json",
        ("queued", "queued", "rejected", "queued"),
        note="Tealium's batched webhook: 4 AudienceStream visitors, 1 without a page URL",
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


def sample_document(sample: Sample, now_ms: int) -> dict[str, Any] | list[dict[str, Any]]:
    document = json.loads((EVENTS / sample.file).read_text(encoding="utf-8"))
    if isinstance(document, list):  # a batched body: its events carry their own ids
        return refreshed(document, now_ms)
    if sample.order_id:
        original = document["data"]["udo"]["order_id"]
        document = json.loads(json.dumps(document).replace(original, sample.order_id))
    document = refreshed(document, now_ms)
    if sample.udo:
        document["data"]["udo"].update(sample.udo)
    return document


def request_body(sample: Sample, document: dict[str, Any] | list[dict[str, Any]]) -> tuple[bytes, str]:
    text = json.dumps(document)
    if sample.form:
        return urlencode({"data": text}).encode(), "application/x-www-form-urlencoded"
    return text.encode(), "application/json"


def build_report(
    answers: list[SampleAnswer],
    requests: list[RecordedRequest],
    settled: bool,
    dead_lettered: int,
    *,
    recorded: bool,
) -> DemoReport:
    """Each sample's answer checked against its expected status and, when ``recorded`` (``requests`` are
    the stand-in's recordings), against what OpenAI stored; counts and problems in one report."""
    report = DemoReport(answers, requests)
    queued = {str(r.get("id")) for a in answers for r in a.results if r.get("status") == "queued"}
    stored = {str(e.get("id")) for e in report.events}
    checked = {str(e.get("id")) for e in report.validated_events}
    for answer in answers:
        if not answer.results:
            why = "; ".join(f"{e.get('field')}: {e.get('reason')}" for e in answer.body.get("errors") or [])
            report.problems.append(f"{answer.sample.action}: HTTP {answer.status_code} without results ({why})")
        elif not isinstance(answer.sample.expect, str) and len(answer.results) != len(answer.sample.expect):
            count = len(answer.sample.expect)
            report.problems.append(f"{answer.sample.action}: {len(answer.results)} results for {count} events")
        for result in answer.results:
            status, event_id = result.get("status"), str(result.get("id"))
            report.sent += status == "sent"
            report.queued += status == "queued"
            report.validated += status == "validated"
            report.rejected += status == "rejected"
            expected = answer.sample.expected(result.get("index", -1))
            if status != expected:
                report.problems.append(f"{answer.sample.action} {event_id}: {status}, expected {expected}")
            if not recorded:
                continue
            if status in ("sent", "queued") and event_id not in stored:
                report.problems.append(f"{event_id}: {status} but OpenAI never stored it")
            if status == "validated" and (event_id not in checked or event_id in stored):
                report.problems.append(f"{event_id}: validated, but not as a validate_only request")
            if status == "rejected" and event_id in stored:
                report.problems.append(f"{event_id}: rejected, yet OpenAI stored it")
    if recorded:
        report.delivered = sum(1 for event_id in queued if event_id in stored)
    else:
        report.delivered = report.queued if settled and not dead_lettered else 0
    if not settled:
        report.problems.append("the batch sender did not finish every queued event in time")
    if dead_lettered:
        report.problems.append(f"{dead_lettered} event{plural_s(dead_lettered)} in the DeadLetterQueue")
    report.problems = counted(report.problems)
    return report
