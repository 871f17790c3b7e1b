"""The operators' block of template.yaml: the dashboard (metric names the code emits), actions from Parameter Store."""

from __future__ import annotations

import json
import re

import pytest
from connector.adapters import observability

from local.template import function_environment
from tests.support.repo import ROOT

SOURCES = [*(ROOT / "layers" / "connector" / "connector").rglob("*.py"), *(ROOT / "functions").glob("*/app.py")]
HANDLERS = [ROOT / "functions" / "ingest" / "app.py", ROOT / "functions" / "batch_sender" / "app.py"]
SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def dashboard(template: dict) -> dict:
    body = template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    text, variables = body
    return json.loads(SUB_VARIABLE.sub(lambda m: str(variables.get(m.group(1), f"<{m.group(1)}>")), text))


def metric_rows(template: dict) -> list[tuple[str, list[str]]]:
    """(widget title, [namespace, metric, dim, value, ...]) with the "." shorthand expanded."""
    rows = []
    for widget in dashboard(template)["widgets"]:
        if widget["type"] != "metric":
            continue
        previous: list[str] = []
        for row in widget["properties"]["metrics"]:
            values = [value for value in row if isinstance(value, str)]
            values = [previous[n] if value == "." else value for n, value in enumerate(values)]
            rows.append((widget["properties"]["title"], values))
            previous = values
    return rows


def emitted_metric_names() -> set[str]:
    """Every metric name the code adds: literal names in add_metric calls and the observability tables."""
    names = set(observability.STATUS_METRICS.values()) | {
        observability.ACTIONS_REJECTED_METRIC,
        observability.ACTIONS_CHANGED_METRIC,
    }
    for path in SOURCES:
        names |= set(re.findall(r'add_metric\(\s*name="(\w+)"', path.read_text()))
    return names


def test_dashboard_shows_what_an_operator_asks_for(template):
    titles = [widget["properties"]["title"] for widget in dashboard(template)["widgets"]]

    assert titles == [
        "Events by status",
        "OpenAI answers by status code",
        "Retries",
        "Events queue: depth and oldest message age",
        "Dead-letter queue depth",
        "Cold starts",
        "Configuration and unexpected errors",
        # Logs Insights over the event trail (tests/unit/test_trail_dashboard.py)
        "Match keys: share of sent events carrying each, per action",
        "Sent without a strong key (oppref, email, phone, external id), per action",
        "Rejected and dead-lettered events by field",
        "Warnings: an action sends events OpenAI can hardly attribute (per container)",
    ]


def test_dashboard_uses_the_functions_namespace_and_service(template):
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    own = [values for _, values in metric_rows(template) if not values[0].startswith("AWS/")]

    assert own
    for values in own:
        assert values[0] == variables["POWERTOOLS_METRICS_NAMESPACE"]
        dimensions = dict(zip(values[2::2], values[3::2], strict=True))
        assert dimensions["service"] == variables["POWERTOOLS_SERVICE_NAME"]


def test_every_connector_metric_on_the_dashboard_is_one_the_code_emits(template):
    emitted = emitted_metric_names()
    observability_source = (ROOT / "layers/connector/connector/adapters/observability.py").read_text()
    vendor_status = 'name=f"VendorStatus{status}"' in observability_source
    cold_starts = all("capture_cold_start_metric=True" in path.read_text() for path in HANDLERS)

    for title, values in metric_rows(template):
        if values[0].startswith("AWS/"):
            continue
        name = values[1]
        if name.startswith("VendorStatus"):
            assert vendor_status and re.fullmatch(r"[1-5]\d\d", name.removeprefix("VendorStatus")), (title, name)
        elif name == "ColdStart":
            assert cold_starts, "Powertools emits ColdStart only with capture_cold_start_metric=True"
        else:
            assert name in emitted, (title, name)


