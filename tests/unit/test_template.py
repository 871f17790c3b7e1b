"""The rules of template.yaml that users and the code rely on, checked on the parsed template."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from local.template import (
    TEMPLATE_PATH,
    event_source_settings,
    function_environment,
    function_properties,
    parameter_default,
    queue_properties,
    redrive_target,
    resource_properties,
    resources_of_type,
    sub_variables,
)
from tests.support.template import load_template

FUNCTIONS = ("IngestFunction", "BatchSenderFunction")
QUEUES = ("EventsQueue", "DeadLetterQueue")

#: SQS allows at most this many messages per batch for a standard queue.
SQS_MAX_BATCH_SIZE = 10_000
#: API Gateway's REST integration timeout, in seconds.
API_GATEWAY_TIMEOUT = 29
#: The references a GetSecretValue statement may name: the main secret (created or existing) and overrides.
SECRET_REFERENCES = {"OpenAIApiKeySecret", "ExistingApiKeySecretArn", "ExtraApiKeySecretArns"}

SETTINGS_VARIABLES = (
    "PIXEL_ID",
    "DEFAULT_ACTION_SOURCE",
    "BASE_URL",
    "API_KEY_SECRET_ID",
    "QUEUE_URL",
    "INTEGRATION_SOURCE",
)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


# --- helpers -----------------------------------------------------------------------------------------


def walk(value: Any) -> Iterator[Any]:
    """Every node of a nested structure, depth first."""
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def refs_in(value: Any) -> set[str]:
    """Names referenced by Ref, GetAtt or ${...} in Sub strings."""
    names: set[str] = set()
    for node in walk(value):
        if isinstance(node, dict):
            if "Ref" in node:
                names.add(node["Ref"])
            if "Fn::GetAtt" in node:
                names.add(node["Fn::GetAtt"][0])
            if "Fn::Sub" in node:
                text = node["Fn::Sub"] if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"][0]
                local = {} if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"][1]
                names |= {name.split(".")[0] for name in sub_variables(text) if name not in local}
    return names


def strings_in(value: Any) -> list[str]:
    return [node for node in walk(value) if isinstance(node, str)]


def role_id(template: dict[str, Any], function_id: str) -> str:
    """The logical id of the IAM role a function names (`Role: !GetAtt <Role>.Arn`)."""
    role = function_properties(template, function_id)["Role"]
    assert role["Fn::GetAtt"][1] == "Arn", function_id
    return role["Fn::GetAtt"][0]


def unless_novalue(node: Any) -> Any:
    """A statement under `!If [condition, statement, !Ref AWS::NoValue]`: the statement (the worst case)."""
    if isinstance(node, dict) and "Fn::If" in node and node["Fn::If"][2] == {"Ref": "AWS::NoValue"}:
        return node["Fn::If"][1]
    return node


def role_statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """The statements of an IAM role's inline policies (its trust policy excluded)."""
    statements = []
    for policy in resource_properties(template, role).get("Policies", []):
        statements.extend(unless_novalue(s) for s in policy["PolicyDocument"]["Statement"])
    return statements


def inline_statements(template: dict[str, Any], function_id: str) -> list[dict[str, Any]]:
    return role_statements(template, role_id(template, function_id))


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def all_policy_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every IAM statement written in the template: functions' inline policies and IAM resources."""
    for function_id in resources_of_type(template, "AWS::Serverless::Function"):
        for statement in inline_statements(template, function_id):
            yield function_id, statement
    for logical_id, resource in template["Resources"].items():
        if resource["Type"].startswith("AWS::IAM::"):
            # The trust policy names who may assume the role, not what it may do: not walked.
            properties = {k: v for k, v in resource.get("Properties", {}).items() if k != "AssumeRolePolicyDocument"}
            for node in walk(properties):
                if isinstance(node, dict) and "Effect" in node:
                    yield logical_id, node


def statements_with(template: dict[str, Any], function_id: str, action: str) -> list[dict[str, Any]]:
    return [s for s in inline_statements(template, function_id) if action in as_list(s["Action"])]


