"""template.yaml as a first deploy, a redeploy and a change of settings resolve it: defaults, names, grants, outputs."""

from __future__ import annotations

import json
import tomllib
from typing import Any

import pytest
from connector.core.actions import parse_actions

from local.template import function_environment
from tests.support.intrinsics import Deployment, iam_matches
from tests.support.repo import ROOT
from tests.support.template import load_template

REGION_ACCOUNT = "eu-west-1:123456789012"
#: What Secrets Manager names a secret called openai/key: its name, "-" and 6 random characters.
SECRET_ARN = f"arn:aws:secretsmanager:{REGION_ACCOUNT}:secret:openai/key-AbCdEf"
OVERRIDE_ARN = f"arn:aws:secretsmanager:{REGION_ACCOUNT}:secret:openai/override-GhIjKl"
#: Secrets the functions must not read.
OTHER_SECRETS = [
    f"arn:aws:secretsmanager:{REGION_ACCOUNT}:secret:openai/key2-AbCdEf",
    f"arn:aws:secretsmanager:{REGION_ACCOUNT}:secret:openai/key-other-AbCdEf",
    f"arn:aws:secretsmanager:{REGION_ACCOUNT}:secret:payments/key-AbCdEf",
]
ROLES = ("IngestFunctionRole", "BatchSenderFunctionRole")
OPERATOR_ROLE = "arn:aws:iam::123456789012:role/connector-operator"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def deploy(template, parameters: dict[str, Any] | None = None, **kwargs) -> Deployment:
    """A deployment of the template with a PixelId (the one parameter without a default) and these settings."""
    return Deployment(template, {"PixelId": "px_1", **(parameters or {})}, **kwargs)


def stack_id(uuid: str, name: str = "connector") -> str:
    return f"arn:aws:cloudformation:{REGION_ACCOUNT}:stack/{name}/{uuid}"


def statement(template, role: str, sid: str, **parameters) -> dict[str, Any]:
    policy = deploy(template, parameters).evaluate(template["Resources"][role]["Properties"]["Policies"][0])
    (found,) = [s for s in policy["PolicyDocument"]["Statement"] if s.get("Sid") == sid]
    return found


def readable(template, role: str, arn: str, **parameters) -> bool:
    resources = statement(template, role, "ReadOpenAIApiKey", **parameters)["Resource"]
    return any(iam_matches(pattern, arn) for pattern in resources)


# ---- a first deploy in any account, with only PixelId typed ----------------------------------------------


def test_ingest_reserves_no_concurrency_by_default(template):
    # Lambda keeps 100 of an account's concurrency unreserved; a new account's quota is often 10.
    ingest = template["Resources"]["IngestFunction"]["Properties"]

    assert "ReservedConcurrentExecutions" not in deploy(template).evaluate(ingest)
    assert deploy(template, {"IngestReservedConcurrency": 50}).evaluate(ingest)["ReservedConcurrentExecutions"] == "50"


def test_every_parameter_but_the_pixel_id_has_a_default(template):
    without_default = [name for name, parameter in template["Parameters"].items() if "Default" not in parameter]

    assert without_default == ["PixelId"]


def test_samconfig_sets_no_parameter_values_of_its_own():
    # `sam deploy --guided` offers samconfig's parameter_overrides before the template's defaults: a copy
    # there would outlive a changed default.
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())

    for command, table in config["default"].items():
        assert "parameter_overrides" not in table.get("parameters", {}), command
    assert "CAPABILITY_IAM" in config["default"]["deploy"]["parameters"]["capabilities"]


# ---- deleting the stack and deploying it again under the same name ----------------------------------------


def retained_names(template, stack: str) -> dict[str, str]:
    """(logical id -> name) of every retained resource that names itself, for a stack of the given id."""
    deployment = deploy(template, stack_id=stack)
    names = {}
    for logical_id, resource in template["Resources"].items():
        if resource.get("DeletionPolicy") != "Retain":
            continue
        for key, value in resource.get("Properties", {}).items():
            if key.endswith("Name") and key != "DisplayName":
                names[f"{logical_id}.{key}"] = deployment.evaluate(value)
    return names


