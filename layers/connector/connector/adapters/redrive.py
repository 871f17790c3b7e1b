"""Dead letters back to the events queue over SQS: `python -m connector redrive`, by reason, never a hopeless one.

A message body moves unchanged but for its `dead_letter` note, whatever else it holds, so a
redriven event is read by the batch sender exactly as when it was first queued. An event whose
timestamp left OpenAI's window can never be accepted: it is counted and stays dead-lettered.
Messages looked at but not moved are held invisible while the queue is read (so each is seen
once), then released at once.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from connector.core.errors import InputError
from connector.core.ports import EventTrail, NoTrail
from connector.core.printable import printable
from connector.core.queue_message import dead_letter_note, from_message, outside_window, sqs_safe, without_dead_letter
from connector.core.trail import trail_record

#: SQS's most messages per receive, send, delete or visibility change.
MAX_BATCH = 10
#: Seconds a message read but not yet moved or released stays hidden from the next receive.
HOLD_SECONDS = 300
#: Messages SQS's own redrive dead-lettered carry no reason of ours.
NO_REASON = "(no reason recorded: SQS moved it after too many receives)"


@dataclass
class RedriveReport:
    """Counts per dead-letter reason: moved (or, in a dry run, would be), too old, not matching, failed."""

    moved: Counter = field(default_factory=Counter)
    too_old: Counter = field(default_factory=Counter)
    not_matching: Counter = field(default_factory=Counter)
    failed: Counter = field(default_factory=Counter)

    def print(self, out: TextIO, dry_run: bool) -> None:
        moved = "would move" if dry_run else "moved"
        columns = ((moved, self.moved), ("too old", self.too_old), ("not matching", self.not_matching))
        if self.failed:
            columns += (("failed", self.failed),)
        reasons = sorted(set().union(*(counts for _, counts in columns)), key=lambda r: -sum(c[r] for _, c in columns))
        if not reasons:
            out.write("the dead-letter queue is empty\n")
            return
        out.write("  ".join(f"{name:>12}" for name, _ in columns) + "  reason\n")
        for reason in reasons:
            # A reason quotes OpenAI and the queued event: escaped whole, so it moves no cursor, breaks no line.
            out.write("  ".join(f"{counts[reason]:>12}" for _, counts in columns) + f"  {printable(reason)}\n")
        out.write("  ".join(f"{counts.total():>12}" for _, counts in columns) + "  (total)\n")
        if self.too_old:
            out.write("too old: outside OpenAI's window (7 days back, 10 minutes ahead); left dead-lettered\n")


class Redrive:
    def __init__(
        self,
        sqs_client,
        source_url: str,
        target_url: str,
        *,
        reason_filter: str | None = None,
        clock: Callable[[], float] = time.time,
        trail: EventTrail | None = None,
    ) -> None:
        self._sqs = sqs_client
        self.source_url = source_url
        self.target_url = target_url
        self.reason_filter = reason_filter.casefold() if reason_filter else None
        self.clock = clock
        self.trail = trail or NoTrail()

    def run(self, dry_run: bool = False) -> RedriveReport:
        report = RedriveReport()
        held: list[str] = []  # receipt handles to release at the end
        seen: set[str] = set()
        try:
            while True:
                messages = self._sqs.receive_message(
                    QueueUrl=self.source_url,
                    MaxNumberOfMessages=MAX_BATCH,
                    VisibilityTimeout=HOLD_SECONDS,
                    WaitTimeSeconds=1,
                    MessageAttributeNames=["reason"],
                ).get("Messages", [])
                fresh = [m for m in messages if m["MessageId"] not in seen]
                held.extend(m["ReceiptHandle"] for m in messages if m["MessageId"] in seen)
                if not fresh:
                    break  # empty, or only messages already looked at: every message was seen once
                seen.update(m["MessageId"] for m in fresh)
                to_move = self._sort(fresh, report, held, dry_run)
                if to_move:
                    self._move(to_move, report, held)
        finally:
            self._release(held)
        return report

    def _sort(self, messages: list[dict], report: RedriveReport, held: list[str], dry_run: bool) -> list[tuple]:
        now_ms = round(self.clock() * 1000)
        to_move = []
        for message in messages:
            reason = dead_letter_reason(message)
            if self.reason_filter and self.reason_filter not in reason.casefold():
                report.not_matching[reason] += 1
            elif outside_window(message["Body"], now_ms):
                report.too_old[reason] += 1
            elif dry_run:
                report.moved[reason] += 1
            else:
                to_move.append((message, reason))
                continue
            held.append(message["ReceiptHandle"])
        return to_move

    def _move(self, to_move: list[tuple], report: RedriveReport, held: list[str]) -> None:
        handles = [message["ReceiptHandle"] for message, _ in to_move]
        held.extend(handles)  # released if anything below fails
        # sqs_safe: a "\ud800" escape in a body decodes to a lone surrogate, which SQS (and UTF-8) cannot carry.
        bodies = [sqs_safe(without_dead_letter(m["Body"])) for m, _ in to_move]
        entries = [{"Id": str(n), "MessageBody": body} for n, body in enumerate(bodies)]
        answer = self._sqs.send_message_batch(QueueUrl=self.target_url, Entries=entries)
        sent = {int(s["Id"]) for s in answer.get("Successful", [])}
        for n, (_, reason) in enumerate(to_move):
            if n not in sent:
                report.failed[reason] += 1
        if sent:
            # A copy now sits in both queues until this delete: a failure here means a duplicate,
            # which OpenAI drops (it deduplicates on id + type), never a loss.
            done = [{"Id": str(n), "ReceiptHandle": handles[n]} for n in sorted(sent)]
            self._sqs.delete_message_batch(QueueUrl=self.source_url, Entries=done)
            for n in sent:
                held.remove(handles[n])
                report.moved[to_move[n][1]] += 1
                self._trail_moved(to_move[n][0]["Body"], to_move[n][1])

    def _trail_moved(self, body: str, reason: str) -> None:
        try:
            queued = from_message(without_dead_letter(body))
        except InputError:
            return  # not a connector message: no event to name
        self.trail.write(trail_record("redrive", "moved", queued.action, queued.event, reason=reason))

    def _release(self, handles: list[str]) -> None:
        for start in range(0, len(handles), MAX_BATCH):
            chunk = handles[start : start + MAX_BATCH]
            entries = [{"Id": str(n), "ReceiptHandle": h, "VisibilityTimeout": 0} for n, h in enumerate(chunk)]
            self._sqs.change_message_visibility_batch(QueueUrl=self.source_url, Entries=entries)


def dead_letter_reason(message: dict) -> str:
    """The reason the batch sender wrote into the body, else its `reason` attribute, else none."""
    note = dead_letter_note(message["Body"])
    if isinstance(note.get("reason"), str) and note["reason"]:
        return note["reason"]
    attribute = (message.get("MessageAttributes") or {}).get("reason") or {}
    return attribute.get("StringValue") or NO_REASON
