"""Running a trail query: CloudWatch Logs Insights over the stack's log groups, or the local runner's log file.

Both answer rows of fields, as Logs Insights does; the local file is queried with the same query text
through connector/core/insights.py, so `trace` and `report` mean the same locally and on AWS.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from connector.core import insights
from connector.core.trail import log_time

#: Stack outputs that name the functions' log groups (template.yaml).
LOG_GROUP_OUTPUTS = ("IngestLogGroupName", "BatchSenderLogGroupName")
#: Seconds a Logs Insights query may run before the command gives up.
QUERY_TIMEOUT_SECONDS = 120.0
#: Logs Insights' most rows per query.
MAX_ROWS = 10_000


class QueryError(Exception):
    """The query could not run; the message says why (exit 2)."""


class InsightsSource:
    """Logs Insights through boto3 (`logs` start_query / get_query_results)."""

    def __init__(
        self,
        logs_client,
        log_groups: list[str],
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._logs = logs_client
        self.log_groups = log_groups
        self._clock = clock or time.time
        self._sleep = sleep or time.sleep

    def run(self, query: str, since_seconds: int) -> list[dict[str, object]]:
        from botocore.exceptions import BotoCoreError, ClientError

        now = int(self._clock())
        try:
            query_id = self._logs.start_query(
                logGroupNames=self.log_groups,
                startTime=now - since_seconds,
                endTime=now + 60,
                queryString=query,
                limit=MAX_ROWS,
            )["queryId"]
            deadline = time.monotonic() + QUERY_TIMEOUT_SECONDS
            while True:
                answer = self._logs.get_query_results(queryId=query_id)
                status = answer.get("status")
                if status == "Complete":
                    return [_row(fields) for fields in answer.get("results", [])]
                if status in ("Failed", "Cancelled", "Timeout", "Unknown"):
                    raise QueryError(f"the Logs Insights query ended {status}")
                if time.monotonic() >= deadline:
                    raise QueryError(f"the Logs Insights query did not finish in {QUERY_TIMEOUT_SECONDS:g} s")
                self._sleep(1.0)
        except (BotoCoreError, ClientError) as err:
            raise QueryError(f"CloudWatch Logs: {err}") from None


def _row(fields: list[dict[str, str]]) -> dict[str, object]:
    row: dict[str, object] = {}
    for item in fields:
        value: object = item.get("value")
        if isinstance(value, str) and _is_number(value):
            value = float(value) if "." in value else int(value)
        row[item.get("field", "")] = value
    return row


def _is_number(text: str) -> bool:
    return text.replace(".", "", 1).lstrip("-").isdigit()


class LogFileSource:
    """The local runner's log (.local-state/functions.log): one JSON object a line; other lines are skipped."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock

    def run(self, query: str, since_seconds: int) -> list[dict[str, object]]:
        try:
            parsed = insights.parse(query)
        except insights.QuerySyntaxError as err:
            raise QueryError(f"the query does not parse: {err}") from None
        return parsed.run(self._lines(self._clock() - since_seconds))

    def _lines(self, since: float) -> list[dict[str, object]]:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except OSError as err:
            raise QueryError(f"cannot read {self.path}: {err.strerror}") from None
        lines = []
        for raw in text.splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            at = log_time(line.get("timestamp")) if isinstance(line, dict) else None
            if at is None or at < since:
                continue
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at)) + f".{int(at * 1000) % 1000:03d}"
            lines.append(line | {"@timestamp": stamp, "@message": raw})
        return lines


def trail_lines(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """Rows of a trace query -> the trail lines they hold (each row's @message, parsed)."""
    lines = []
    for row in rows:
        try:
            line = json.loads(str(row.get("@message")))
        except ValueError:
            continue
        if isinstance(line, dict):
            lines.append(line)
    return lines


def stack_log_groups(cloudformation_client, stack_name: str) -> list[str]:
    """The functions' log group names from the stack's outputs."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        stacks = cloudformation_client.describe_stacks(StackName=stack_name)["Stacks"]
    except (BotoCoreError, ClientError) as err:
        raise QueryError(f"CloudFormation, stack {stack_name}: {err}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in (stacks[0].get("Outputs") or [])} if stacks else {}
    missing = [name for name in LOG_GROUP_OUTPUTS if not outputs.get(name)]
    if missing:
        raise QueryError(f"stack {stack_name} has no output {', '.join(missing)} (deploy this version first)")
    return [outputs[name] for name in LOG_GROUP_OUTPUTS]
