"""SQS batch -> the batch sender -> `batchItemFailures` for exactly the records to retry."""

from __future__ import annotations

import os
import time
from pathlib import Path

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.data_classes import SQSEvent
from connector.adapters.observability import (
    actions_loaded_reporter,
    actions_rejected_reporter,
    record_counts,
    record_vendor_stats,
)
from connector.adapters.tracing import build_tracer
from connector.services.batch import Record
from connector.wiring import build_batch_service

#: Seconds kept back from the function timeout for dead-lettering and the answer.
RESERVE_SECONDS = 15

logger = Logger()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "OpenAIEventsConnector"))
tracer = build_tracer()
# The same bundled actions document as ingest's (actions.json here links to functions/ingest/actions.json),
# or what ACTIONS_CONFIG names (a file, or ssm:/name): a queued event goes where its action's configuration says.
service = build_batch_service(
    default_actions=Path(__file__).with_name("actions.json"),
    on_actions_rejected=actions_rejected_reporter(logger, metrics),
    on_actions_loaded=actions_loaded_reporter(logger, metrics),
    logger=logger,  # writes the event trail (EVENT_TRAIL)
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context) -> dict:
    records = [
        Record(r.message_id, r.body, int(r.attributes.approximate_receive_count or 1)) for r in SQSEvent(event).records
    ]
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - RESERVE_SECONDS
    before = service.sender.stats.snapshot()
    report = service.handle(records, deadline)
    record_counts(metrics, report.counts, received=len(records))
    record_vendor_stats(metrics, before, service.sender.stats)
    logger.info("batch done", extra={"records": len(records), **report.counts})
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in report.failed_message_ids]}
