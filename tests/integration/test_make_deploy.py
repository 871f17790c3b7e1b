"""`make deploy` and `make validate` as a newcomer runs them: the project's own SAM CLI, guided the first time."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.support.repo import ROOT
from tests.support.sam import NEEDS_SAM, SAM_PYTHON, TEMPLATE, output_of

pytestmark = NEEDS_SAM

#: Stands in for SAM CLI: records each call's arguments and the first PATH entry, one line per call.
FAKE_SAM = """#!/usr/bin/env bash
first_on_path="${PATH%%:*}"
echo "$* | first on PATH: ${first_on_path}" >> "$FAKE_SAM_LOG"
"""


#: SAM CLI's own guided prompts for the template's parameters, answered from stdin; prints the values taken.
GUIDED_PARAMETER_PROMPTS = """
import json, sys
from samcli.commands.deploy.guided_context import GuidedContext
from samcli.yamlhelper import yaml_parse

with open(sys.argv[1], encoding="utf-8") as handle:
    parameters = yaml_parse(handle.read())["Parameters"]
answers = GuidedContext.prompt_parameters(GuidedContext.__new__(GuidedContext), parameters, {}, "", "")
print("\\n" + json.dumps({name: answer["Value"] for name, answer in answers.items()}))  # after the prompts' line
"""


@pytest.fixture
def fake_sam(tmp_path: Path) -> tuple[Path, Path]:
    script = tmp_path / "sam"
    script.write_text(FAKE_SAM)
    script.chmod(0o755)
    return script, tmp_path / "sam-calls.log"


def make(*arguments: str, log: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *arguments],
        cwd=ROOT,
        env=dict(os.environ, FAKE_SAM_LOG=str(log)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def calls(log: Path) -> list[tuple[list[str], Path]]:
    found = []
    for line in log.read_text().splitlines():
        arguments, first_on_path = line.split(" | first on PATH: ")
        found.append((shlex.split(arguments), Path(first_on_path)))
    return found


def deploy(fake_sam: tuple[Path, Path], samconfig: Path, *extra: str) -> list[tuple[list[str], Path]]:
    script, log = fake_sam
    result = make("deploy", f"SAM={script}", f"SAMCONFIG={samconfig}", *extra, log=log)
    assert result.returncode == 0, result.stdout + result.stderr
    return calls(log)


def test_first_deploy_builds_with_python_313_then_deploys_guided(fake_sam, tmp_path):
    samconfig = tmp_path / "samconfig.toml"
    samconfig.write_text((ROOT / "samconfig.toml").read_text())  # as cloned: no PixelId yet

    (build, build_path), (deploy_call, _) = deploy(fake_sam, samconfig)

    assert build == ["build"]
    assert (build_path / "python3.13").exists(), build_path  # the runtime's Python first on PATH
    assert deploy_call == ["deploy", "--guided", "--config-file", str(samconfig)]


def test_once_samconfig_holds_the_pixel_id_deploy_asks_nothing(fake_sam, tmp_path):
    # What `sam deploy --guided` saves when the user answers yes to "Save arguments to configuration file".
    samconfig = tmp_path / "samconfig.toml"
    samconfig.write_text(
        (ROOT / "samconfig.toml").read_text()
        + '\n[default.deploy.parameters]\nparameter_overrides = "PixelId=\\"px_0123\\" LogLevel=\\"INFO\\""\n'
    )

    (_, _), (deploy_call, _) = deploy(fake_sam, samconfig)

    assert deploy_call == ["deploy", "--config-file", str(samconfig)]


def test_guided_can_be_asked_for_again(fake_sam, tmp_path):
    samconfig = tmp_path / "samconfig.toml"
    samconfig.write_text('[default.deploy.parameters]\nparameter_overrides = "PixelId=\\"px_0123\\""\n')

    (_, _), (deploy_call, _) = deploy(fake_sam, samconfig, "GUIDED=1")

    assert deploy_call[:2] == ["deploy", "--guided"]


def test_validate_sets_up_the_dev_venv_first_on_a_fresh_clone(tmp_path):
    # A dry run with a venv that does not exist yet: cfn-lint comes from the venv validate creates first.
    venv = tmp_path / "fresh-venv"
    result = make("-n", "validate", f"VENV={venv}", log=tmp_path / "unused.log")
    lines = result.stdout.splitlines()

    assert result.returncode == 0, result.stdout + result.stderr
    created = next(n for n, line in enumerate(lines) if f"-m venv {venv}" in line)
    linted = next(n for n, line in enumerate(lines) if f"{venv}/bin/cfn-lint template.yaml" in line)
    assert created < linted


def test_the_guided_prompts_need_only_the_pixel_id_typed(template):
    # GIVEN SAM CLI's guided prompts for every parameter WHEN the user types a PixelId and presses Enter at
    # every other prompt THEN each other parameter takes the template's default
    answers = subprocess.run(
        [str(SAM_PYTHON), "-c", GUIDED_PARAMETER_PROMPTS, str(TEMPLATE)],
        input="px_0123\n" + "\n" * len(template["Parameters"]),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert answers.returncode == 0, output_of(answers)
    taken = json.loads(answers.stdout.splitlines()[-1])

    assert taken.pop("PixelId") == "px_0123"
    assert taken == {
        name: str(parameter["Default"]) for name, parameter in template["Parameters"].items() if name != "PixelId"
    }
