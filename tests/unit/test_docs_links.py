"""Every relative link in README.md and docs/*.md leads somewhere (the file exists; an `#anchor` matches
one of its headings, as GitHub slugs them), and every shell block's `make X` names a Makefile target."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.docs import documentation_files
from tests.support.repo import ROOT

FENCE = re.compile(r"^```(\w*)\n(.*?)^```", flags=re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
#: `[text](target)`; a target has no spaces (a title after it, `"..."`, is not used in these files).
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", flags=re.M)
SHELL_LANGUAGES = {"", "bash", "sh", "shell", "console"}
MAKE_COMMAND = re.compile(r"(?:^|[\s;&|(])make +([a-z][\w-]*)", flags=re.M)


def prose(text: str) -> str:
    """The text outside code: fenced blocks and inline code spans hold examples, not links."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: markup dropped, lowercase, punctuation but `-` and `_` removed,
    spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = text.replace("`", "").replace("*", "").lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The heading anchors of a Markdown file, with GitHub's -1, -2 suffixes for repeated headings."""
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        slug = github_slug(heading)
        found.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
        seen[slug] = seen.get(slug, 0) + 1
    return found


def broken_links(path: Path) -> list[str]:
    """Each relative link of `path` that does not resolve, with the reason."""
    broken = []
    for target in LINK.findall(prose(path.read_text(encoding="utf-8"))):
        if re.match(r"[a-z][a-z+.-]*:", target):  # https:, mailto:: not checked offline
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading with that anchor in {linked.name}")
    return broken


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), flags=re.M))


DOC_FILES = documentation_files()


@pytest.mark.parametrize("path", DOC_FILES, ids=[p.name for p in DOC_FILES])
def test_every_relative_link_resolves(path):
    assert broken_links(path) == []


@pytest.mark.parametrize("path", DOC_FILES, ids=[p.name for p in DOC_FILES])
def test_every_make_target_in_a_shell_block_exists(path):
    named = {
        target
        for language, body in FENCE.findall(path.read_text(encoding="utf-8"))
        if language in SHELL_LANGUAGES
        for target in MAKE_COMMAND.findall(body)
    }
    assert sorted(named - make_targets()) == []


def test_the_checks_catch_a_broken_link_a_wrong_anchor_and_an_unknown_target(tmp_path):
    # GIVEN a page beside a real one, linking a missing file, a missing heading and a good heading
    (tmp_path / "other.md").write_text("# Other\n\n## Dead letters, ordering and duplicates\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n## The `try` command\n\n"
        "[gone](missing.md) [wrong](other.md#ordering) [right](other.md#dead-letters-ordering-and-duplicates)\n"
        "[here](#the-try-command) [site](https://example.com/x.md) `[code](nowhere.md)`\n"
        "```bash\nmake demo && make nosuchtarget\n```\n"
    )

    # WHEN the checks run / THEN each broken one is named, the good ones are not
    assert broken_links(page) == [
        "missing.md: no such file",
        "other.md#ordering: no heading with that anchor in other.md",
    ]
    block = FENCE.findall(page.read_text())[0][1]
    assert set(MAKE_COMMAND.findall(block)) - make_targets() == {"nosuchtarget"}


def test_github_slugs_of_the_headings_these_files_use():
    assert github_slug("Tealium's batched webhook") == "tealiums-batched-webhook"
    assert github_slug("Tracing, latency and cost") == "tracing-latency-and-cost"
    assert github_slug("sam local, with Docker") == "sam-local-with-docker"