def pattern_of(template: dict[str, Any], parameter: str) -> re.Pattern[str]:
    # CloudFormation matches AllowedPattern against the whole value, hence fullmatch below.
    return re.compile(template["Parameters"][parameter]["AllowedPattern"])


def sender_timeout(template: dict[str, Any]) -> int:
    return function_properties(template, "BatchSenderFunction")["Timeout"]


# --- runtime, layer, handlers --------------------------------------------------------------------------


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_functions_run_python313_on_arm64_with_active_tracing(template, function_id):
    properties = function_properties(template, function_id)

    assert properties["Runtime"] == "python3.13"
    assert properties["Architectures"] == ["arm64"]
    assert properties["Tracing"] == "Active"


def test_function_memory_defaults_to_512_mb(template):
    memory = template["Globals"]["Function"]["MemorySize"]

    assert memory == {"Ref": "FunctionMemorySize"}
    assert parameter_default(template, "FunctionMemorySize") == 512


def test_powertools_environment_is_set_for_every_function(template):
    variables = template["Globals"]["Function"]["Environment"]["Variables"]

    assert variables["POWERTOOLS_SERVICE_NAME"]
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "OpenAIEventsConnector"
    assert variables["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}
    assert template["Parameters"]["LogLevel"]["AllowedValues"] == ["DEBUG", "INFO", "WARNING", "ERROR"]


def test_layer_is_built_by_sam_with_python313_for_arm64(template):
    layer = template["Resources"]["ConnectorLayer"]

    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    # Was python3.13: SAM's python builder fetches arm64 wheels by name and version, unchecked; the layer's
    # Makefile installs the hash-pinned lock for Python 3.13 on arm64 (tests/integration/test_supply_chain.py).
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Metadata"]["BuildArchitecture"] == "arm64"
    assert layer["Properties"]["ContentUri"] == "layers/connector/"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


def test_tracing_keeps_the_xray_sdk_out_of_cold_starts_unless_asked_for(template):
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    sdk_layer = template["Resources"]["XRaySdkLayer"]

    assert parameter_default(template, "XRaySdkTracing") == "false"
    assert template["Conditions"]["UseXRaySdk"] == {"Fn::Equals": [{"Ref": "XRaySdkTracing"}, "true"]}
    assert variables["POWERTOOLS_TRACE_DISABLED"] == {"Fn::If": ["UseXRaySdk", "false", "true"]}
    assert sdk_layer["Condition"] == "UseXRaySdk"
    assert sdk_layer["Properties"]["ContentUri"] == "layers/xray/"
    assert sdk_layer["Metadata"] == template["Resources"]["ConnectorLayer"]["Metadata"]


def test_connector_layer_leaves_the_xray_sdk_to_its_own_layer():
    layers = TEMPLATE_PATH.parent / "layers"

    assert "aws-xray-sdk" not in (layers / "connector" / "requirements.txt").read_text()
    assert "[tracer]" not in (layers / "connector" / "requirements.txt").read_text()
    assert "aws-xray-sdk" in (layers / "xray" / "requirements.txt").read_text()


def test_layer_folder_holds_its_requirements():
    requirements = (TEMPLATE_PATH.parent / "layers" / "connector" / "requirements.txt").read_text()

    assert "aws-lambda-powertools" in requirements
    assert "urllib3" in requirements


@pytest.mark.parametrize(
    ("function_id", "code_uri"),
    [("IngestFunction", "functions/ingest/"), ("BatchSenderFunction", "functions/batch_sender/")],
)
def test_handlers_are_app_lambda_handler_in_their_folders(template, function_id, code_uri):
    properties = function_properties(template, function_id)

    assert properties["Handler"] == "app.lambda_handler"
    assert properties["CodeUri"] == code_uri
    assert properties["Layers"] == [
        {"Ref": "ConnectorLayer"},
        {"Fn::If": ["UseXRaySdk", {"Ref": "XRaySdkLayer"}, {"Ref": "AWS::NoValue"}]},
    ]


# --- settings ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_every_function_gets_the_connector_settings(template, function_id):
    variables = function_environment(template, function_id)

    assert set(SETTINGS_VARIABLES) <= set(variables)


@pytest.mark.parametrize(
    ("variable", "parameter"),
    [
        ("PIXEL_ID", "PixelId"),
        ("DEFAULT_ACTION_SOURCE", "DefaultActionSource"),
        ("BASE_URL", "BaseUrl"),
        ("INTEGRATION_SOURCE", "IntegrationSource"),
    ],
)
def test_settings_come_from_parameters(template, variable, parameter):
    for function_id in FUNCTIONS:
        assert function_environment(template, function_id)[variable] == {"Ref": parameter}


def test_queue_url_is_the_events_queue(template):
    for function_id in FUNCTIONS:
        assert function_environment(template, function_id)["QUEUE_URL"] == {"Ref": "EventsQueue"}


def test_batch_sender_knows_the_dead_letter_queue(template):
    variables = function_environment(template, "BatchSenderFunction")

    assert variables["DEAD_LETTER_QUEUE_URL"] == {"Ref": "DeadLetterQueue"}


def test_api_key_secret_id_is_the_created_or_existing_secret(template):
    secret_id = function_environment(template, "IngestFunction")["API_KEY_SECRET_ID"]

    assert secret_id == {
        "Fn::If": ["CreateApiKeySecret", {"Ref": "OpenAIApiKeySecret"}, {"Ref": "ExistingApiKeySecretArn"}]
    }


def test_secret_is_created_only_when_no_existing_arn_is_given(template):
    assert template["Resources"]["OpenAIApiKeySecret"]["Condition"] == "CreateApiKeySecret"
    assert template["Conditions"]["CreateApiKeySecret"] == {"Fn::Equals": [{"Ref": "ExistingApiKeySecretArn"}, ""]}
    assert parameter_default(template, "ExistingApiKeySecretArn") == ""


# --- parameters ----------------------------------------------------------------------------------------


def test_default_action_source_allows_exactly_the_seven_sources(template):
    parameter = template["Parameters"]["DefaultActionSource"]

    assert sorted(parameter["AllowedValues"]) == sorted(
        ["web", "mobile_app", "offline", "physical_store", "phone_call", "email", "other"]
    )
    assert parameter["Default"] == "web"


@pytest.mark.parametrize(
    "url",
    ["https://bzr.openai.com", "https://bzr.openai.com/", "https://staging.bzr.openai.com:8443/sandbox"],
)
def test_base_url_pattern_accepts_https(template, url):
    assert pattern_of(template, "BaseUrl").fullmatch(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://bzr.openai.com",
        "HTTP://bzr.openai.com",
        "ftp://bzr.openai.com",
        "bzr.openai.com",
        "https://",
        "https://bzr.openai.com?pid=1",
        "https://bzr.openai.com#x",
        " https://bzr.openai.com",
        "",
    ],
)
def test_base_url_pattern_rejects_anything_but_https(template, url):
    assert not pattern_of(template, "BaseUrl").fullmatch(url)


