"""What the Lambda layers hold: the distributions a requirements file installs, with their sizes.

Read from this environment's installed copies (the versions `sam build` would also pick), so it
needs no network; `make build` gives the built layer itself under .aws-sam/build.
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
import sys
from pathlib import Path

from packaging.requirements import Requirement

from bench.payloads import ROOT

# The direct requirements (the .in files; requirements.txt beside each is the hash-pinned lock of them).
CONNECTOR_REQUIREMENTS = ROOT / "layers" / "connector" / "requirements.in"
XRAY_REQUIREMENTS = ROOT / "layers" / "xray" / "requirements.in"
CONNECTOR_PACKAGE = ROOT / "layers" / "connector" / "connector"
#: What the Lambda python3.13 runtime provides besides the standard library (AWS documentation,
#: "Lambda runtimes": the SDK for Python and its dependencies).
RUNTIME_PACKAGES = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3"})


def _requirements(path: Path) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distributions(path: Path) -> list[metadata.Distribution]:
    """The requirements and everything they require, as pip would install them here."""
    found: dict[str, metadata.Distribution] = {}
    pending = [(requirement, frozenset(requirement.extras)) for requirement in _requirements(path)]
    while pending:
        requirement, extras = pending.pop()
        name = _normalized(requirement.name)
        if name in found:
            continue
        found[name] = dist = metadata.distribution(requirement.name)
        for text in dist.requires or ():
            needed = Requirement(text)
            environments = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            if needed.marker is None or any(needed.marker.evaluate(env) for env in environments):
                pending.append((needed, frozenset(needed.extras)))
    return sorted(found.values(), key=lambda dist: _normalized(dist.metadata["Name"]))


def installed_bytes(dist: metadata.Distribution) -> int:
    """Bytes of the files the distribution installed, without compiled .pyc (Lambda writes none to /opt)."""
    total = 0
    for file in dist.files or ():
        if file.suffix != ".pyc":
            located = Path(dist.locate_file(file))
            if located.is_file():
                total += located.stat().st_size
    return total


def top_level_names(dists: list[metadata.Distribution]) -> set[str]:
    """Importable top-level names the distributions provide."""
    names = set()
    for dist in dists:
        for file in dist.files or ():
            top = file.parts[0]
            if top.endswith((".dist-info", ".data")) or top == "..":
                continue
            names.add(top.removesuffix(".py") if len(file.parts) == 1 else top)
    return names


def deployed_names(xray_sdk: bool) -> set[str]:
    """Top-level modules a deployed function can import: its code, the layer(s), the runtime, stdlib."""
    layers = distributions(CONNECTOR_REQUIREMENTS) + (distributions(XRAY_REQUIREMENTS) if xray_sdk else [])
    return {"app", "connector", *top_level_names(layers), *RUNTIME_PACKAGES, *sys.stdlib_module_names}


def _layer(path: Path, with_connector: bool) -> dict:
    dists = distributions(path)
    rows = [{"package": d.metadata["Name"], "version": d.version, "bytes": installed_bytes(d)} for d in dists]
    if with_connector:
        code = sum(file.stat().st_size for file in CONNECTOR_PACKAGE.rglob("*.py"))
        rows.append({"package": "connector", "version": "", "bytes": code})
    return {"rows": sorted(rows, key=lambda row: -row["bytes"]), "bytes": sum(row["bytes"] for row in rows)}


def run() -> dict:
    return {"connector": _layer(CONNECTOR_REQUIREMENTS, True), "xray_sdk": _layer(XRAY_REQUIREMENTS, False)}
