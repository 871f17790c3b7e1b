"""The test tree stands alone: no test file imports another, shared helpers live in tests/support/."""

from __future__ import annotations

import ast
import re

import pytest

from tests.support.repo import ROOT

TESTS = ROOT / "tests"
#: Modules a test file must not import: other test files (wherever they sit) and the fixtures file.
TEST_MODULE = re.compile(r"^tests\.(test_\w+|conftest|unit(\..*)?|integration(\..*)?)$")


def imported_modules(source: str) -> set[str]:
    """Every absolute module an import statement names, with `from tests import x` read as tests.x."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


@pytest.mark.parametrize("path", sorted(TESTS.rglob("test_*.py")), ids=lambda path: str(path.relative_to(TESTS)))
def test_a_test_file_imports_no_other_test_file(path):
    # GIVEN a test file WHEN its imports are read THEN none names another test file or the fixtures file
    wrong = sorted(name for name in imported_modules(path.read_text(encoding="utf-8")) if TEST_MODULE.match(name))
    assert not wrong, f"{path.relative_to(TESTS)} imports {wrong}: move shared helpers to tests/support/"


def test_there_is_one_load_event():
    # GIVEN every Python file under tests/ WHEN the functions named load_event are counted THEN there is one
    found = [
        path.relative_to(TESTS)
        for path in TESTS.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef) and node.name == "load_event"
    ]
    assert [str(path) for path in found] == ["support/repo.py"]
