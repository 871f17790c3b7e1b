"""Metrics names and what each invocation reports. Counts only: no identifier ever becomes a dimension."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from connector.core.actions_change import ActionsChange
from connector.core.types import EventStatus, SendStats

#: Result status -> metric name.
STATUS_METRICS: dict[EventStatus, str] = {
    EventStatus.SENT: "EventsSent",
    EventStatus.VALIDATED: "EventsValidated",
    EventStatus.QUEUED: "EventsQueued",
    EventStatus.REJECTED: "EventsRejected",
    EventStatus.SKIPPED: "EventsSkipped",
    EventStatus.FAILED: "EventsNotQueued",
    EventStatus.RETRY: "EventsRetried",
    EventStatus.DEAD_LETTERED: "EventsDeadLettered",
}

#: Counted when a new actions document from SSM fails its checks and the last good one stays in use.
ACTIONS_REJECTED_METRIC = "ActionsConfigRejected"
#: Counted by each container that takes a changed actions document (from SSM) into use.
ACTIONS_CHANGED_METRIC = "ActionsConfigChanged"


def actions_rejected_reporter(logger: Logger, metrics: Metrics) -> Callable[[str], None]:
    """What a function does when a new SSM actions document is refused: log why, count it (it alarms)."""

    def report(problem: str) -> None:
        # The message names the action and the field, never a value (connector/core/actions.py).
        logger.error("actions document rejected; the last good one stays in use", extra={"problem": problem})
        metrics.add_metric(name=ACTIONS_REJECTED_METRIC, unit=MetricUnit.Count, value=1)

    return report


def actions_loaded_reporter(logger: Logger, metrics: Metrics) -> Callable[[ActionsChange], None]:
    """What a function does with each actions document it takes into use (connector/core/actions_change.py):
    the first one logged; a change logged with what it adds, removes and changes, and counted; Debug Mode
    warned of at every load, since OpenAI then validates the action's events and stores none."""

    def report(change: ActionsChange) -> None:
        # Action names and a digest only: the document holds attribute names, never personal data or keys.
        if change.is_first_load:
            logger.info("actions document loaded", extra={"digest": change.digest, "debug_actions": change.debug})
        else:
            logger.warning(
                "actions document changed",
                extra={
                    "digest": change.digest,
                    "previous_digest": change.previous_digest,
                    "added": change.added,
                    "removed": change.removed,
                    "changed": change.changed,
                    "debug_actions": change.debug,
                },
            )
            metrics.add_metric(name=ACTIONS_CHANGED_METRIC, unit=MetricUnit.Count, value=1)
        if change.debug:
            logger.warning(
                "actions in Debug Mode: OpenAI validates their events and stores none",
                extra={"digest": change.digest, "debug_actions": change.debug},
            )

    return report


def record_counts(metrics: Metrics, counts: Mapping[str, int], received: int) -> None:
    metrics.add_metric(name="EventsReceived", unit=MetricUnit.Count, value=received)
    for status, name in STATUS_METRICS.items():
        if counts.get(status):
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=counts[status])


def record_vendor_stats(metrics: Metrics, before: SendStats, after: SendStats) -> None:
    """The sender's counters are per container; report this invocation's share."""
    requests = after.requests - before.requests
    if requests:
        metrics.add_metric(name="VendorRequests", unit=MetricUnit.Count, value=requests)
    retries = after.retries - before.retries
    if retries:
        metrics.add_metric(name="VendorRetries", unit=MetricUnit.Count, value=retries)
    for status, count in after.statuses.items():
        delta = count - before.statuses.get(status, 0)
        if delta:
            metrics.add_metric(name=f"VendorStatus{status}", unit=MetricUnit.Count, value=delta)