def test_base_url_defaults_to_openai(template):
    assert parameter_default(template, "BaseUrl") == "https://bzr.openai.com"


def test_geo_format_is_gone(template):
    # OpenAI takes geo values raw only; settings.py refuses a GEO_FORMAT left set by hand.
    assert "GeoFormat" not in template["Parameters"]
    for function_id in FUNCTIONS:
        assert "GEO_FORMAT" not in function_environment(template, function_id)


def test_integration_source_defaults_to_this_project_and_matches_what_settings_accept(template):
    from connector.core.settings import DEFAULT_INTEGRATION_SOURCE, Settings

    parameter = template["Parameters"]["IntegrationSource"]
    assert parameter["Default"] == DEFAULT_INTEGRATION_SOURCE
    pattern = re.compile(parameter["AllowedPattern"])
    for value in ("", DEFAULT_INTEGRATION_SOURCE, "a", "A" * 64, "x.y_z-1"):
        assert pattern.fullmatch(value)
        Settings.from_env({"INTEGRATION_SOURCE": value})  # the template's values start the functions
    for value in ("-a", "a b", "A" * 65, "é"):
        assert not pattern.fullmatch(value)


def test_the_realtime_budget_is_a_parameter_the_ingest_function_reads_with_the_settings_bounds(template):
    from connector.core.settings import DEFAULT_REALTIME_BUDGET_SECONDS, MAX_REALTIME_BUDGET_SECONDS, Settings

    parameter = template["Parameters"]["RealtimeBudgetSeconds"]
    assert function_environment(template, "IngestFunction")["REALTIME_BUDGET_SECONDS"] == {
        "Ref": "RealtimeBudgetSeconds"
    }
    # The default answers within Tealium's longest webhook timeout (10 s); the bounds are the settings' own.
    assert parameter["Default"] == DEFAULT_REALTIME_BUDGET_SECONDS < 10
    assert (parameter["MinValue"], parameter["MaxValue"]) == (1, MAX_REALTIME_BUDGET_SECONDS)
    assert function_properties(template, "IngestFunction")["Timeout"] > MAX_REALTIME_BUDGET_SECONDS
    for value in (parameter["MinValue"], parameter["Default"], parameter["MaxValue"]):
        assert Settings.from_env({"REALTIME_BUDGET_SECONDS": str(value)}).realtime_budget_seconds == value


