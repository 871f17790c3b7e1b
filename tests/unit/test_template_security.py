"""template.yaml's security and operations settings: queue policies, blast radius, the API's perimeter,
data lifetime and the alarms, checked on the parsed template
(tests/integration/test_sam_tooling.py checks SAM's output)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from local.template import (
    function_environment,
    function_properties,
    parameter_default,
    resource_properties,
    resources_of_type,
)
from tests.support.docs import read_doc, section
from tests.support.repo import ROOT
from tests.support.template import load_template

QUEUES = ("EventsQueue", "DeadLetterQueue")
QUEUE_ARNS = [{"Fn::GetAtt": [queue, "Arn"]} for queue in QUEUES]
NO_VALUE = {"Ref": "AWS::NoValue"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def alarm(template: dict[str, Any], alarm_id: str) -> dict[str, Any]:
    assert template["Resources"][alarm_id]["Type"] == "AWS::CloudWatch::Alarm"
    return resource_properties(template, alarm_id)


# --- queue policy ----------------------------------------------------------------------------------------


def queue_policy_statements(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (policy_id,) = resources_of_type(template, "AWS::SQS::QueuePolicy")
    properties = resource_properties(template, policy_id)
    assert properties["Queues"] == [{"Ref": queue} for queue in QUEUES]
    return {statement["Sid"]: statement for statement in properties["PolicyDocument"]["Statement"]}


def test_queue_policy_denies_every_call_without_tls_on_both_queues(template):
    statement = queue_policy_statements(template)["DenyWithoutTls"]

    assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
    assert statement["Action"] == "sqs:*"
    assert statement["Resource"] == QUEUE_ARNS
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_queue_policy_lets_only_the_connector_roles_send(template):
    statement = queue_policy_statements(template)["SendOnlyFromTheConnector"]

    assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == QUEUE_ARNS
    assert statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] == [
        {"Fn::GetAtt": ["IngestFunctionRole", "Arn"]},
        {"Fn::GetAtt": ["BatchSenderFunctionRole", "Arn"]},
        {"Fn::If": ["HasQueueOperatorRole", {"Ref": "QueueOperatorRoleArn"}, NO_VALUE]},
    ]
    assert parameter_default(template, "QueueOperatorRoleArn") == ""


# --- blast radius ----------------------------------------------------------------------------------------


def test_ingest_concurrency_is_reserved_by_a_parameter_that_reserves_nothing_by_default(template):
    reserved = function_properties(template, "IngestFunction")["ReservedConcurrentExecutions"]

    assert reserved == {"Fn::If": ["ReserveIngestConcurrency", {"Ref": "IngestReservedConcurrency"}, NO_VALUE]}
    # 0 would throttle every call: the parameter's 0 means "no reservation" instead.
    assert template["Conditions"]["ReserveIngestConcurrency"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "IngestReservedConcurrency"}, 0]}]
    }
    # Lambda keeps 100 of an account's concurrency unreserved: a new account (quota 10) could not deploy.
    assert parameter_default(template, "IngestReservedConcurrency") == 0
    assert "ReservedConcurrentExecutions" not in function_properties(template, "BatchSenderFunction")


def test_operations_doc_documents_timeout_budget_and_concurrency_together():
    from connector.core.settings import DEFAULT_REALTIME_BUDGET_SECONDS

    security = section(read_doc("operations.md"), "# Security and operations")

    needed_terms = (
        "IngestReservedConcurrency",
        "29 s",
        "RealtimeBudgetSeconds",
        f"{DEFAULT_REALTIME_BUDGET_SECONDS} s",
    )
    for needed in (*needed_terms, "SenderMaxConcurrency"):
        assert needed in security, needed


# --- the API's perimeter -----------------------------------------------------------------------------------


def test_api_access_logs_go_to_a_log_group_with_retention(template):
    setting = resource_properties(template, "EventsApi")["AccessLogSetting"]
    log_group = resource_properties(template, "ApiAccessLogGroup")

    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    assert log_group["RetentionInDays"] == {"Ref": "LogRetentionInDays"}


def test_api_access_log_lines_never_hold_bodies_queries_or_the_key_value(template):
    log_format = resource_properties(template, "EventsApi")["AccessLogSetting"]["Format"]
    variables = set(re.findall(r"\$context\.[A-Za-z.]+", log_format))

    assert {"$context.requestId", "$context.status", "$context.identity.sourceIp"} <= variables
    # apiKey is the x-api-key value itself (apiKeyId is its id); path and querystring carry caller text.
    assert not variables & {"$context.identity.apiKey", "$input.body", "$context.path", "$context.querystring"}
    assert "$input" not in log_format


def test_access_logging_waits_for_the_account_logs_role_when_the_stack_creates_it(template):
    tags = resource_properties(template, "ApiAccessLogGroup")["Tags"]
    account = template["Resources"]["ApiGatewayAccount"]

    assert {
        "Key": "api-gateway-logs-role",
        "Value": {"Fn::If": ["CreateApiGatewayLogsRole", {"Ref": "ApiGatewayAccount"}, "existing"]},
    } in tags
    assert account["Condition"] == "CreateApiGatewayLogsRole"
    assert account["Properties"]["CloudWatchRoleArn"] == {"Fn::GetAtt": ["ApiGatewayCloudWatchRole", "Arn"]}
    assert template["Parameters"]["ApiGatewayLogsRole"]["AllowedValues"] == ["create", "existing"]


def test_waf_web_acl_is_optional_and_off_by_default(template):
    association = template["Resources"]["ApiWafAssociation"]

    assert parameter_default(template, "WafWebAclArn") == ""
    assert association["Condition"] == "HasWafWebAcl"
    assert association["Properties"]["WebACLArn"] == {"Ref": "WafWebAclArn"}
    assert "/stages/${EventsApiv1Stage}" in association["Properties"]["ResourceArn"]["Fn::Sub"]


@pytest.mark.parametrize(
    ("value", "ok"),
    [("", True), ("203.0.113.0/24", True), ("2001:db8::/32", True), ("203.0.113.7", False), ("any", False)],
)
def test_allowed_source_cidrs_take_cidr_ranges_only(template, value, ok):
    pattern = re.compile(template["Parameters"]["AllowedSourceCidrs"]["AllowedPattern"])

    assert bool(pattern.fullmatch(value)) is ok


def test_source_cidr_resource_policy_is_optional_and_off_by_default(template):
    policy = resource_properties(template, "EventsApi")["Auth"]["ResourcePolicy"]["CustomStatements"]
    condition, statements, otherwise = policy["Fn::If"]

    assert parameter_default(template, "AllowedSourceCidrs") == ""
    assert condition == "HasAllowedSourceCidrs"
    allow, deny = statements
    # Off: the one statement allows what no policy would allow (API keys still apply); never a Deny.
    assert otherwise == [allow]
    assert (allow["Effect"], allow["Action"]) == ("Allow", "execute-api:Invoke")
    assert (deny["Effect"], deny["Action"]) == ("Deny", "execute-api:Invoke")
    assert deny["Condition"] == {"NotIpAddress": {"aws:SourceIp": {"Ref": "AllowedSourceCidrs"}}}


# --- data lifetime ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("resource_id", ["OpenAIApiKeySecret", *QUEUES])
def test_secret_and_queues_survive_stack_deletion_and_replacement(template, resource_id):
    resource = template["Resources"][resource_id]

    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"


# --- alarms --------------------------------------------------------------------------------------------------


def test_every_alarm_uses_datapoints_to_alarm(template):
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")

    assert len(alarms) >= 8
    for alarm_id in alarms:
        properties = alarm(template, alarm_id)
        assert 1 <= properties["DatapointsToAlarm"] <= properties["EvaluationPeriods"], alarm_id
        assert properties["TreatMissingData"] == "notBreaching", alarm_id


def test_multi_period_alarms_fire_on_an_intermittent_fault(template):
    for alarm_id in ("Api5xxAlarm", "ThrottlesAlarm", "IngestErrorsAlarm", "BatchSenderErrorsAlarm"):
        properties = alarm(template, alarm_id)
        # M of N with M < N: failures in scattered periods alarm, not only N periods in a row.
        assert properties["DatapointsToAlarm"] < properties["EvaluationPeriods"], alarm_id


@pytest.mark.parametrize(
    ("alarm_id", "metric"), [("EventsNotQueuedAlarm", "EventsNotQueued"), ("UnexpectedErrorsAlarm", "UnexpectedErrors")]
)
def test_answered_failures_alarm_on_the_metrics_the_code_emits(template, alarm_id, metric):
    from connector.adapters.observability import STATUS_METRICS

    properties = alarm(template, alarm_id)
    environment = function_environment(template, "IngestFunction")
    emitted = set(STATUS_METRICS.values()) | set(
        re.findall(r'add_metric\(name="(\w+)"', (ROOT / "functions" / "ingest" / "app.py").read_text())
    )

    assert properties["MetricName"] == metric and metric in emitted
    assert properties["Namespace"] == environment["POWERTOOLS_METRICS_NAMESPACE"]
    # Powertools adds the service name as the `service` dimension of every metric.
    assert properties["Dimensions"] == [{"Name": "service", "Value": environment["POWERTOOLS_SERVICE_NAME"]}]
    assert (properties["Threshold"], properties["ComparisonOperator"]) == (0, "GreaterThanThreshold")


def test_api_5xx_alarm_names_the_api_and_its_stage(template):
    properties = alarm(template, "Api5xxAlarm")
    api = resource_properties(template, "EventsApi")

    assert (properties["Namespace"], properties["MetricName"]) == ("AWS/ApiGateway", "5XXError")
    assert properties["Dimensions"] == [
        {"Name": "ApiName", "Value": api["Name"]},
        {"Name": "Stage", "Value": api["StageName"]},
    ]


def test_throttles_alarm_sums_both_functions(template):
    metrics = {m["Id"]: m for m in alarm(template, "ThrottlesAlarm")["Metrics"]}
    functions = {
        m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"]
        for m in metrics.values()
        if "MetricStat" in m and m["MetricStat"]["Metric"]["MetricName"] == "Throttles"
    }

    assert functions == {"IngestFunction", "BatchSenderFunction"}
    (returned,) = [m for m in metrics.values() if m["ReturnData"]]
    assert set(re.findall(r"[a-z]+(?=,)", returned["Expression"])) == set(metrics) - {returned["Id"]}


def test_queue_age_and_dead_letter_depth_alarm(template):
    age, depth = alarm(template, "QueueAgeAlarm"), alarm(template, "DeadLetterAlarm")

    assert age["MetricName"] == "ApproximateAgeOfOldestMessage"
    assert age["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["EventsQueue", "QueueName"]}
    assert depth["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert depth["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}