def test_retained_resources_named_by_a_stack_do_not_clash_with_a_new_stack_of_the_same_name(template):
    first = retained_names(template, stack_id("1c2fa620-982a-11e3-aff7-50e2416294e0"))
    again = retained_names(template, stack_id("5e81b3c2-0d4e-11f0-9a1b-0a1b2c3d4e5f"))

    assert set(first) == {"OpenAIApiKeySecret.Name", "EventsQueue.QueueName", "DeadLetterQueue.QueueName"}
    assert first == {
        "OpenAIApiKeySecret.Name": "connector/openai-events-api-key-1c2fa620",
        "EventsQueue.QueueName": "connector-events-1c2fa620",
        "DeadLetterQueue.QueueName": "connector-events-dlq-1c2fa620",
    }
    assert set(first.values()).isdisjoint(again.values())


def test_dead_letter_queue_accepts_only_this_stacks_events_queue(template):
    deployment = deploy(template, stack_id=stack_id("1c2fa620-982a-11e3-aff7-50e2416294e0"))
    dlq = deployment.evaluate(template["Resources"]["DeadLetterQueue"]["Properties"])
    events_queue = deployment.evaluate(template["Resources"]["EventsQueue"]["Properties"])

    assert dlq["RedriveAllowPolicy"] == {
        "redrivePermission": "byQueue",
        "sourceQueueArns": [f"arn:aws:sqs:{REGION_ACCOUNT}:{events_queue['QueueName']}"],
    }


def test_nothing_finds_the_queues_or_the_secret_by_a_name_built_from_the_stack_name(template):
    # Everything else reaches them through Ref and GetAtt: only the definitions spell the names.
    text = (ROOT / "template.yaml").read_text()

    assert text.count("${AWS::StackName}-events-") == 3  # the two queues and the redrive allow policy
    assert text.count("openai-events-api-key") == 1


# ---- grants and outputs ----------------------------------------------------------------------------------


def test_batch_sender_polls_its_queue_with_exactly_the_event_source_mappings_actions(template):
    polling = statement(template, "BatchSenderFunctionRole", "PollEventsQueue")

    # AWSLambdaSQSQueueExecutionRole's three; the function itself never changes a message's visibility.
    assert sorted(polling["Action"]) == ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("given", [SECRET_ARN, SECRET_ARN.removesuffix("-AbCdEf")], ids=["full", "without-suffix"])
def test_an_existing_secret_is_readable_given_with_or_without_its_suffix(template, role, given):
    assert readable(template, role, SECRET_ARN, ExistingApiKeySecretArn=given)
    for other in OTHER_SECRETS:
        assert not readable(template, role, other, ExistingApiKeySecretArn=given), other


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("given", [OVERRIDE_ARN, OVERRIDE_ARN.removesuffix("-GhIjKl")], ids=["full", "without-suffix"])
def test_override_secrets_are_readable_given_with_or_without_their_suffix(template, role, given):
    parameters = {"ExistingApiKeySecretArn": SECRET_ARN, "ExtraApiKeySecretArns": f"{given},{SECRET_ARN}"}

    assert readable(template, role, OVERRIDE_ARN, **parameters)
    assert readable(template, role, SECRET_ARN, **parameters)
    for other in OTHER_SECRETS:
        assert not readable(template, role, other, **parameters), other


@pytest.mark.parametrize("role", ROLES)
def test_the_created_secret_is_granted_by_its_own_arn_only(template, role):
    resources = statement(template, role, "ReadOpenAIApiKey")["Resource"]

    assert resources == ["<OpenAIApiKeySecret>"]


