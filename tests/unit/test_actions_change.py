"""What a new actions document changes (connector/core/actions_change.py): digest, actions added, removed, changed."""

from __future__ import annotations

import copy
import json

from connector.core.actions import parse_actions
from connector.core.actions_change import LoadedActions, compare_actions, document_digest

from tests.support.repo import ROOT

BUNDLED_TEXT = (ROOT / "functions" / "ingest" / "actions.json").read_text()


def loaded(document: dict | str) -> LoadedActions:
    text = document if isinstance(document, str) else json.dumps(document)
    return LoadedActions.of(text, parse_actions(text))


def edited(change) -> dict:
    document = json.loads(BUNDLED_TEXT)
    change(document["actions"])
    return document


def test_the_first_document_names_its_digest_and_its_debug_actions_only():
    change = compare_actions(None, loaded(BUNDLED_TEXT))

    assert change.is_first_load
    assert change.digest == document_digest(BUNDLED_TEXT)
    assert (change.added, change.removed, change.changed) == ((), (), ())
    assert change.debug == ("purchase_debug",)  # the bundled document's one action in Debug Mode


def test_a_change_names_the_actions_added_removed_and_changed():
    before = loaded(BUNDLED_TEXT)

    def edit(actions: dict) -> None:
        actions["purchase"]["debug"] = True  # Debug Mode on: OpenAI would store nothing
        actions["purchase_batched"]["consent_attribute"] = "cp.consent_ads"
        del actions["lead"]
        actions["signup"] = copy.deepcopy(actions["newsletter_signup"])

    change = compare_actions(before, loaded(edited(edit)))

    assert not change.is_first_load
    assert change.previous_digest == before.digest != change.digest
    assert change.added == ("signup",)
    assert change.removed == ("lead",)
    assert change.changed == ("purchase", "purchase_batched")
    assert change.debug == ("purchase", "purchase_debug")


def test_dropping_a_consent_gate_is_a_change():
    gated = edited(lambda actions: actions["purchase"].update(consent_attribute="cp.consent_ads"))
    ungated = edited(lambda actions: None)

    assert compare_actions(loaded(gated), loaded(ungated)).changed == ("purchase",)


def test_the_digest_is_the_documents_not_its_layout():
    document = json.loads(BUNDLED_TEXT)
    relaid = json.dumps(document, separators=(",", ":"))
    reordered = json.dumps({"actions": dict(reversed(list(document["actions"].items())))}, indent=4)

    assert document_digest(relaid) == document_digest(BUNDLED_TEXT) == document_digest(reordered)
    assert document_digest(json.dumps(edited(lambda a: a["lead"].update(debug=True)))) != document_digest(relaid)
    assert len(document_digest(BUNDLED_TEXT)) == 16
