"""Local stand-ins for the AWS services the connector uses, for tests, the soak test and the demo.

- ``start_fast_sqs()``: the npm package local-aws-sqs (``local/sqs_server.mjs``), fast at any queue
  depth. Needs ``npm ci`` (or ``npm install``) at the repository root.
- ``start_moto()``: moto's threaded server, for Secrets Manager (and SQS in small tests: moto's SQS
  slows to seconds per message at a few thousand queued messages).
- ``provision()``: creates the queues and the secret as ``template.yaml`` defines them.

Everything binds 127.0.0.1. Note that moto keeps its state in process-wide globals, so every moto
server started in one process (and any ``mock_aws``) shares the same accounts.
"""

from __future__ import annotations

import collections
import json
import logging
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from local.template import queue_attributes, resolve_parameters

REPO_ROOT = Path(__file__).resolve().parent.parent
SQS_SERVER_SCRIPT = REPO_ROOT / "local" / "sqs_server.mjs"
LOCAL_NAME_PREFIX = "openai-events-connector"
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class ServiceError(RuntimeError):
    """A local service could not be started."""


@dataclass
class Service:
    """A running local service: ``endpoint_url`` to point boto3 at, ``stop()`` when done."""

    name: str
    endpoint_url: str
    _stop: Any = field(repr=False)
    _stopped: bool = field(default=False, repr=False)

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._stop()

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_fast_sqs(port: int = 0, timeout: float = 15.0) -> Service:
    """Start local-aws-sqs under node on 127.0.0.1 (``port=0``: a free port) and wait until it serves."""
    node = shutil.which("node")
    if node is None:
        raise ServiceError("node is not on PATH; the fast local SQS needs Node.js 20+")
    if not (REPO_ROOT / "node_modules" / "local-aws-sqs").is_dir():
        raise ServiceError(
            f"the npm package local-aws-sqs is not installed: run `npm ci` (or `npm install`) in {REPO_ROOT}"
        )
    process = subprocess.Popen(
        [node, str(SQS_SERVER_SCRIPT), str(port), "--exit-with-stdin"],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: collections.deque[str] = collections.deque(maxlen=50)
    ready = threading.Event()
    endpoint: list[str] = []

    def read_output() -> None:  # drains node's output for as long as it runs
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line.rstrip())
            if not ready.is_set() and line.startswith("local-aws-sqs ready "):
                endpoint.append(line.split()[-1])
                ready.set()
        ready.set()  # exited: wake the waiter

    threading.Thread(target=read_output, name="local-aws-sqs-output", daemon=True).start()
    if not ready.wait(timeout) or not endpoint:
        _terminate(process)
        raise ServiceError(f"local-aws-sqs did not start (exit code {process.poll()}):\n" + "\n".join(output))
    return Service("local-aws-sqs", endpoint[0], lambda: _terminate(process))