def test_every_event_status_metric_is_on_the_dashboard(template):
    shown = {values[1] for title, values in metric_rows(template) if title in ("Events by status", "Retries")}

    assert set(observability.STATUS_METRICS.values()) | {"EventsReceived"} <= shown


def test_queue_widgets_watch_the_template_queues(template):
    rows = {(title, values[1]): values for title, values in metric_rows(template) if values[0] == "AWS/SQS"}

    assert rows[("Events queue: depth and oldest message age", "ApproximateNumberOfMessagesVisible")][3] == (
        "<EventsQueue.QueueName>"
    )
    assert rows[("Events queue: depth and oldest message age", "ApproximateAgeOfOldestMessage")][3] == (
        "<EventsQueue.QueueName>"
    )
    assert rows[("Dead-letter queue depth", "ApproximateNumberOfMessagesVisible")][3] == "<DeadLetterQueue.QueueName>"


def test_cold_starts_are_shown_per_function(template):
    functions = {values[3] for title, values in metric_rows(template) if title == "Cold starts"}

    assert functions == {"<IngestFunction>", "<BatchSenderFunction>"}


# ---- actions from Parameter Store ----------------------------------------------------------------------


@pytest.mark.parametrize("function_id", ["IngestFunction", "BatchSenderFunction"])
def test_actions_parameter_is_off_by_default_and_becomes_actions_config(template, function_id):
    variables = function_environment(template, function_id)

    assert template["Parameters"]["ActionsParameterName"]["Default"] == ""
    assert variables["ACTIONS_CONFIG"] == {
        "Fn::If": [
            "HasActionsParameter",
            {
                "Fn::If": [
                    "CreateActionsParameter",
                    {"Fn::Sub": "ssm:${ActionsParameter}"},
                    {"Fn::Sub": "ssm:${ActionsParameterName}"},
                ]
            },
            {"Ref": "AWS::NoValue"},
        ]
    }
    assert variables["ACTIONS_MAX_AGE_SECONDS"] == {"Ref": "ActionsMaxAgeSeconds"}


@pytest.mark.parametrize(
    "name, allowed", [("", True), ("/openai-events/actions", True), ("actions", False), ("/a b", False)]
)
def test_actions_parameter_name_must_start_with_a_slash(template, name, allowed):
    pattern = re.compile(template["Parameters"]["ActionsParameterName"]["AllowedPattern"])

    assert bool(pattern.fullmatch(name)) is allowed


def test_functions_may_read_only_that_parameter_and_only_when_it_is_set(template):
    for role in ("IngestFunctionRole", "BatchSenderFunctionRole"):
        (policy,) = template["Resources"][role]["Properties"]["Policies"]
        conditional = [s["Fn::If"] for s in policy["PolicyDocument"]["Statement"] if "Fn::If" in s]
        [(_, statement, otherwise)] = [c for c in conditional if c[0] == "HasActionsParameter"]

        assert otherwise == {"Ref": "AWS::NoValue"}
        assert statement["Action"] == "ssm:GetParameter"
        assert statement["Resource"] == {
            "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${ActionsParameterName}"
        }


def test_a_changed_actions_document_alarms(template):
    alarm = template["Resources"]["ActionsChangedAlarm"]

    assert alarm["Condition"] == "HasActionsParameter"
    assert alarm["Properties"]["MetricName"] == observability.ACTIONS_CHANGED_METRIC
    assert alarm["Properties"]["Threshold"] == 0
    assert alarm["Properties"]["ComparisonOperator"] == "GreaterThanThreshold"
    shown = {values[1] for title, values in metric_rows(template) if title == "Configuration and unexpected errors"}
    assert observability.ACTIONS_CHANGED_METRIC in shown


def test_a_rejected_actions_document_alarms(template):
    alarm = template["Resources"]["ActionsRejectedAlarm"]["Properties"]

    assert alarm["MetricName"] == observability.ACTIONS_REJECTED_METRIC
    assert (
        alarm["Namespace"]
        == template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    )
    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
