"""The local AWS plumbing: local-aws-sqs (fast SQS), moto, and provision() from the template."""

from __future__ import annotations

import json
import time
import uuid

import boto3
import pytest

from local.services import Resources, aws_client, provision, start_fast_sqs, wait_for_depth
from local.template import load_template, resolve_parameters

pytestmark = pytest.mark.integration

REGION = "us-east-1"


@pytest.fixture
def moto(moto_server):
    return moto_server  # the suite's one moto server (conftest): moto's state is process-wide anyway


def _name(prefix: str = "q") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _depth(sqs_client, queue_url: str) -> tuple[int, int]:
    attributes = sqs_client.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def _queue_with_dlq(sqs_client, visibility_timeout: int, max_receive_count: int) -> tuple[str, str]:
    dlq_url = sqs_client.create_queue(QueueName=_name("dlq"))["QueueUrl"]
    dlq_arn = sqs_client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs_client.create_queue(
        QueueName=_name(),
        Attributes={
            "VisibilityTimeout": str(visibility_timeout),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count}),
        },
    )["QueueUrl"]
    return queue_url, dlq_url


# -- local-aws-sqs ------------------------------------------------------------------------------------


def test_fast_sqs_speaks_the_json_protocol_boto3_uses(fast_sqs, sqs):
    assert sqs.meta.service_model.protocol == "json"  # AWS JSON 1.0 with X-Amz-Target, not query
    name = _name()
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert queue_url == f"{fast_sqs.endpoint_url}/123456789012/{name}"
    assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == queue_url


def test_fast_sqs_send_receive_delete_batches(sqs):
    queue_url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    sent = sqs.send_message_batch(
        QueueUrl=queue_url,
        Entries=[
            {
                "Id": str(i),
                "MessageBody": json.dumps({"n": i}),
                "MessageAttributes": {"action": {"DataType": "String", "StringValue": "purchase"}},
            }
            for i in range(10)
        ],
    )
    assert len(sent["Successful"]) == 10 and not sent.get("Failed")
    assert wait_for_depth(sqs, queue_url, 10) == 10

    received = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=1,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    )["Messages"]
    assert sorted(json.loads(m["Body"])["n"] for m in received) == list(range(10))
    first = received[0]
    assert first["Attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(first["Attributes"])
    assert first["MessageAttributes"]["action"] == {"StringValue": "purchase", "DataType": "String"}
    assert _depth(sqs, queue_url) == (0, 10)  # ApproximateNumberOfMessages counts visible ones only

    deleted = sqs.delete_message_batch(
        QueueUrl=queue_url,
        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)],
    )
    assert len(deleted["Successful"]) == 10 and not deleted.get("Failed")
    assert _depth(sqs, queue_url) == (0, 0)


def test_fast_sqs_long_poll_returns_as_soon_as_a_message_is_there(sqs):
    queue_url = sqs.create_queue(QueueName=_name())["QueueUrl"]
    # An empty queue is waited on for the whole WaitTimeSeconds (a lower bound: a slow machine only adds to it).
    started = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)
    assert time.monotonic() - started >= 0.9

    # A message that is there is returned at once, not after the 20 s wait for a full batch of 10:
    # half of the wait is a margin no loaded machine uses up.
    sqs.send_message(QueueUrl=queue_url, MessageBody="one")
    started = time.monotonic()
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=20)["Messages"]
    assert [m["Body"] for m in messages] == ["one"]
    assert time.monotonic() - started < 10


def test_fast_sqs_change_visibility_and_redrive_on_visibility_timeout(sqs):
    queue_url, dlq_url = _queue_with_dlq(sqs, visibility_timeout=1, max_receive_count=2)
    sqs.send_message(QueueUrl=queue_url, MessageBody="poison")

    first = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"][0]
    result = sqs.change_message_visibility_batch(
        QueueUrl=queue_url, Entries=[{"Id": "a", "ReceiptHandle": first["ReceiptHandle"], "VisibilityTimeout": 0}]
    )
    assert [entry["Id"] for entry in result["Successful"]] == ["a"]
    # Released at once, and a visibility change is not a receive (the patched local-aws-sqs).
    second = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=10, MessageSystemAttributeNames=["All"])
    assert second["Messages"][0]["Attributes"]["ApproximateReceiveCount"] == "2"

    # Second receive was the last one allowed: when its visibility timeout (1 s) ends it is dead-lettered.
    moved = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=20, MessageAttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in moved] == ["poison"]
    assert _depth(sqs, queue_url) == (0, 0)