def test_redrive_command_is_offered_only_with_a_role_allowed_to_run_it(template):
    without = deploy(template).evaluate(template["Outputs"]["RedriveCommand"]["Value"])
    with_role = deploy(template, {"QueueOperatorRoleArn": OPERATOR_ROLE}).evaluate(
        template["Outputs"]["RedriveCommand"]["Value"]
    )

    assert "aws sqs" not in without and "QueueOperatorRoleArn" in without
    assert with_role == "aws sqs start-message-move-task --source-arn <DeadLetterQueue.Arn> --region eu-west-1"
    # The queues' policy lets that role send: the move task sends as whoever starts it.
    policy = deploy(template, {"QueueOperatorRoleArn": OPERATOR_ROLE}).evaluate(
        template["Resources"]["QueuesPolicy"]["Properties"]["PolicyDocument"]
    )
    (send_only,) = [s for s in policy["Statement"] if s["Sid"] == "SendOnlyFromTheConnector"]
    assert OPERATOR_ROLE in send_only["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]


def test_xray_layer_pins_a_boto3_beside_its_botocore():
    # The layer's botocore comes before the runtime's on the import path: the boto3 in use must be the
    # layer's, of the same release (tests/integration/test_deployed_shape.py checks the declared range).
    lock = (ROOT / "layers" / "xray" / "requirements.txt").read_text()
    pins = dict(line.split(" ")[0].split("==") for line in lock.splitlines() if "==" in line)

    assert {"aws-xray-sdk", "boto3", "botocore", "s3transfer"} <= set(pins)
    assert pins["boto3"].split(".")[:2] == pins["botocore"].split(".")[:2]
    # `make lock` keeps the hashes that the layer's Makefile installs in pip's hash-checking mode.
    lines = lock.splitlines()
    for n, line in enumerate(lines):
        if "==" in line:
            assert lines[n + 1].strip().startswith("--hash=sha256:"), line


# ---- the actions parameter, created by the stack -----------------------------------------------------------


def actions_parameter(template, **parameters) -> dict[str, Any] | None:
    deployment = deploy(template, parameters)
    resource = template["Resources"]["ActionsParameter"]
    return deployment.evaluate(resource["Properties"]) if deployment.condition(resource["Condition"]) else None


def test_the_stack_creates_the_actions_parameter_only_when_asked(template):
    assert actions_parameter(template) is None
    assert actions_parameter(template, ActionsParameterName="/openai-events/actions") is None
    created = actions_parameter(template, ActionsParameterName="/openai-events/actions", CreateActionsParameter="true")

    assert created is not None
    assert (created["Name"], created["Type"], created["Tier"]) == ("/openai-events/actions", "String", "Standard")


def test_the_created_parameter_holds_the_bundled_actions_document(template):
    value = template["Resources"]["ActionsParameter"]["Properties"]["Value"]
    bundled = (ROOT / "functions" / "ingest" / "actions.json").read_text()

    assert value == bundled, "template.yaml's ActionsParameter Value must be functions/ingest/actions.json verbatim"
    assert len(value.encode()) <= 4096  # a Standard parameter's limit
    assert set(parse_actions(value)) == set(json.loads(bundled)["actions"])


def test_creating_the_parameter_without_a_name_is_refused_before_anything_is_created(template):
    (rule,) = template["Rules"].values()
    (assertion,) = rule["Assertions"]

    for name, create, refused in [("", "true", True), ("/a", "true", False), ("", "false", False)]:
        deployment = deploy(template, {"ActionsParameterName": name, "CreateActionsParameter": create})
        applies = deployment.evaluate(rule["RuleCondition"])
        assert (applies and not deployment.evaluate(assertion["Assert"])) is refused, (name, create)
    assert "ActionsParameterName" in assertion["AssertDescription"]


@pytest.mark.parametrize("create", ["false", "true"])
@pytest.mark.parametrize("function_id", ["IngestFunction", "BatchSenderFunction"])
def test_functions_read_the_parameter_by_the_same_name_either_way(template, create, function_id):
    name = "/openai-events/actions"
    settings = {"ActionsParameterName": name, "CreateActionsParameter": create}
    environment = function_environment(template, function_id)
    variables = deploy(template, settings, refs={"ActionsParameter": name}).evaluate(environment)
    role = "IngestFunctionRole" if function_id == "IngestFunction" else "BatchSenderFunctionRole"
    read = statement(template, role, "ReadActionsParameter", **settings)

    assert variables["ACTIONS_CONFIG"] == f"ssm:{name}"
    assert read["Resource"] == f"arn:aws:ssm:{REGION_ACCOUNT}:parameter{name}"
    assert "ACTIONS_CONFIG" not in deploy(template).evaluate(environment)
