"""The built artifact as Lambda runs it: `sam build`'s function folder, its layer's `python/` and the runtime's own
boto3, nothing else importable, the handler the template names loaded and called by awslambdaric through a
Runtime API stand-in. Every sample in events/ gets the answer it gets from the handler imported in the test
process (tests/integration/test_sam_samples.py), and OpenAI (the stand-in) receives the same requests.

A module the layer does not ship, a handler path that differs from the template or a boto3/botocore pair that
does not match fails here, where every other test would pass.
"""

from __future__ import annotations

import glob
import itertools
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from local.apigw import proxy_event
from local.services import provision
from local.template import function_properties, load_template
from tests.support import leak_guard
from tests.support.intrinsics import Deployment
from tests.support.lambda_runtime import LAMBDA_RUNTIME_DIR, LambdaProcess, RuntimeApi
from tests.support.loopback import STANDIN_KEY, STANDIN_PIXEL
from tests.support.repo import EVENTS, fresh, load_event, refreshed_apigw_sample, refreshed_sqs_sample
from tests.support.sam import NEEDS_SAM

pytestmark = [pytest.mark.integration, NEEDS_SAM]

APIGW_SAMPLES = sorted((EVENTS / "apigw").glob("*.json"))
SQS_SAMPLES = sorted((EVENTS / "sqs").glob("*.json"))
_names = itertools.count()


def python313() -> Path:
    """The Python the runtime packages (.lambda-runtime) were installed for: 3.13, as the Makefile finds it."""
    found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.13*/bin/python3.13"))) or [
        shutil.which("python3.13")
    ]
    assert found[0], "python3.13 not found: the deployed-shape test runs the handlers on the runtime's Python"
    return Path(found[0])


@pytest.fixture(scope="module")
def runtime_packages() -> Path:
    native = list(LAMBDA_RUNTIME_DIR.glob("runtime_client.cpython-313-*.so"))
    if not native and not os.environ.get("CI"):
        pytest.skip(f"{LAMBDA_RUNTIME_DIR.name}/ not installed for Python 3.13: make .lambda-runtime/.installed")
    assert native, f"{LAMBDA_RUNTIME_DIR} holds no awslambdaric for Python 3.13 (make .lambda-runtime/.installed)"
    return LAMBDA_RUNTIME_DIR


class Built:
    """`sam build`'s output read through its own template: where each function's code and layers are."""

    def __init__(self, build_dir: Path) -> None:
        self.dir = build_dir
        self.template = load_template(build_dir / "template.yaml")

    def layers(self, function_id: str, parameters: dict[str, str]) -> list[Path]:
        layer_ids = [lid for lid, r in self.template["Resources"].items() if r["Type"].endswith("LayerVersion")]
        deployment = Deployment(self.template, {"PixelId": STANDIN_PIXEL, **parameters}, refs={i: i for i in layer_ids})
        used = deployment.evaluate(function_properties(self.template, function_id)["Layers"])
        return [self.dir / self.template["Resources"][layer]["Properties"]["ContentUri"] / "python" for layer in used]

    def code(self, function_id: str) -> Path:
        return self.dir / function_properties(self.template, function_id)["CodeUri"]

    def import_path(self, function_id: str, runtime: Path, parameters: dict[str, str] | None = None) -> list[Path]:
        # Lambda's order: the function's folder, the layers (/opt/python), then the runtime's own packages.
        return [self.code(function_id), *self.layers(function_id, parameters or {}), runtime]


@pytest.fixture(scope="module")
def built(build_dir: Path) -> Built:
    return Built(build_dir)


def lambda_environment(template: dict, function_id: str, runtime_api: str, resources, base_url: str) -> dict[str, str]:
    """What Lambda sets, then the function's environment as the template resolves it for these resources."""
    properties = function_properties(template, function_id)
    deployment = Deployment(
        template,
        {"PixelId": STANDIN_PIXEL},
        refs={
            "EventsQueue": resources.queue_url,
            "DeadLetterQueue": resources.dlq_url,
            "OpenAIApiKeySecret": resources.secret_id,
        },
    )
    variables = deployment.evaluate(properties["Environment"]["Variables"])
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": function_id,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(deployment.evaluate(properties["MemorySize"])),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_id}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]deployedshape",
        "_HANDLER": properties["Handler"],
        **{name: str(value) for name, value in variables.items()},
        "BASE_URL": base_url,  # the stand-in on loopback (the BaseUrl parameter takes https only)
        **resources.env(),  # moto's endpoints, the region, dummy credentials
    }


class DeployedFunction:
    def __init__(self, function_id: str, api: RuntimeApi, process: LambdaProcess) -> None:
        self.function_id, self.api, self.process = function_id, api, process

    def invoke(self, event: dict) -> Any:
        kind, answer = self.api.invoke(event, self.process.process)
        assert kind == "response", f"{self.function_id}: {kind} {answer}\n{self.process.log()}"
        # The function's own log lines, as CloudWatch would get them: no raw personal data, oppref or key.
        assert not leak_guard.find(self.process.log()), leak_guard.find(self.process.log())
        return answer


