"""The connector package's dependency rule (connector/__init__.py), read from every module's imports with ast."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.repo import ROOT

PACKAGE = ROOT / "layers" / "connector" / "connector"
#: Libraries that reach AWS, the network or Powertools: the pure core and the services import none of them.
OUTSIDE_WORLD = frozenset({"boto3", "botocore", "urllib3", "aws_lambda_powertools"})
#: Layer -> the connector subpackages and modules it must never import.
FORBIDDEN = {
    "core": frozenset(
        {"connector.adapters", "connector.services", "connector.wiring", "connector.cli", "connector.cli_trail"}
    ),
    "adapters": frozenset({"connector.services", "connector.wiring", "connector.cli", "connector.cli_trail"}),
    "services": frozenset({"connector.adapters", "connector.wiring", "connector.cli", "connector.cli_trail"}),
}
#: What may sit beside the three layers at the package's top.
TOP_LEVEL = frozenset({"__init__.py", "__main__.py", "cli.py", "cli_trail.py", "wiring.py"})


def modules(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


def imported_names(path: Path) -> set[str]:
    """Every module an import statement names, anywhere in the file (deferred imports included)."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against the module's own package
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def breaks(name: str, forbidden: frozenset[str]) -> bool:
    return any(name == bad or name.startswith(bad + ".") for bad in forbidden)


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_each_layer_has_modules(layer):
    assert modules(layer), f"connector/{layer}/ holds no module"


@pytest.mark.parametrize(
    "path", [p for layer in FORBIDDEN for p in modules(layer)], ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_a_module_imports_only_what_its_layer_may(path):
    layer = path.relative_to(PACKAGE).parts[0]
    names = imported_names(path)
    wrong = sorted(name for name in names if breaks(name, FORBIDDEN[layer]))
    assert not wrong, f"connector/{layer}/ must not import {wrong}"
    if layer in ("core", "services"):
        outside = sorted(name for name in names if name.split(".")[0] in OUTSIDE_WORLD)
        assert not outside, f"connector/{layer}/ must not import {outside}"


def test_every_module_belongs_to_a_layer():
    loose = {path.name for path in PACKAGE.glob("*.py")} - TOP_LEVEL
    assert not loose, f"modules outside core/, adapters/ and services/: {sorted(loose)}"


def test_the_core_never_loads_the_outside_world():
    # GIVEN a fresh interpreter WHEN every core module is imported THEN none of the libraries came with it
    import subprocess
    import sys

    core = sorted(
        ".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__") for p in modules("core")
    )
    probe = "import sys\n" + "".join(f"import {name}\n" for name in core)
    probe += f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(OUTSIDE_WORLD)!r}))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=PACKAGE.parent, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