def test_pixel_id_is_required(template):
    parameter = template["Parameters"]["PixelId"]

    assert "Default" not in parameter
    assert not pattern_of(template, "PixelId").fullmatch("")
    assert not pattern_of(template, "PixelId").fullmatch("abc def")
    assert pattern_of(template, "PixelId").fullmatch("px_0123456789abcdef")


@pytest.mark.parametrize("parameter", ["ExistingApiKeySecretArn", "ExtraApiKeySecretArns"])
def test_secret_arn_parameters_take_only_full_secret_arns(template, parameter):
    pattern = pattern_of(template, parameter)

    assert pattern.fullmatch("")
    assert pattern.fullmatch("arn:aws:secretsmanager:eu-west-1:123456789012:secret:openai/key-AbCdEf")
    assert not pattern.fullmatch("arn:aws:secretsmanager:eu-west-1:123456789012:secret:*")
    assert not pattern.fullmatch("*")
    assert not pattern.fullmatch("sk-not-an-arn")


def test_every_parameter_default_satisfies_its_own_constraints(template):
    for name, parameter in template["Parameters"].items():
        if "Default" not in parameter:
            continue
        default = parameter["Default"]
        if "AllowedPattern" in parameter:
            values = str(default).split(",") if parameter["Type"] == "CommaDelimitedList" else [str(default)]
            for value in values:
                assert re.fullmatch(parameter["AllowedPattern"], value), name
        if "AllowedValues" in parameter:
            assert default in parameter["AllowedValues"], name
        if "MinValue" in parameter:
            assert default >= parameter["MinValue"], name
        if "MaxValue" in parameter:
            assert default <= parameter["MaxValue"], name


# --- batching through SQS --------------------------------------------------------------------------------


def test_sender_reads_the_events_queue(template):
    assert event_source_settings(template)["Queue"] == "EventsQueue"


def test_batch_size_is_1000_within_the_sqs_limit(template):
    batch_size = event_source_settings(template)["BatchSize"]

    assert batch_size == 1000
    assert batch_size <= SQS_MAX_BATCH_SIZE


def test_batching_window_is_5_minutes(template):
    # Without an explicit window SQS batches larger than 10 are refused, and the seed waits up to 5 min.
    assert event_source_settings(template)["MaximumBatchingWindowInSeconds"] == 300