@pytest.fixture(scope="module")
def deployed(built, runtime_packages, template, moto_server, standin_server) -> Iterator[dict[str, DeployedFunction]]:
    """Both functions started once, each from its built artifact, on their own queues and secret."""
    resources = provision(
        template, moto_server.endpoint_url, moto_server.endpoint_url, STANDIN_KEY, name_prefix=f"deployed{next(_names)}"
    )
    started: dict[str, DeployedFunction] = {}
    try:
        for function_id in ("IngestFunction", "BatchSenderFunction"):
            timeout = function_properties(template, function_id)["Timeout"]
            api = RuntimeApi(f"arn:aws:lambda:us-east-1:123456789012:function:{function_id}", timeout).start()
            env = lambda_environment(template, function_id, api.address, resources, standin_server.base_url)
            process = LambdaProcess(
                python313(),
                built.code(function_id),
                built.import_path(function_id, runtime_packages),
                env,
                handler=function_properties(template, function_id)["Handler"],
            )
            started[function_id] = DeployedFunction(function_id, api, process)
        yield started
    finally:
        for function in started.values():
            function.process.stop()
            function.api.stop()


def probe_imports(built: Built, function_id: str, runtime: Path, modules: list[str], **parameters) -> dict:
    """Where each module comes from on the function's import path (same path, same -S), after boto3 made a client
    (the boto3 and botocore found first must work together) and the X-Ray SDK, when on the path, was imported."""
    code = (
        "import importlib.util, importlib.metadata as m, json\n"
        "import boto3\n"
        "boto3.client('sqs', region_name='us-east-1')\n"
        "if importlib.util.find_spec('aws_xray_sdk'):\n"
        "    import aws_xray_sdk.core\n"
        f"modules = {modules!r}\n"
        "where = {name: importlib.util.find_spec(name).origin for name in modules}\n"
        "versions = {name: m.version(name) for name in ('boto3', 'botocore')}\n"
        "print(json.dumps({'where': where, 'versions': versions, 'boto3_requires': m.requires('boto3')}))\n"
    )
    path = built.import_path(function_id, runtime, parameters)
    result = subprocess.run(
        [str(python313()), "-S", "-c", code],
        cwd=built.code(function_id),
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(map(str, path))},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


# ---- what the built function imports, and from where ---------------------------------------------------------


@pytest.mark.parametrize("function_id", ["IngestFunction", "BatchSenderFunction"])
def test_a_built_function_imports_the_connector_from_its_layer_and_boto3_from_the_runtime(
    built, runtime_packages, function_id
):
    found = probe_imports(
        built, function_id, runtime_packages, ["app", "connector", "aws_lambda_powertools", "urllib3", "boto3"]
    )["where"]

    layer = str(built.dir / "ConnectorLayer" / "python")
    assert found["app"].startswith(str(built.code(function_id)))
    assert all(found[name].startswith(layer) for name in ("connector", "aws_lambda_powertools", "urllib3")), found
    assert found["boto3"].startswith(str(runtime_packages))


def test_with_xray_sdk_tracing_boto3_and_botocore_both_come_from_the_xray_layer_and_match(built, runtime_packages):
    probe = probe_imports(
        built, "IngestFunction", runtime_packages, ["boto3", "botocore", "aws_xray_sdk"], XRaySdkTracing="true"
    )

    xray_layer = str(built.dir / "XRaySdkLayer" / "python")
    assert probe["where"]["boto3"].startswith(xray_layer), probe["where"]
    assert probe["where"]["botocore"].startswith(xray_layer), probe["where"]
    requirements = [Requirement(text) for text in probe["boto3_requires"]]
    (declared,) = [r for r in requirements if r.name == "botocore" and r.marker is None]
    assert probe["versions"]["botocore"] in declared.specifier, (declared, probe["versions"])


# ---- every sample, through the Runtime API ----------------------------------------------------------------


@pytest.mark.parametrize("sample", APIGW_SAMPLES, ids=lambda path: path.stem)
def test_api_gateway_sample_gets_the_same_answer_from_the_built_ingest_function(
    deployed, ingest_app, standin, lambda_context, sample: Path
):
    event = refreshed_apigw_sample(json.loads(sample.read_text()))
    # GIVEN the answer of the handler imported in this process, and what OpenAI received from it
    expected = ingest_app.lambda_handler(event, lambda_context)
    expected_requests = [request.json for request in standin.requests]
    standin.reset()

    # WHEN the built function answers the same event
    answer = deployed["IngestFunction"].invoke(event)

    # THEN the status, the results and what reached OpenAI are the same
    assert (answer["statusCode"], json.loads(answer["body"])) == (expected["statusCode"], json.loads(expected["body"]))
    assert [request.json for request in standin.requests] == expected_requests
    results = json.loads(answer["body"])["results"]
    assert results and not any(result["errors"] for result in results), results


@pytest.mark.parametrize("sample", SQS_SAMPLES, ids=lambda path: path.stem)
def test_sqs_sample_gets_the_same_answer_from_the_built_batch_sender(
    deployed, batch_app, standin, lambda_context, sample: Path
):
    event = refreshed_sqs_sample(load_event(str(sample.relative_to(EVENTS))))
    expected = batch_app.lambda_handler(event, lambda_context)
    expected_requests = [request.json for request in standin.requests]
    standin.reset()

    answer = deployed["BatchSenderFunction"].invoke(event)

    assert answer == expected == {"batchItemFailures": []}
    assert [request.json for request in standin.requests] == expected_requests
    assert len(standin.event_ids()) == len(event["Records"])


def test_an_unknown_action_gets_the_same_404_from_the_built_function(deployed, ingest_app, lambda_context):
    event = proxy_event("refund", json.dumps(fresh(load_event("tealium/purchase-event.json"))))

    answer = deployed["IngestFunction"].invoke(event)

    expected = ingest_app.lambda_handler(event, lambda_context)
    assert answer["statusCode"] == expected["statusCode"] == 404
    assert json.loads(answer["body"]) == json.loads(expected["body"])
