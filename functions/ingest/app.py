"""API Gateway `POST /actions/{action}` -> the ingest service -> one result per event."""

from __future__ import annotations

import json
import os
from pathlib import Path

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from connector.adapters.observability import (
    actions_loaded_reporter,
    actions_rejected_reporter,
    record_counts,
    record_vendor_stats,
)
from connector.adapters.tracing import build_tracer
from connector.wiring import build_ingest_service

logger = Logger()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "OpenAIEventsConnector"))
tracer = build_tracer()
app = APIGatewayRestResolver()


service = build_ingest_service(
    default_actions=Path(__file__).with_name("actions.json"),
    on_actions_rejected=actions_rejected_reporter(logger, metrics),
    on_actions_loaded=actions_loaded_reporter(logger, metrics),
    logger=logger,  # writes the event trail (EVENT_TRAIL)
)


# Not wrapped in tracer.capture_method: it logs any exception with its message and traceback,
# and a message may quote the payload. The handler's own segment covers the route.
@app.post("/actions/<action>")
def ingest(action: str) -> Response:
    request = app.current_event
    before = service.sender.stats.snapshot()
    answer = service.handle(
        action,
        request.body,
        next((value for name, value in request.headers.items() if name.lower() == "content-type"), None),
        request.query_string_parameters,
        base64_encoded=request.is_base64_encoded,
    )
    record_counts(metrics, answer.counts, received=answer.counts.total())
    record_vendor_stats(metrics, before, service.sender.stats)
    # The path is the caller's text: it reaches the log only when it names a configured action.
    logged_action = action if action in service.actions else None
    logger.info("ingest done", extra={"action": logged_action, "status_code": answer.status_code, **answer.counts})
    return Response(answer.status_code, content_types.APPLICATION_JSON, json.dumps(answer.body))


@app.not_found
def no_such_route(error: Exception) -> Response:
    # An action name the router's pattern cannot match (a space, a control or non-ASCII character) is
    # an unknown action too. Without this handler the catch-all below would answer it with a 500.
    configured = ", ".join(sorted(service.actions))
    body = {"errors": [{"field": "action", "reason": f"unknown action; configured: {configured}"}], "results": []}
    return Response(404, content_types.APPLICATION_JSON, json.dumps(body))


@app.exception_handler(Exception)
def unexpected_error(error: Exception) -> Response:
    # The type only: a message or traceback could quote the payload.
    logger.error("unexpected error", extra={"error_type": type(error).__name__})
    metrics.add_metric(name="UnexpectedErrors", unit=MetricUnit.Count, value=1)
    body = {"errors": [{"field": "request", "reason": "internal error; sending it again is safe"}], "results": []}
    return Response(500, content_types.APPLICATION_JSON, json.dumps(body))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict, context) -> dict:
    return app.resolve(event, context)