def test_sender_reports_batch_item_failures(template):
    assert event_source_settings(template)["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_sender_concurrency_is_capped_by_a_parameter_of_at_least_2(template):
    source = function_properties(template, "BatchSenderFunction")["Events"]["EventsQueueBatch"]

    assert source["Properties"]["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "SenderMaxConcurrency"}
    assert template["Parameters"]["SenderMaxConcurrency"]["MinValue"] == 2  # SQS's own minimum


def test_visibility_timeout_is_at_least_six_times_the_sender_timeout(template):
    # AWS Lambda guide, "Configuring a queue to use with Lambda".
    assert queue_properties(template, "EventsQueue")["VisibilityTimeout"] >= 6 * sender_timeout(template)


def test_visibility_timeout_covers_the_batching_window_plus_the_sender_timeout(template):
    window = event_source_settings(template)["MaximumBatchingWindowInSeconds"]

    assert queue_properties(template, "EventsQueue")["VisibilityTimeout"] >= window + sender_timeout(template)


def test_visibility_timeout_is_at_most_12_hours(template):
    assert queue_properties(template, "EventsQueue")["VisibilityTimeout"] <= 43_200


def test_events_queue_redrives_to_the_dead_letter_queue(template):
    assert redrive_target(template, "EventsQueue") == ("DeadLetterQueue", 5)


def test_events_queue_keeps_messages_at_least_4_days(template):
    assert queue_properties(template, "EventsQueue")["MessageRetentionPeriod"] >= 4 * 24 * 3600


def test_dead_letter_queue_keeps_messages_no_longer_than_openais_7_days_by_default(template):
    # Was 14 days: an event older than 7 days can no longer be sent, so keeping it only keeps personal data.
    assert queue_properties(template, "DeadLetterQueue")["MessageRetentionPeriod"] == {
        "Ref": "DeadLetterRetentionSeconds"
    }
    assert 0 < parameter_default(template, "DeadLetterRetentionSeconds") <= 7 * 24 * 3600
    assert template["Parameters"]["DeadLetterRetentionSeconds"]["MaxValue"] <= 14 * 24 * 3600
    # SQS ages a message moved by the redrive from its first enqueue: a shorter DLQ would expire it at once.
    minimum = template["Parameters"]["DeadLetterRetentionSeconds"]["MinValue"]
    assert minimum >= queue_properties(template, "EventsQueue")["MessageRetentionPeriod"]


# The dead-letter queue's redrive allow policy and the queues' names: tests/unit/test_template_deploy.py.


@pytest.mark.parametrize("queue_id", QUEUES)
def test_queues_are_encrypted(template, queue_id):
    assert queue_properties(template, queue_id)["SqsManagedSseEnabled"] is True


# --- API -------------------------------------------------------------------------------------------------


def test_every_api_route_of_every_function_requires_an_api_key(template):
    apis = resources_of_type(template, "AWS::Serverless::Api")
    routes = 0
    for function_id in resources_of_type(template, "AWS::Serverless::Function"):
        for name, event in function_properties(template, function_id).get("Events", {}).items():
            if event["Type"] not in ("Api", "HttpApi"):
                continue
            routes += 1
            properties = event["Properties"]
            # An Api event without RestApiId lands on SAM's implicit API, which has no key.
            api_id = properties["RestApiId"]["Ref"]
            assert apis[api_id]["Properties"]["Auth"]["ApiKeyRequired"] is True, f"{function_id}.{name}"
            assert properties.get("Auth", {}).get("ApiKeyRequired", True) is True, f"{function_id}.{name}"
    assert routes >= 1


def test_ingest_route_is_post_actions_action(template):
    event = function_properties(template, "IngestFunction")["Events"]["PostAction"]

    assert event["Type"] == "Api"
    assert event["Properties"]["Path"] == "/actions/{action}"
    assert event["Properties"]["Method"] == "POST"
    assert event["Properties"]["RestApiId"] == {"Ref": "EventsApi"}


def test_usage_plan_throttles_from_parameters(template):
    usage_plan = resource_properties(template, "EventsApi")["Auth"]["UsagePlan"]

    assert usage_plan["CreateUsagePlan"] == "PER_API"
    assert usage_plan["Throttle"] == {
        "RateLimit": {"Ref": "ApiThrottleRateLimit"},
        "BurstLimit": {"Ref": "ApiThrottleBurstLimit"},
    }
    assert parameter_default(template, "ApiThrottleRateLimit") > 0
    assert parameter_default(template, "ApiThrottleBurstLimit") > 0


def test_api_never_logs_request_bodies(template):
    for setting in resource_properties(template, "EventsApi")["MethodSettings"]:
        assert setting["DataTraceEnabled"] is False


def test_api_is_traced_with_metrics(template):
    properties = resource_properties(template, "EventsApi")

    assert properties["TracingEnabled"] is True
    assert all(setting["MetricsEnabled"] for setting in properties["MethodSettings"])


def test_ingest_timeout_fits_api_gateway(template):
    assert function_properties(template, "IngestFunction")["Timeout"] <= API_GATEWAY_TIMEOUT


def test_sender_timeout_is_120_seconds(template):
    assert sender_timeout(template) == 120


# --- IAM -------------------------------------------------------------------------------------------------


def test_no_wildcard_actions_or_resources_anywhere(template):
    statements = list(all_policy_statements(template))

    assert statements
    for owner, statement in statements:
        statement = unless_novalue(statement)
        assert statement["Effect"] == "Allow", owner
        assert "NotAction" not in statement and "NotResource" not in statement, owner
        for action in as_list(statement["Action"]):
            assert "*" not in action, owner
        for text in strings_in(statement["Resource"]):
            assert "*" not in text, owner


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_get_secret_value_only_on_the_named_secrets(template, function_id):
    statements = [s for s in inline_statements(template, function_id) if "secretsmanager" in str(s["Action"])]

    assert len(statements) == 1
    (statement,) = statements
    assert as_list(statement["Action"]) == ["secretsmanager:GetSecretValue"]
    assert refs_in(statement["Resource"]) == SECRET_REFERENCES
    # No hard-coded ARN: only the separators of the conditional list are literal.
    assert all(not text.startswith("arn:") for text in strings_in(statement["Resource"]))


@pytest.mark.parametrize(
    ("function_id", "queues"),
    [("IngestFunction", {"EventsQueue"}), ("BatchSenderFunction", {"DeadLetterQueue"})],
)
def test_sqs_send_only_on_the_named_queue(template, function_id, queues):
    (statement,) = statements_with(template, function_id, "sqs:SendMessage")

    assert as_list(statement["Action"]) == ["sqs:SendMessage"]
    assert refs_in(statement["Resource"]) == queues


@pytest.mark.parametrize(
    ("function_id", "role"),
    [("IngestFunction", "IngestFunctionRole"), ("BatchSenderFunction", "BatchSenderFunctionRole")],
)
def test_each_function_has_its_own_explicit_role_and_no_sam_policies(template, function_id, role):
    properties = function_properties(template, function_id)

    assert role_id(template, function_id) == role
    # SAM adds policies (and for an SQS event a managed policy on *) only to a role it creates itself.
    assert "Policies" not in properties
    assert template["Resources"][role]["Type"] == "AWS::IAM::Role"
    trust = resource_properties(template, role)["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]


@pytest.mark.parametrize("role", ["IngestFunctionRole", "BatchSenderFunctionRole"])
def test_function_roles_take_only_the_xray_write_policy(template, role):
    managed = resource_properties(template, role)["ManagedPolicyArns"]

    assert managed == [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"}]


@pytest.mark.parametrize(
    ("function_id", "log_group"), [("IngestFunction", "IngestLogGroup"), ("BatchSenderFunction", "BatchSenderLogGroup")]
)
def test_functions_write_only_their_own_log_group(template, function_id, log_group):
    logs = [s for s in inline_statements(template, function_id) if "logs:" in str(s["Action"])]

    assert [sorted(as_list(s["Action"])) for s in logs] == [["logs:CreateLogStream", "logs:PutLogEvents"]]
    assert logs[0]["Resource"] == {"Fn::GetAtt": [log_group, "Arn"]}
    assert function_properties(template, function_id)["LoggingConfig"]["LogGroup"] == {"Ref": log_group}


def test_only_the_batch_sender_reads_the_events_queue_and_nothing_else(template):
    reads = [s for s in inline_statements(template, "BatchSenderFunction") if "sqs:ReceiveMessage" in s["Action"]]
    ingest_sqs = {a for s in inline_statements(template, "IngestFunction") for a in as_list(s["Action"]) if "sqs" in a}

    (statement,) = reads
    assert set(statement["Action"]) == {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
    assert statement["Resource"] == {"Fn::GetAtt": ["EventsQueue", "Arn"]}
    assert ingest_sqs == {"sqs:SendMessage"}


@pytest.mark.parametrize("function_id", FUNCTIONS)
def test_kms_decrypt_only_with_a_key_parameter_and_only_through_secrets_manager(template, function_id):
    role = role_id(template, function_id)
    statements = resource_properties(template, role)["Policies"][0]["PolicyDocument"]["Statement"]
    (conditional,) = [s for s in statements if "Fn::If" in s and s["Fn::If"][0] == "HasApiKeySecretKmsKey"]
    _, statement, otherwise = conditional["Fn::If"]

    assert otherwise == {"Ref": "AWS::NoValue"}
    assert statement["Action"] == "kms:Decrypt"
    assert statement["Resource"] == {"Ref": "ApiKeySecretKmsKeyArn"}
    assert statement["Condition"]["StringEquals"]["kms:ViaService"] == {
        "Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"
    }
    assert parameter_default(template, "ApiKeySecretKmsKeyArn") == ""
    assert template["Conditions"]["HasApiKeySecretKmsKey"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ApiKeySecretKmsKeyArn"}, ""]}]
    }


# --- secrets ---------------------------------------------------------------------------------------------


def test_secret_value_is_a_placeholder(template):
    secret = resource_properties(template, "OpenAIApiKeySecret")

    assert isinstance(secret["SecretString"], str)
    assert secret["SecretString"].startswith("REPLACE_WITH_")
    assert "GenerateSecretString" not in secret


def test_no_api_key_in_plain_text():
    text = TEMPLATE_PATH.read_text()

    assert not re.search(r"sk-[A-Za-z0-9_-]{16,}", text)
    assert not re.search(r"Bearer\s+\S", text)


def test_no_parameter_carries_the_api_key(template):
    # A key passed as a parameter would show in the console and the stack's history.
    for name in template["Parameters"]:
        if "apikey" in name.lower():
            assert name.endswith(("Arn", "Arns")), name


# --- alarms and outputs ----------------------------------------------------------------------------------


def test_alarm_fires_on_any_dead_lettered_event(template):
    alarm = resource_properties(template, "DeadLetterAlarm")

    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}}]
    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_alarm_topic_exists_only_with_an_email(template):
    assert template["Resources"]["AlarmTopic"]["Condition"] == "HasAlarmEmail"
    assert parameter_default(template, "AlarmEmail") == ""
    for alarm_id in resources_of_type(template, "AWS::CloudWatch::Alarm"):
        actions = resource_properties(template, alarm_id)["AlarmActions"]
        assert actions == {"Fn::If": ["HasAlarmEmail", [{"Ref": "AlarmTopic"}], {"Ref": "AWS::NoValue"}]}


def test_outputs_give_what_a_user_needs_after_deploy(template):
    outputs = template["Outputs"]

    assert {
        "ApiUrl",
        "ApiKeyId",
        "ApiKeyValueCommand",
        "ApiKeySecretArn",
        "EventsQueueUrl",
        "DeadLetterQueueUrl",
    } <= set(outputs)
    # SAM names the API key it creates for a PER_API usage plan "<Api logical id>ApiKey".
    assert outputs["ApiKeyId"]["Value"] == {"Ref": "EventsApiApiKey"}
    assert "get-api-key" in outputs["ApiKeyValueCommand"]["Value"]["Fn::Sub"]
    assert "--include-value" in outputs["ApiKeyValueCommand"]["Value"]["Fn::Sub"]


def test_api_url_output_names_the_stage_and_the_actions_path(template):
    url = template["Outputs"]["ApiUrl"]["Value"]["Fn::Sub"]
    stage = resource_properties(template, "EventsApi")["StageName"]

    assert url.startswith("https://${EventsApi}.execute-api.${AWS::Region}.")
    assert url.endswith(f"/{stage}/actions/")