def test_fast_sqs_redrive_after_max_receive_count_released_receives(sqs):
    queue_url, dlq_url = _queue_with_dlq(sqs, visibility_timeout=900, max_receive_count=3)
    sqs.send_message(QueueUrl=queue_url, MessageBody="fails three times")
    for expected_count in ("1", "2", "3"):
        message = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"])[
            "Messages"
        ][0]
        assert message["Attributes"]["ApproximateReceiveCount"] == expected_count
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    assert wait_for_depth(sqs, dlq_url, 1, timeout=30) == 1
    assert _depth(sqs, queue_url) == (0, 0)


def test_fast_sqs_stop_ends_the_node_process():
    service = start_fast_sqs()
    client = aws_client("sqs", service.endpoint_url, REGION)
    client.list_queues()
    service.stop()
    service.stop()  # idempotent
    with pytest.raises(Exception, match="Could not connect"):
        client.list_queues()


def test_fast_sqs_without_node_modules_names_npm(monkeypatch, tmp_path):
    import local.services

    monkeypatch.setattr(local.services, "REPO_ROOT", tmp_path)
    with pytest.raises(local.services.ServiceError, match=r"npm ci"):
        start_fast_sqs()


# -- moto ---------------------------------------------------------------------------------------------


def test_moto_serves_secrets_manager_and_sqs(moto):
    assert moto.endpoint_url.startswith("http://127.0.0.1:")
    secrets = aws_client("secretsmanager", moto.endpoint_url, REGION)
    name = _name("secret")
    secrets.create_secret(Name=name, SecretString="sk-moto")
    assert secrets.get_secret_value(SecretId=name)["SecretString"] == "sk-moto"
    sqs_client = aws_client("sqs", moto.endpoint_url, REGION)
    queue_url = sqs_client.create_queue(QueueName=_name())["QueueUrl"]
    sqs_client.send_message(QueueUrl=queue_url, MessageBody="hi")
    assert sqs_client.receive_message(QueueUrl=queue_url)["Messages"][0]["Body"] == "hi"


# -- provision() --------------------------------------------------------------------------------------


def _template(dead_letter_target) -> dict:
    return {
        "Parameters": {"QueueVisibility": {"Type": "Number", "Default": 900}},
        "Resources": {
            "EventsQueue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "QueueName": {"Fn::Sub": "${AWS::StackName}-events"},
                    "SqsManagedSseEnabled": True,
                    "VisibilityTimeout": {"Ref": "QueueVisibility"},
                    "MessageRetentionPeriod": 345600,
                    "RedrivePolicy": {"deadLetterTargetArn": dead_letter_target, "maxReceiveCount": 5},
                },
            },
            "DeadLetterQueue": {"Type": "AWS::SQS::Queue", "Properties": {"MessageRetentionPeriod": 1209600}},
            "OpenAIApiKeySecret": {
                "Type": "AWS::SecretsManager::Secret",
                "Properties": {"Name": {"Fn::Sub": "${AWS::StackName}/key"}, "SecretString": "REPLACE_ME"},
            },
        },
    }


def _queue_attributes(sqs_client, queue_url: str) -> dict[str, str]:
    return sqs_client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]


