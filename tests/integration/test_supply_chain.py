"""Each layer's dependencies are a lock: every distribution pinned with its hashes, installed by the
layer's Makefile (what `sam build` runs) in pip's hash-checking mode, for the Lambda runtime only."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.repo import ROOT

LAYER = ROOT / "layers" / "connector"
#: Every layer folder, with the template's logical id its Makefile builds, and a direct dependency it must lock.
LAYERS = [(LAYER, "ConnectorLayer", "aws-lambda-powertools"), (LAYER.parent / "xray", "XRaySdkLayer", "aws-xray-sdk")]
#: One requirement of the lock: `name==version \` followed by its `--hash=sha256:<64 hex>` lines.
PINNED = re.compile(r"^([A-Za-z0-9._\[\]-]+)==([^\s\\]+)\s*\\\n((?:\s+--hash=sha256:[0-9a-f]{64}\s*\\?\n?)+)", re.M)


def requirement_names(text: str) -> list[str]:
    """The names of a requirements file's requirements, comments and options left out."""
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return [re.split(r"[\[<>=!~; \\]", line, maxsplit=1)[0].lower() for line in lines if line and line[0].isalnum()]


@pytest.mark.parametrize("layer, _, __", LAYERS, ids=[layer_id for _, layer_id, _ in LAYERS])
def test_every_locked_requirement_is_pinned_with_a_hash(layer, _, __):
    lock = (layer / "requirements.txt").read_text()
    pinned = PINNED.findall(lock)

    assert pinned
    assert sorted(name.lower() for name, _, _ in pinned) == sorted(requirement_names(lock))
    for name, _, hashes in pinned:
        assert hashes.count("--hash=sha256:") >= 1, name


@pytest.mark.parametrize("layer, _, dependency", LAYERS, ids=[layer_id for _, layer_id, _ in LAYERS])
def test_lock_holds_every_direct_dependency(layer, _, dependency):
    lock = (layer / "requirements.txt").read_text()
    direct = requirement_names((layer / "requirements.in").read_text())
    locked = {name.lower() for name, _, _ in PINNED.findall(lock)}

    assert dependency in direct
    assert set(direct) <= locked
    # The Makefile's `make lock` is the refresh command the lock's header names.
    assert "make lock" in lock


@pytest.mark.parametrize("layer, layer_id, _", LAYERS, ids=[layer_id for _, layer_id, _ in LAYERS])
def test_layer_build_installs_the_lock_in_hash_checking_mode_for_the_lambda_runtime(layer, layer_id, _):
    makefile = (layer / "Makefile").read_text()
    install = makefile[makefile.index(f"build-{layer_id}:") :]

    for option in (
        "--require-hashes",
        "--only-binary=:all:",
        "--platform manylinux2014_aarch64",
        "--python-version 3.13",
        "-r requirements.txt",
        '--target "$(ARTIFACTS_DIR)/python"',
    ):
        assert option in install, option


def test_dev_requirements_take_the_layers_ranges_not_the_lock():
    # pip's hash-checking mode would then demand hashes of every development tool too.
    dev = (LAYER.parent.parent / "requirements-dev.txt").read_text()

    for layer, _, _ in LAYERS:
        assert f"-r layers/{layer.name}/requirements.in" in dev
        assert f"layers/{layer.name}/requirements.txt" not in dev


def run_layer_build(tmp_path: Path, requirements: str) -> subprocess.CompletedProcess[str]:
    """The layer's Makefile target, as `sam build` runs it, over a copy of the layer with these requirements."""
    source = tmp_path / "layer"
    shutil.copytree(LAYER, source, ignore=shutil.ignore_patterns("__pycache__"))
    (source / "requirements.txt").write_text(requirements)
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            "build-ConnectorLayer",
            f"ARTIFACTS_DIR={artifacts}",
            f"PYTHON={sys.executable}",
        ],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.integration
def test_layer_build_refuses_a_wheel_whose_hash_differs(tmp_path):
    # One small distribution of the lock (PyPI must be reachable, as for `sam build`).
    lock = (LAYER / "requirements.txt").read_text()
    ((name, version, hashes),) = [p for p in PINNED.findall(lock) if p[0] == "urllib3"]
    genuine = f"{name}=={version} \\\n{hashes}"
    tampered = re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, genuine)

    assert run_layer_build(tmp_path / "genuine", genuine).returncode == 0
    refused = run_layer_build(tmp_path / "tampered", tampered)
    assert refused.returncode != 0
    assert "HASHES" in refused.stderr.upper()
