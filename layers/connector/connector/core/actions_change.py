"""What a newly loaded actions document changes: its digest, the actions added, removed and changed, and
those in Debug Mode. The functions log and count it (connector/adapters/observability.py), so an edit of
the actions parameter (turning on Debug Mode, dropping a consent gate) never goes unnoticed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from connector.core.actions import ActionConfig

#: Hex digits of the digest that logs show: enough to tell documents apart at a glance.
DIGEST_LENGTH = 16


def document_digest(text: str) -> str:
    """The sha256 of the document's canonical JSON (keys sorted, no spaces), cut to DIGEST_LENGTH hex digits.

    The same document gives the same digest however it is laid out, so `python -m connector check`
    names the digest a function logs for that document.
    """
    canonical = json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:DIGEST_LENGTH]


@dataclass(frozen=True)
class LoadedActions:
    """A good actions document in use, by its digest."""

    digest: str
    actions: Mapping[str, ActionConfig]

    @classmethod
    def of(cls, text: str, actions: Mapping[str, ActionConfig]) -> LoadedActions:
        return cls(document_digest(text), actions)


@dataclass(frozen=True)
class ActionsChange:
    """One document taking over from another (`previous_digest` None: the first one a container loads)."""

    digest: str
    previous_digest: str | None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    #: Every action of the new document in Debug Mode: OpenAI validates their events and stores none.
    debug: tuple[str, ...] = ()

    @property
    def is_first_load(self) -> bool:
        return self.previous_digest is None


def compare_actions(previous: LoadedActions | None, current: LoadedActions) -> ActionsChange:
    """What `current` changes from `previous` (None: nothing loaded before, so nothing is compared)."""
    debug = tuple(sorted(name for name, action in current.actions.items() if action.debug))
    if previous is None:
        return ActionsChange(current.digest, None, debug=debug)
    before, after = previous.actions, current.actions
    return ActionsChange(
        current.digest,
        previous.digest,
        added=tuple(sorted(set(after) - set(before))),
        removed=tuple(sorted(set(before) - set(after))),
        changed=tuple(sorted(name for name in set(before) & set(after) if before[name] != after[name])),
        debug=debug,
    )
