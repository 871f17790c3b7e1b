"""checkov (a static analyser for infrastructure templates) over template.yaml: every check it fails is
either fixed or listed in .checkov.yaml with the reason it does not apply to this application."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.repo import ROOT

TEMPLATE = ROOT / "template.yaml"
CONFIG = ROOT / ".checkov.yaml"
#: A skip-list line: the check id, then `# <reason>`.
SKIP_LINE = re.compile(r"^\s+-\s+(CKV2?_[A-Z0-9_]+)\s*(?:#\s*(.*))?$")


#: checkov lives in its own venv (`make .venv-checkov/.installed`): it pins packages the test tools need newer.
CHECKOV_VENV = ROOT / ".venv-checkov" / "bin" / "checkov"

pytestmark = pytest.mark.skipif(
    not CHECKOV_VENV.exists() and not shutil.which("checkov") and not os.environ.get("CI"),
    reason="checkov not installed (make .venv-checkov/.installed); in CI these tests run and fail instead",
)


def checkov_path() -> Path:
    found = CHECKOV_VENV if CHECKOV_VENV.exists() else shutil.which("checkov")
    assert found, "checkov not installed: make .venv-checkov/.installed"
    return Path(found)


def listed_checks() -> dict[str, str]:
    """Check id -> reason, from the skip-check list of .checkov.yaml."""
    text = CONFIG.read_text()
    block = text[text.index("skip-check:") :].splitlines()[1:]
    listed = {}
    for line in block:
        if not line.strip():
            continue
        match = SKIP_LINE.match(line)
        if not match:
            break
        listed[match.group(1)] = (match.group(2) or "").strip()
    return listed


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict[str, dict[str, set[str]]]:
    """ "passed"/"failed" -> check id -> resources, with no skip list (run outside the repository, so
    checkov does not pick up .checkov.yaml), offline."""
    result = subprocess.run(
        [
            str(checkov_path()),
            "-f",
            str(TEMPLATE),
            "--framework",
            "cloudformation",
            "--skip-download",
            "--output",
            "json",
        ],
        cwd=tmp_path_factory.mktemp("checkov"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]
    results = json.loads(result.stdout)["results"]
    found: dict[str, dict[str, set[str]]] = {"passed": {}, "failed": {}}
    for outcome, checks in found.items():
        for check in results[f"{outcome}_checks"]:
            checks.setdefault(check["check_id"], set()).add(check["resource"])
    return found


@pytest.fixture(scope="module")
def failed_checks(report) -> dict[str, set[str]]:
    return report["failed"]


def test_every_failed_check_is_listed_with_a_reason(failed_checks):
    listed = listed_checks()

    unlisted = {check: sorted(resources) for check, resources in failed_checks.items() if check not in listed}
    assert not unlisted, f"fix these or list them with a reason in .checkov.yaml: {unlisted}"


def test_skip_list_holds_no_check_that_passes(failed_checks):
    stale = set(listed_checks()) - set(failed_checks)

    assert not stale, f"fixed since: remove from .checkov.yaml: {sorted(stale)}"


def test_every_listed_check_says_why_it_does_not_apply():
    listed = listed_checks()

    assert listed
    for check, reason in listed.items():
        assert len(reason) >= 30, f"{check}: give the reason it does not apply"


def test_checks_fixed_by_the_template_stay_fixed(report):
    # Each failed before the template set it: reserved ingest concurrency, API access logs, log retention.
    assert "AWS::Serverless::Function.IngestFunction" in report["passed"]["CKV_AWS_115"]
    assert "AWS::Serverless::Api.EventsApi" in report["passed"]["CKV_AWS_76"]
    assert "AWS::Logs::LogGroup.ApiAccessLogGroup" in report["passed"]["CKV_AWS_66"]


def test_the_config_scans_the_template_clean():
    result = subprocess.run(
        [str(checkov_path()), "--config-file", str(CONFIG)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stdout[-3000:]
    assert "Failed checks: 0" in result.stdout