@pytest.mark.parametrize(
    "dead_letter_target",
    [
        {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]},
        {"Fn::GetAtt": "DeadLetterQueue.Arn"},
        {"!GetAtt": "DeadLetterQueue.Arn"},
    ],
    ids=["list", "dotted", "short-tag-key"],
)
@pytest.mark.parametrize("sqs_backend", ["fast", "moto"])
def test_provision_creates_queues_and_secret_as_the_template_says(
    request, moto, dead_letter_target, sqs_backend, monkeypatch
):
    sqs_endpoint = request.getfixturevalue("fast_sqs" if sqs_backend == "fast" else "moto").endpoint_url
    prefix = _name("stack")
    resources = provision(_template(dead_letter_target), sqs_endpoint, moto.endpoint_url, "sk-abc", name_prefix=prefix)
    assert isinstance(resources, Resources)

    sqs_client = aws_client("sqs", sqs_endpoint, REGION)
    assert resources.queue_url.endswith(f"/{prefix}-EventsQueue")
    assert resources.dlq_url.endswith(f"/{prefix}-DeadLetterQueue")
    queue = _queue_attributes(sqs_client, resources.queue_url)
    assert queue["VisibilityTimeout"] == "900"
    assert queue["MessageRetentionPeriod"] == "345600"
    assert json.loads(queue["RedrivePolicy"]) == {"deadLetterTargetArn": resources.dlq_arn, "maxReceiveCount": 5}
    assert _queue_attributes(sqs_client, resources.dlq_url)["MessageRetentionPeriod"] == "1209600"

    # The connector's view: only environment variables, boto3's default clients.
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for key, value in resources.env().items():
        monkeypatch.setenv(key, value)
    assert boto3.client("sqs").meta.endpoint_url == sqs_endpoint
    assert boto3.client("secretsmanager").meta.endpoint_url == moto.endpoint_url
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=resources.env()["API_KEY_SECRET_ID"])
    assert secret["SecretString"] == "sk-abc"
    assert boto3.client("sqs").get_queue_url(QueueName=f"{prefix}-EventsQueue")["QueueUrl"] == resources.queue_url


def test_resources_env_names_what_the_connector_reads(fast_sqs, moto):
    resources = provision(
        _template({"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}),
        fast_sqs.endpoint_url,
        moto.endpoint_url,
        "sk-env",
        name_prefix=_name("stack"),
    )
    env = resources.env()
    assert {
        "QUEUE_URL": resources.queue_url,
        "DEAD_LETTER_QUEUE_URL": resources.dlq_url,
        "API_KEY_SECRET_ID": resources.secret_id,
        "AWS_ENDPOINT_URL_SQS": fast_sqs.endpoint_url,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto.endpoint_url,
        "AWS_DEFAULT_REGION": REGION,
    }.items() <= env.items()
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"]
    assert resources.secret_id.startswith("arn:aws:secretsmanager:us-east-1:")


def test_provision_twice_updates_the_secret(fast_sqs, moto):
    template, prefix = _template({"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}), _name("stack")
    first = provision(template, fast_sqs.endpoint_url, moto.endpoint_url, "sk-one", name_prefix=prefix)
    second = provision(template, fast_sqs.endpoint_url, moto.endpoint_url, "sk-two", name_prefix=prefix)
    assert first == second
    secrets = aws_client("secretsmanager", moto.endpoint_url, REGION)
    assert secrets.get_secret_value(SecretId=second.secret_id)["SecretString"] == "sk-two"


def test_provision_refuses_a_template_without_the_resources(fast_sqs, moto):
    template = _template({"Fn::GetAtt": ["DeadLetterQueue", "Arn"]})
    del template["Resources"]["DeadLetterQueue"]
    with pytest.raises(ValueError, match="DeadLetterQueue"):
        provision(template, fast_sqs.endpoint_url, moto.endpoint_url, "sk", name_prefix=_name("stack"))


def test_provision_from_the_repository_template(fast_sqs, moto):
    template = load_template()
    resources = provision(template, fast_sqs.endpoint_url, moto.endpoint_url, "sk-real", name_prefix=_name("stack"))
    sqs_client = aws_client("sqs", fast_sqs.endpoint_url, REGION)
    queue = _queue_attributes(sqs_client, resources.queue_url)
    properties = template["Resources"]["EventsQueue"]["Properties"]
    assert queue["VisibilityTimeout"] == str(properties["VisibilityTimeout"])
    assert queue["MessageRetentionPeriod"] == str(properties["MessageRetentionPeriod"])
    redrive = json.loads(queue["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == resources.dlq_arn
    assert int(redrive["maxReceiveCount"]) == int(properties["RedrivePolicy"]["maxReceiveCount"])
    # A parameter now (DeadLetterRetentionSeconds): provisioned with its default.
    dlq_retention = resolve_parameters(template, template["Resources"]["DeadLetterQueue"]["Properties"])[
        "MessageRetentionPeriod"
    ]
    assert _queue_attributes(sqs_client, resources.dlq_url)["MessageRetentionPeriod"] == str(dlq_retention)
    secrets = aws_client("secretsmanager", moto.endpoint_url, REGION)
    assert secrets.get_secret_value(SecretId=resources.secret_id)["SecretString"] == "sk-real"
