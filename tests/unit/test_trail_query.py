"""`trace` and `report` against AWS, through fakes of the CloudWatch Logs and CloudFormation clients: the query
sent, the rows read back, the exit status; and redrive's trail lines into a log group."""

from __future__ import annotations

import io
import json

import boto3
import pytest
from botocore.exceptions import ClientError
from connector import cli
from connector.adapters.trail_log import LogGroupTrail, trail_line
from connector.adapters.trail_query import InsightsSource, QueryError, stack_log_groups, trail_lines
from connector.core.trail import trail_record

NOW = 1_795_000_000.0
GROUPS = ["/aws/lambda/ingest-log-group", "/aws/lambda/batch-log-group"]


def denied(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, operation)


class FakeLogs:
    """start_query / get_query_results (Running, then Complete), create_log_stream / put_log_events."""

    def __init__(self, lines: list[dict] | None = None, status: str = "Complete", error: Exception | None = None):
        self.lines = lines or []
        self.status = status
        self.error = error
        self.queries: list[dict] = []
        self.polls = 0
        self.streams: list[str] = []
        self.events: list[dict] = []

    def start_query(self, **kwargs) -> dict:
        if self.error:
            raise self.error
        self.queries.append(kwargs)
        return {"queryId": "q-1"}

    def get_query_results(self, queryId: str) -> dict:
        self.polls += 1
        if self.polls == 1:
            return {"status": "Running", "results": []}
        rows = [
            [{"field": "@timestamp", "value": line["timestamp"]}, {"field": "@message", "value": json.dumps(line)}]
            for line in self.lines
        ]
        return {"status": self.status, "results": rows}

    def create_log_stream(self, logGroupName: str, logStreamName: str) -> None:
        if self.error:
            raise self.error
        self.streams.append(f"{logGroupName}:{logStreamName}")

    def put_log_events(self, logGroupName: str, logStreamName: str, logEvents: list) -> None:
        self.events += logEvents


class FakeCloudFormation:
    def __init__(self, outputs: dict[str, str]) -> None:
        self.outputs = outputs

    def describe_stacks(self, StackName: str) -> dict:
        outputs = [{"OutputKey": key, "OutputValue": value} for key, value in self.outputs.items()]
        return {"Stacks": [{"StackName": StackName, "Outputs": outputs}]}


def sent_line() -> dict:
    record = trail_record("ingest", "sent", "purchase", {"id": "ORD-1", "type": "order_created"}, http_status=200)
    return json.loads(trail_line(record, NOW))


def test_insights_reads_both_log_groups_over_the_period_asked_for():
    logs = FakeLogs([sent_line()])
    rows = InsightsSource(logs, GROUPS, clock=lambda: NOW, sleep=lambda s: None).run("fields @message", 86400)
    (query,) = logs.queries
    assert query["logGroupNames"] == GROUPS and query["startTime"] == NOW - 86400
    assert query["queryString"] == "fields @message"
    assert [line["event_id"] for line in trail_lines(rows)] == ["ORD-1"]


@pytest.mark.parametrize(
    "logs, problem",
    [
        (FakeLogs(status="Failed"), "the Logs Insights query ended Failed"),
        (FakeLogs(error=denied("StartQuery")), "CloudWatch Logs: An error occurred (AccessDeniedException)"),
    ],
)
def test_a_query_that_cannot_run_says_why(logs, problem):
    with pytest.raises(QueryError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        InsightsSource(logs, GROUPS, sleep=lambda s: None).run("fields @message", 60)


def test_the_stacks_outputs_name_the_log_groups():
    outputs = {"IngestLogGroupName": GROUPS[0], "BatchSenderLogGroupName": GROUPS[1], "ApiUrl": "https://x"}
    assert stack_log_groups(FakeCloudFormation(outputs), "my-stack") == GROUPS
    with pytest.raises(QueryError, match="stack old-stack has no output IngestLogGroupName, BatchSenderLogGroupName"):
        stack_log_groups(FakeCloudFormation({}), "old-stack")


def run_cli(monkeypatch, logs: FakeLogs, *argv: str) -> tuple[int, str]:
    monkeypatch.setenv("CONNECTOR_LOG_GROUPS", ",".join(GROUPS))
    monkeypatch.delenv("CONNECTOR_LOG_FILE", raising=False)
    monkeypatch.setattr(boto3, "client", lambda name, **kwargs: logs)
    monkeypatch.setattr("connector.adapters.trail_query.time.sleep", lambda seconds: None)
    out = io.StringIO()
    return cli.main(list(argv), out), out.getvalue()


def test_trace_on_aws_prints_the_journey_and_exits_0_found_1_not_found(monkeypatch):
    code, text = run_cli(monkeypatch, FakeLogs([sent_line()]), "trace", "ORD-1", "--since", "2h")
    assert code == 0
    assert text.splitlines()[-1] == "now: at OpenAI (HTTP 200)"
    code, text = run_cli(monkeypatch, FakeLogs([]), "trace", "ORD-2")
    assert (code, text) == (1, "ORD-2: never arrived: no trail line names this id in the last 24h\n")


def test_trace_exits_2_when_the_query_cannot_run(monkeypatch, capsys):
    code, text = run_cli(monkeypatch, FakeLogs(error=denied("StartQuery")), "trace", "ORD-1")
    assert (code, text) == (2, "")
    assert capsys.readouterr().err.startswith("trace: CloudWatch Logs: An error occurred (AccessDeniedException)")


def test_trace_quotes_the_id_it_looks_for(monkeypatch):
    logs = FakeLogs([])
    run_cli(monkeypatch, logs, "trace", 'ORD-1" or event_id = "ORD-2', "--action", "purchase")
    (query,) = logs.queries
    assert 'event_id = "ORD-1\\" or event_id = \\"ORD-2" and action = "purchase"' in query["queryString"]


def test_report_on_aws_runs_the_dashboards_queries(monkeypatch):
    logs = FakeLogs([])
    code, text = run_cli(monkeypatch, logs, "report", "--since", "7d")
    assert code == 0 and text.startswith("Match quality in the last 7d")
    assert [q["endTime"] - q["startTime"] for q in logs.queries] == [7 * 86400 + 60] * 4
    assert all("stats" in q["queryString"] for q in logs.queries)


def test_redrive_writes_its_trail_lines_into_a_log_group_stream_of_its_own():
    logs, problems = FakeLogs(), []
    trail = LogGroupTrail(logs, GROUPS[1], problems.append, clock=lambda: NOW)
    trail.write(trail_record("redrive", "moved", "purchase", {"id": "ORD-1", "type": "order_created"}))
    trail.flush()
    (stream,) = logs.streams
    assert stream.startswith(f"{GROUPS[1]}:redrive/")
    (event,) = logs.events
    assert event["timestamp"] == NOW * 1000 and json.loads(event["message"])["outcome"] == "moved"
    assert problems == []


def test_a_trail_that_cannot_be_written_is_reported_not_raised():
    problems = []
    trail = LogGroupTrail(FakeLogs(error=denied("CreateLogStream")), GROUPS[1], problems.append)
    trail.write(trail_record("redrive", "moved", "purchase", {"id": "ORD-1"}))
    trail.flush()
    assert len(problems) == 1 and problems[0].startswith(f"the trail of 1 event(s) could not be written to {GROUPS[1]}")
