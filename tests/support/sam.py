"""SAM CLI for the tests: its venv, running a tool, and the template after SAM's transform."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.repo import ROOT

TEMPLATE = ROOT / "template.yaml"
#: SAM CLI lives in its own venv (`python3 -m venv .venv-sam && .venv-sam/bin/pip install aws-sam-cli`).
SAM = ROOT / ".venv-sam" / "bin" / "sam"
#: The SAM CLI venv's Python, which has SAM's translator (samtranslator).
SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"
#: `sam build` with BuildMethod python3.13 needs a python3.13 on PATH; this is where pyenv puts one.
PYENV_PYTHON313_BIN = Path("/root/.pyenv/versions/3.13.0/bin")
#: Each tool gets this long; a first `sam build` downloads the layer's wheels.
TOOL_TIMEOUT = 300

#: Prints the template as CloudFormation receives it after SAM's transform (code URIs stubbed: no upload).
TRANSFORM_SCRIPT = """
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

with open(sys.argv[1], encoding="utf-8") as handle:
    template = yaml_parse(handle.read())
for resource in template["Resources"].values():
    properties = resource.get("Properties", {})
    for key in ("CodeUri", "ContentUri"):
        if key in properties:
            properties[key] = "s3://placeholder-bucket/placeholder.zip"

class NoManagedPolicies:
    def load(self):
        return {}

print(json.dumps(transform(template, {}, NoManagedPolicies())))
"""

#: The SAM tests' mark: skipped where SAM CLI is not installed, failed in CI.
NEEDS_SAM = pytest.mark.skipif(
    not SAM.exists() and not os.environ.get("CI"),
    reason=f"SAM CLI not installed at {SAM.relative_to(ROOT)} (python3 -m venv .venv-sam && "
    ".venv-sam/bin/pip install aws-sam-cli); in CI these tests run and fail instead",
)


def tool_env() -> dict[str, str]:
    env = dict(os.environ, SAM_CLI_TELEMETRY="0", AWS_DEFAULT_REGION="us-east-1")
    path = env.get("PATH", "")
    if PYENV_PYTHON313_BIN.is_dir():
        path = f"{PYENV_PYTHON313_BIN}{os.pathsep}{path}"
    env["PATH"] = path
    return env


def run(*command: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command],
        cwd=ROOT,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT,
        check=False,
    )


def sam(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert SAM.exists(), f"SAM CLI missing at {SAM}: python3 -m venv .venv-sam && .venv-sam/bin/pip install aws-sam-cli"
    return run(SAM, *args)


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return f"{result.stdout}\n{result.stderr}"
