"""Actions from an SSM parameter (`ACTIONS_CONFIG=ssm:/name`): changed without a redeploy, never broken by a bad edit.

The parameter is read through Powertools' cache, so a change is in use within `max_age` seconds.
A new value that fails the checks (or cannot be read) leaves the last good document in use and
is reported through `on_rejected` (the handler logs it and counts the ActionsConfigRejected metric,
which template.yaml alarms on), again every `max_age` while the parameter stays bad. The first
read must succeed: a container with no good document has nothing to fall back on and fails its
cold start with the message, as a bad bundled document does. Each good document taken into use
(the first, then every change) goes to `on_loaded` with what it changes (connector/core/actions_change.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping

from connector.core.actions import ActionConfig, parse_actions
from connector.core.actions_change import ActionsChange, LoadedActions, compare_actions
from connector.core.errors import ConfigError

#: ACTIONS_CONFIG values starting with this name a Parameter Store parameter, not a file.
SSM_PREFIX = "ssm:"


def parameter_name(actions_config: str | None) -> str | None:
    """`/connector/actions` for `ssm:/connector/actions`; None for a file path or nothing."""
    if actions_config and actions_config.startswith(SSM_PREFIX):
        return actions_config[len(SSM_PREFIX) :]
    return None


class ParameterActions(Mapping[str, ActionConfig]):
    """A read-only mapping of the actions currently in the parameter: each lookup sees the current good document."""

    def __init__(
        self,
        name: str,
        max_age_seconds: int,
        check: Callable[[Mapping[str, ActionConfig]], None] = lambda actions: None,
        on_rejected: Callable[[str], None] = lambda problem: None,
        clock: Callable[[], float] = time.monotonic,
        on_loaded: Callable[[ActionsChange], None] = lambda change: None,
    ) -> None:
        self.name = name
        self.max_age_seconds = max_age_seconds
        self._check = check
        self.on_rejected = on_rejected
        self.on_loaded = on_loaded
        self._clock = clock
        self._text: str | None = None  # of the good document in use
        self._loaded: LoadedActions | None = None  # the good document in use, by its digest
        self._last_value: str | None = None  # the parameter's value as last read (None: unreadable)
        self._rejected: tuple[str | None, float] | None = None  # the bad value last reported, and when
        problem = self._refresh()
        if problem:
            raise ConfigError(f"ACTIONS_CONFIG ({SSM_PREFIX}{name}): {problem}")

    def _current(self) -> dict[str, ActionConfig]:
        problem = self._refresh()
        if problem:
            self._report(problem)
        return self._actions

    def _refresh(self) -> str | None:
        """Take the parameter's value if it is new and good; else say why not."""
        # Imported on first use, as connector/adapters/api_keys.py does: Powertools' parameters load boto3.
        from aws_lambda_powertools.utilities import parameters
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        try:
            text = parameters.get_parameter(self.name, max_age=self.max_age_seconds)
        except GetParameterError as err:
            self._last_value = None
            cause = err.__cause__ or err.__context__ or err  # Powertools re-raises without `from`
            return f"cannot read the parameter ({type(cause).__name__})"
        self._last_value = text
        if text == self._text:
            return None
        try:
            actions = parse_actions(text)
            self._check(actions)
        except ConfigError as err:
            return str(err)
        previous, self._loaded = self._loaded, LoadedActions.of(text, actions)
        self._text, self._actions, self._rejected = text, actions, None
        # Once per change: a new layout of the same document (same digest) changes nothing.
        if previous is None or previous.digest != self._loaded.digest:
            self.on_loaded(compare_actions(previous, self._loaded))
        return None

    def _report(self, problem: str) -> None:
        # Once per bad value and then once per cache age, not on every lookup of every request.
        now = self._clock()
        if self._rejected and self._rejected[0] == self._last_value and now - self._rejected[1] < self.max_age_seconds:
            return
        self._rejected = (self._last_value, now)
        self.on_rejected(problem)

    def __getitem__(self, name: str) -> ActionConfig:
        return self._current()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())
