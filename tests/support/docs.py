"""The documentation tests read: the README (the newcomer's path) and docs/*.md (the reference, one topic a file)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.repo import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"


def documentation_files() -> list[Path]:
    """README.md first, then every docs/*.md by name."""
    return [README, *sorted(DOCS.glob("*.md"))]


def read_doc(name: str) -> str:
    """One file's text: "README.md", or a docs/ file by its name ("operations.md")."""
    path = README if name == "README.md" else DOCS / name
    return path.read_text(encoding="utf-8")


def all_docs_text() -> str:
    """Every documentation file's text, one after the other: for facts that may live in any of them."""
    return "\n\n".join(path.read_text(encoding="utf-8") for path in documentation_files())


def section(text: str, heading: str) -> str:
    """From `heading` (a whole heading line, e.g. "# Security and operations") to the next heading of
    the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    start = text.index(heading + "\n")
    following = re.compile(rf"^#{{1,{level}}} ", flags=re.M)
    found = following.search(text, start + len(heading))
    return text[start : found.start() if found else len(text)]