def _terminate(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdin is not None:
        process.stdin.close()


def start_moto(port: int = 0, quiet: bool = True) -> Service:
    """Start moto's threaded server on 127.0.0.1 (``port=0``: a free port).

    ``quiet`` raises the ``werkzeug`` logger to WARNING so moto doesn't log every request to stderr.
    """
    from moto.server import ThreadedMotoServer

    if quiet:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, actual_port = server.get_host_and_port()
    return Service("moto", f"http://{host}:{actual_port}", server.stop)


@dataclass(frozen=True)
class Resources:
    """What ``provision()`` created, and the environment the connector reads to use it."""

    queue_url: str
    queue_arn: str
    dlq_url: str
    dlq_arn: str
    secret_id: str  # the secret's ARN, as `!Ref OpenAIApiKeySecret` gives it
    secret_name: str
    sqs_endpoint: str
    secrets_endpoint: str
    region: str

    def env(self) -> dict[str, str]:
        return {
            "QUEUE_URL": self.queue_url,
            "DEAD_LETTER_QUEUE_URL": self.dlq_url,
            "API_KEY_SECRET_ID": self.secret_id,
            # boto3 >= 1.28.57 reads per-service endpoints: AWS_ENDPOINT_URL_<service id, upper, _>.
            "AWS_ENDPOINT_URL_SQS": self.sqs_endpoint,
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": self.secrets_endpoint,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_EC2_METADATA_DISABLED": "true",  # no credential lookups against 169.254.169.254
            **DUMMY_CREDENTIALS,
        }


def aws_client(service_name: str, endpoint_url: str, region: str = "us-east-1") -> Any:
    return boto3.client(
        service_name,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def provision(
    template: dict[str, Any],
    sqs_endpoint: str,
    secrets_endpoint: str,
    api_key: str,
    region: str = "us-east-1",
    name_prefix: str = LOCAL_NAME_PREFIX,
) -> Resources:
    """Create ``DeadLetterQueue``, ``EventsQueue`` and ``OpenAIApiKeySecret`` as the template defines them.

    Queue and secret names are ``{name_prefix}-{LogicalId}``; calling it again with the same template
    is harmless (the secret's value is updated). Property values may be literals, ``Ref`` to a template
    parameter (its Default) or, for the redrive target, ``Fn::GetAtt`` to ``DeadLetterQueue``.
    """
    resources = template.get("Resources") or {}

    def resource(logical_id: str, expected_type: str) -> dict[str, Any]:
        found = resources.get(logical_id)
        if not isinstance(found, dict) or found.get("Type") != expected_type:
            raise ValueError(f"template has no {expected_type} named {logical_id}")
        return found.get("Properties") or {}

    resource("DeadLetterQueue", "AWS::SQS::Queue")
    queue_props = resource("EventsQueue", "AWS::SQS::Queue")
    secret_props = resource("OpenAIApiKeySecret", "AWS::SecretsManager::Secret")

    sqs = aws_client("sqs", sqs_endpoint, region)
    dlq_url = sqs.create_queue(
        QueueName=f"{name_prefix}-DeadLetterQueue",
        Attributes=queue_attributes(template, "DeadLetterQueue"),
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    attributes = queue_attributes(template, "EventsQueue")
    redrive = resolve_parameters(template, queue_props.get("RedrivePolicy"))
    if redrive is not None:
        if isinstance(redrive, str):
            redrive = json.loads(redrive)
        target = _get_att_target(redrive.get("deadLetterTargetArn"))
        if target != ("DeadLetterQueue", "Arn"):
            raise ValueError(f"EventsQueue RedrivePolicy must point at DeadLetterQueue.Arn, not {target}")
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": int(redrive["maxReceiveCount"])}
        )
    queue_url = sqs.create_queue(QueueName=f"{name_prefix}-EventsQueue", Attributes=attributes)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    secrets = aws_client("secretsmanager", secrets_endpoint, region)
    secret_name = f"{name_prefix}-OpenAIApiKeySecret"
    description = resolve_parameters(template, secret_props.get("Description"))
    try:
        created = secrets.create_secret(
            Name=secret_name,
            SecretString=api_key,
            **({"Description": description} if isinstance(description, str) else {}),
        )
        secret_arn = created["ARN"]
    except secrets.exceptions.ResourceExistsException:
        secret_arn = secrets.put_secret_value(SecretId=secret_name, SecretString=api_key)["ARN"]

    return Resources(
        queue_url=queue_url,
        queue_arn=queue_arn,
        dlq_url=dlq_url,
        dlq_arn=dlq_arn,
        secret_id=secret_arn,
        secret_name=secret_name,
        sqs_endpoint=sqs_endpoint,
        secrets_endpoint=secrets_endpoint,
        region=region,
    )


def _get_att_target(value: Any) -> tuple[str, str] | None:
    """``{"Fn::GetAtt": ["X", "Arn"]}``, ``{"Fn::GetAtt": "X.Arn"}`` (or ``!GetAtt`` keys) -> ("X", "Arn")."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, argument),) = value.items()
        if key in ("Fn::GetAtt", "!GetAtt"):
            if isinstance(argument, str):
                argument = argument.split(".", 1)
            if isinstance(argument, list) and len(argument) == 2:
                return str(argument[0]), str(argument[1])
    return None


def wait_for_depth(sqs_client: Any, queue_url: str, depth: int, timeout: float = 10.0) -> int:
    """Wait until ApproximateNumberOfMessages reaches ``depth``; returns the last value seen."""
    deadline = time.monotonic() + timeout
    while True:
        attributes = sqs_client.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        seen = int(attributes["ApproximateNumberOfMessages"])
        if seen >= depth or time.monotonic() >= deadline:
            return seen
        time.sleep(0.05)


def _main() -> None:  # pragma: no cover - manual use: python -m local.services
    sqs, moto = start_fast_sqs(), start_moto()
    print(f"SQS {sqs.endpoint_url}  moto {moto.endpoint_url}  (Ctrl-C to stop)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sqs.stop()
        moto.stop()


if __name__ == "__main__":  # pragma: no cover
    _main()
