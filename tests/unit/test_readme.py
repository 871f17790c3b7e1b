"""The README's commands and examples stay true: its actions documents load, its files and targets exist."""

from __future__ import annotations

import re

import pytest
from connector.core.actions import parse_actions

from tests.support.repo import ROOT

README = (ROOT / "README.md").read_text()
FENCES = re.findall(r"```(\w*)\n(.*?)```", README, flags=re.S)


def test_readme_opens_with_the_two_setup_commands():
    first_block = FENCES[0][1]
    assert "make demo" in first_block and "make test" in first_block


def test_ci_runs_the_readme_test_command_and_says_so_first():
    readme_command = re.search(r"^(make \w+)\s+#.*\btests\b", FENCES[0][1], flags=re.M).group(1)
    script = (ROOT / ".ci" / "run").read_text()
    assert f'TEST_COMMAND="{readme_command}"' in script
    commands = [line for line in script.splitlines() if line and not line.startswith(("#", "set ", "cd ", "TEST_"))]
    assert commands[0].startswith("echo ") and "${TEST_COMMAND}" in commands[0]
    assert commands[-1] == "${TEST_COMMAND}"  # last, so the log ends with its pytest summary line


@pytest.mark.parametrize("document", [body for lang, body in FENCES if lang == "json" and '"actions"' in body])
def test_every_actions_example_is_a_valid_document(document):
    assert parse_actions(document)


def test_every_make_target_named_exists():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, flags=re.M))
    named = set(re.findall(r"`?make (\w+)", README))
    assert named and named <= targets


def test_every_repository_path_named_exists():
    paths = set(re.findall(r"(?:events|functions|layers|local|tests|bench)/[\w./-]+\.(?:json|py|yaml)", README))
    paths |= set(re.findall(r"`([\w-]+\.(?:yaml|toml))`", README))
    assert paths
    generated = {"bench/results/latest.json"}  # written by `make bench`, git-ignored
    assert [p for p in paths - generated if not (ROOT / p).exists()] == []


def test_sam_local_samples_name_functions_of_the_template(template):
    for function, sample in re.findall(r"sam local invoke (\w+) -e (\S+)", README):
        assert template["Resources"][function]["Type"] == "AWS::Serverless::Function"
        assert (ROOT / sample).exists()


def test_the_action_keys_table_names_every_key_the_actions_document_takes():
    from connector.core.actions import ACTION_KEYS

    table = set(re.findall(r"^\| `(\w+)` \|", README, flags=re.M))
    assert table >= ACTION_KEYS
