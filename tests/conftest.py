"""Shared fixtures: loopback services, the connector's environment, handlers loaded fresh, a log-leak guard."""

from __future__ import annotations

import itertools
import json
import os
import sys

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# Set before anything imports Powertools or boto3.
os.environ.update(
    {
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_SERVICE_NAME": "openai-events-connector",
        "POWERTOOLS_METRICS_NAMESPACE": "OpenAIEventsConnectorTests",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
)

from local.handlers import apply_environment, connector_environment, load_handler
from tests.support import leak_guard
from tests.support.loopback import CONNECTOR_SETTINGS, STANDIN_KEY, STANDIN_PIXEL
from tests.support.repo import ROOT

# Property tests: no per-example deadline and no "too slow" health check (both measure the machine, not the
# code). In CI the examples are derandomized, so a verdict is the same on every run; locally they vary,
# which is how new counterexamples are found.
_MACHINE_SPEED_CHECKS = [HealthCheck.too_slow]
hypothesis_settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, suppress_health_check=_MACHINE_SPEED_CHECKS, print_blob=True
)
hypothesis_settings.register_profile("dev", deadline=None, suppress_health_check=_MACHINE_SPEED_CHECKS)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    leak_guard.scan(report.nodeid, report.capstdout + report.capstderr + report.caplog)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if leak_guard.LEAKS:
        sys.stderr.write("\nPERSONAL DATA OR SECRETS IN CAPTURED OUTPUT:\n")
        for line in leak_guard.LEAKS:
            sys.stderr.write(f"  {line}\n")
        session.exitstatus = 1


@pytest.fixture
def lambda_context():
    from local.sqs_poller import FakeLambdaContext

    return FakeLambdaContext(function_name="IngestFunction", timeout_seconds=29)


@pytest.fixture(scope="session")
def template() -> dict:
    from local.template import load_template

    return load_template(ROOT / "template.yaml")


@pytest.fixture(scope="session")
def standin_server():
    from local.openai_standin import OpenAIStandin

    server = OpenAIStandin(api_keys=[STANDIN_KEY], pixel_ids=[STANDIN_PIXEL, "px_override"]).start()
    yield server
    server.stop()


@pytest.fixture
def standin(standin_server):
    standin_server.reset()
    standin_server.api_keys = {STANDIN_KEY}
    yield standin_server
    standin_server.reset()


@pytest.fixture(scope="session")
def moto_server():
    from local.services import start_moto

    service = start_moto()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def fast_sqs():
    """local-aws-sqs: stays fast at depth (moto slows to seconds per message at a few thousand)."""
    from local.services import start_fast_sqs

    service = start_fast_sqs()  # fails with a message naming `npm ci` when node_modules is missing
    yield service
    service.stop()


@pytest.fixture(scope="session")
def sqs(fast_sqs):
    """A boto3 SQS client of the fast SQS server."""
    from local.services import aws_client

    return aws_client("sqs", fast_sqs.endpoint_url, "us-east-1")


_names = itertools.count()


@pytest.fixture
def aws(moto_server, template):
    """Fresh queues and secret (moto) as template.yaml defines them."""
    from local.services import provision

    return provision(
        template, moto_server.endpoint_url, moto_server.endpoint_url, STANDIN_KEY, name_prefix=f"t{next(_names)}"
    )


@pytest.fixture
def connector_env(monkeypatch, aws, standin):
    env = connector_environment(aws, standin.base_url, pixel_id=STANDIN_PIXEL, **CONNECTOR_SETTINGS)
    apply_environment(monkeypatch, env)
    return env


@pytest.fixture
def ingest_app(connector_env):
    return load_handler("ingest")


@pytest.fixture
def batch_app(connector_env):
    return load_handler("batch_sender")


@pytest.fixture(scope="module")
def transformed() -> dict:
    """The template after SAM's transform, to check what SAM generates from it."""
    from tests.support.sam import SAM_PYTHON, TEMPLATE, TRANSFORM_SCRIPT, output_of, run

    assert SAM_PYTHON.exists(), f"SAM CLI venv missing at {SAM_PYTHON.parent.parent}"
    result = run(SAM_PYTHON, "-c", TRANSFORM_SCRIPT, TEMPLATE)
    assert result.returncode == 0, output_of(result)
    return json.loads(result.stdout)


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory):
    """One `sam build` for the session, as `make build` runs it (Python 3.13 on PATH). --no-cached keeps SAM's
    dependency cache out of the repository."""
    from tests.support.sam import TEMPLATE, output_of, sam

    target = tmp_path_factory.mktemp("sam") / "build"
    result = sam("build", "--template-file", TEMPLATE, "--build-dir", target, "--no-cached", "--parallel")
    assert result.returncode == 0, output_of(result)
    assert "Build Succeeded" in result.stdout, output_of(result)
    return target
