"""What SAM's transform makes of template.yaml's security settings: the roles are the template's own,
the API's resource policy and access logs reach the stage SAM generates."""

from __future__ import annotations

import json

from tests.support.sam import NEEDS_SAM, SAM_PYTHON, TEMPLATE, TRANSFORM_SCRIPT, output_of, run

pytestmark = NEEDS_SAM

FUNCTION_ROLES = {"IngestFunction": "IngestFunctionRole", "BatchSenderFunction": "BatchSenderFunctionRole"}


def of_type(template: dict, resource_type: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def test_sam_creates_no_role_and_attaches_no_managed_policy_of_its_own(transformed):
    roles = of_type(transformed, "AWS::IAM::Role")

    # SAM's SQS event would bring AWSLambdaSQSQueueExecutionRole (sqs:* reads on *) to a role it made.
    assert set(roles) == {*FUNCTION_ROLES.values(), "ApiGatewayCloudWatchRole"}
    for function_id, role in FUNCTION_ROLES.items():
        assert transformed["Resources"][function_id]["Properties"]["Role"] == {"Fn::GetAtt": [role, "Arn"]}
        managed = roles[role]["Properties"]["ManagedPolicyArns"]
        assert [arn["Fn::Sub"].rsplit("/", 1)[1] for arn in managed] == ["AWSXRayDaemonWriteAccess"]
    assert not of_type(transformed, "AWS::IAM::Policy") and not of_type(transformed, "AWS::IAM::ManagedPolicy")


def test_event_source_mapping_polls_with_the_senders_own_role(transformed):
    (mapping,) = of_type(transformed, "AWS::Lambda::EventSourceMapping").values()
    statements = of_type(transformed, "AWS::IAM::Role")["BatchSenderFunctionRole"]["Properties"]["Policies"][0]
    polls = [s for s in statements["PolicyDocument"]["Statement"] if s.get("Sid") == "PollEventsQueue"]

    assert mapping["Properties"]["FunctionName"] == {"Ref": "BatchSenderFunction"}
    assert [s["Resource"] for s in polls] == [mapping["Properties"]["EventSourceArn"]]


def test_api_resource_policy_is_valid_with_and_without_source_cidrs(transformed):
    policy = transformed["Resources"]["EventsApi"]["Properties"]["Body"]["x-amazon-apigateway-policy"]
    condition, with_cidrs, without = policy["Statement"]["Fn::If"]

    assert condition == "HasAllowedSourceCidrs"
    # Both branches hold statements: a policy left with none would fail the deploy.
    assert [s["Effect"] for s in with_cidrs] == ["Allow", "Deny"]
    assert [s["Effect"] for s in without] == ["Allow"]


def test_generated_stage_writes_access_logs_and_the_waf_association_names_it(transformed):
    resources = transformed["Resources"]
    (stage_id,) = of_type(transformed, "AWS::ApiGateway::Stage")
    waf = resources["ApiWafAssociation"]["Properties"]["ResourceArn"]["Fn::Sub"]

    assert resources[stage_id]["Properties"]["AccessLogSetting"]["DestinationArn"] == {
        "Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]
    }
    assert f"${{{stage_id}}}" in waf and "${EventsApi}" in waf


def test_5xx_alarm_names_the_rest_api_sam_generates(transformed):
    resources = transformed["Resources"]
    dimensions = {d["Name"]: d["Value"] for d in resources["Api5xxAlarm"]["Properties"]["Dimensions"]}

    assert dimensions["ApiName"] == resources["EventsApi"]["Properties"]["Name"]
    (stage,) = of_type(transformed, "AWS::ApiGateway::Stage").values()
    assert dimensions["Stage"] == stage["Properties"]["StageName"]


def test_source_cidrs_given_at_deploy_become_the_deny_condition():
    # CloudFormation hands the transform a CommaDelimitedList parameter as a list.
    cidrs = ["203.0.113.0/24", "2001:db8::/32"]
    parameters = f"transform(template, {{'AllowedSourceCidrs': {cidrs!r}}},"
    script = TRANSFORM_SCRIPT.replace("transform(template, {},", parameters)
    assert parameters in script
    result = run(SAM_PYTHON, "-c", script, TEMPLATE)
    assert result.returncode == 0, output_of(result)
    body = json.loads(result.stdout)["Resources"]["EventsApi"]["Properties"]["Body"]

    _, (_, deny), _ = body["x-amazon-apigateway-policy"]["Statement"]["Fn::If"]
    assert deny["Condition"] == {"NotIpAddress": {"aws:SourceIp": cidrs}}
