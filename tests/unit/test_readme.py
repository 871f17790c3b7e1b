"""The documentation's commands and examples stay true: the README opens with the two set-up commands
CI runs, and across README.md and docs/*.md the actions documents load and the files, targets and
samples they name exist."""

from __future__ import annotations

import re

import pytest
from connector.core.actions import parse_actions

from tests.support.docs import all_docs_text, read_doc
from tests.support.repo import ROOT

README = read_doc("README.md")
DOCS = all_docs_text()
FENCE = re.compile(r"```(\w*)\n(.*?)```", flags=re.S)
README_FENCES = FENCE.findall(README)


def test_readme_opens_with_the_two_setup_commands():
    first_block = README_FENCES[0][1]
    assert "make demo" in first_block and "make test" in first_block


def test_ci_runs_the_readme_test_command_and_says_so_first():
    readme_command = re.search(r"^(make \w+)\s+#.*\btests\b", README_FENCES[0][1], flags=re.M).group(1)
    script = (ROOT / ".ci" / "run").read_text()
    assert f'TEST_COMMAND="{readme_command}"' in script
    commands = [line for line in script.splitlines() if line and not line.startswith(("#", "set ", "cd ", "TEST_"))]
    assert commands[0].startswith("echo ") and "${TEST_COMMAND}" in commands[0]
    assert commands[-1] == "${TEST_COMMAND}"  # last, so the log ends with its pytest summary line


ACTIONS_EXAMPLES = [body for lang, body in FENCE.findall(DOCS) if lang == "json" and '"actions"' in body]


@pytest.mark.parametrize("document", ACTIONS_EXAMPLES)
def test_every_actions_example_is_a_valid_document(document):
    assert parse_actions(document)


def test_every_make_target_named_exists():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, flags=re.M))
    named = set(re.findall(r"`?make (\w+)", DOCS))
    assert named and named <= targets


def test_every_repository_path_named_exists():
    paths = set(re.findall(r"(?:events|functions|layers|local|tests|bench)/[\w./-]+\.(?:json|py|yaml)", DOCS))
    paths |= set(re.findall(r"`([\w-]+\.(?:yaml|toml))`", DOCS))
    assert paths
    generated = {"bench/results/latest.json"}  # written by `make bench`, git-ignored
    assert [p for p in paths - generated if not (ROOT / p).exists()] == []


def test_sam_local_samples_name_functions_of_the_template(template):
    invocations = re.findall(r"sam local invoke (\w+) -e (\S+)", DOCS)
    assert invocations
    for function, sample in invocations:
        assert template["Resources"][function]["Type"] == "AWS::Serverless::Function"
        assert (ROOT / sample).exists()


def test_the_action_keys_table_names_every_key_the_actions_document_takes():
    from connector.core.actions import ACTION_KEYS

    table = set(re.findall(r"^\| `(\w+)` \|", read_doc("actions.md"), flags=re.M))
    assert table >= ACTION_KEYS


def test_the_readme_stays_a_newcomers_page_and_links_every_reference_file():
    assert len(README.splitlines()) <= 200
    reference = {path.name for path in (ROOT / "docs").glob("*.md")}
    assert reference
    assert [name for name in sorted(reference) if f"(docs/{name}" not in README] == []


def settings_tables() -> list[tuple[set[str], str]]:
    """(the parameters a row names, its default cell) of every Settings table, wherever the documentation keeps
    it: a table whose first column is headed "template parameter"."""
    rows = []
    for table in re.findall(r"^\| template parameter \|.*?(?=\n[^|]|\Z)", DOCS, flags=re.M | re.S):
        for row in table.splitlines()[2:]:
            cells = [cell.strip() for cell in row.strip("|").split("|")]
            rows.append((set(re.findall(r"`(\w+)`", cells[0])), cells[2]))
    return rows


def test_the_settings_table_lists_every_template_parameter(template):
    listed = set().union(*(names for names, _ in settings_tables()))

    assert listed, 'no Settings table (a table whose first column is "template parameter")'
    assert sorted(set(template["Parameters"]) - listed) == []
    assert sorted(listed - set(template["Parameters"])) == []


def test_the_settings_table_gives_each_parameters_own_default(template):
    checked = 0
    for names, default_cell in settings_tables():
        written = re.match(r"`([^`]*)`", default_cell)
        if len(names) == 1 and written:
            (name,) = names
            assert written.group(1) == str(template["Parameters"][name].get("Default")), name
            checked += 1
    assert checked >= 10
