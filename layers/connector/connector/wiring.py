"""Wiring: the services built once per container from the settings, with their adapters.

The one module that knows every layer (connector/__init__.py states the rule): the handlers call
`build_ingest_service` or `build_batch_service`; nothing in core, adapters or services imports this.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from connector.adapters.actions_parameter import ParameterActions, parameter_name
from connector.adapters.api_keys import ApiKeys
from connector.adapters.openai_client import OpenAIClient
from connector.adapters.sdk_logging import quiet_sdk_loggers
from connector.adapters.sqs_queue import sqs_queue
from connector.adapters.trail_log import LoggerTrail
from connector.core.actions import ActionConfig, parse_actions, read_actions_text
from connector.core.actions_change import ActionsChange, LoadedActions, compare_actions
from connector.core.errors import ConfigError
from connector.core.settings import Settings
from connector.core.types import Route
from connector.services.delivery import Sender
from connector.services.ingest import IngestService

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

    from connector.services.batch import BatchService


def build_sender(settings: Settings) -> Sender:
    keys = ApiKeys(settings.api_key_max_age_seconds)
    return Sender(
        OpenAIClient(), lambda route, force: keys.get(route.api_key_secret_id, force), settings.integration_source
    )


def build_ingest_service(
    default_actions: Path,
    environ: Mapping[str, str] | None = None,
    on_actions_rejected: Callable[[str], None] = lambda problem: None,
    on_actions_loaded: Callable[[ActionsChange], None] = lambda change: None,
    logger: Logger | None = None,
) -> IngestService:
    """`logger`: the function's Logger, which writes the event trail (EVENT_TRAIL) and its warnings."""
    quiet_sdk_loggers()
    settings = Settings.from_env(environ)
    actions = configured_actions(settings, default_actions, on_actions_rejected, on_actions_loaded)
    trail = LoggerTrail(logger, settings.event_trail) if logger else None
    return IngestService(settings, actions, build_sender(settings), sqs_queue(settings.queue_url), trail=trail)


def build_batch_service(
    default_actions: Path,
    environ: Mapping[str, str] | None = None,
    on_actions_rejected: Callable[[str], None] = lambda problem: None,
    on_actions_loaded: Callable[[ActionsChange], None] = lambda change: None,
    logger: Logger | None = None,
) -> BatchService:
    """The sender loads the same settings and actions document as ingest, checked the same way: where
    a queued event goes comes from here, never from the message."""
    from connector.services.batch import BatchService  # the ingest function never imports the batch sender

    quiet_sdk_loggers()
    settings = Settings.from_env(environ)
    routes = ActionRoutes(
        configured_actions(settings, default_actions, on_actions_rejected, on_actions_loaded), settings
    )
    trail = LoggerTrail(logger, settings.event_trail) if logger else None
    return BatchService(
        build_sender(settings),
        sqs_queue(settings.dead_letter_queue_url),
        routes,
        settings.max_receive_count,
        trail=trail,
    )


class ActionRoutes(Mapping[str, Route]):
    """Action name -> where its events go, read through to the actions in use (an SSM-backed document
    changes under it); a name the configuration does not hold has no route."""

    def __init__(self, actions: Mapping[str, ActionConfig], settings: Settings) -> None:
        self._actions, self._settings = actions, settings

    def __getitem__(self, name: str) -> Route:
        return action_route(self._actions[name], self._settings)

    def __iter__(self) -> Iterator[str]:
        return iter(self._actions)

    def __len__(self) -> int:
        return len(self._actions)


def action_route(action: ActionConfig, settings: Settings) -> Route:
    return action.route(settings.pixel_id, settings.api_key_secret_id, settings.base_url)


def configured_actions(
    settings: Settings,
    default_actions: Path,
    on_rejected: Callable[[str], None] = lambda problem: None,
    on_loaded: Callable[[ActionsChange], None] = lambda change: None,
) -> Mapping[str, ActionConfig]:
    """ACTIONS_CONFIG's document (a file, or `ssm:/name` read again every ACTIONS_MAX_AGE_SECONDS), else the default.

    `on_loaded` hears of each good document taken into use: a file's once, a parameter's at every change.
    """
    name = parameter_name(settings.actions_config)
    if name:
        return ParameterActions(
            name,
            settings.actions_max_age_seconds,
            lambda actions: check_routes(actions, settings),
            on_rejected,
            on_loaded=on_loaded,
        )
    text = read_actions_text(settings.actions_config or default_actions)
    actions = parse_actions(text)
    check_routes(actions, settings)
    on_loaded(compare_actions(None, LoadedActions.of(text, actions)))
    return actions


def check_routes(actions: Mapping[str, ActionConfig], settings: Settings) -> None:
    """Every action needs a pixel id and a key secret, from its overrides or the connector settings."""
    for name, action in actions.items():
        route = action_route(action, settings)
        if not route.pixel_id:
            raise ConfigError(f"actions.{name}.pixel_id: no override and PIXEL_ID is not set")
        if not route.api_key_secret_id:
            raise ConfigError(f"actions.{name}.api_key_secret_id: no override and API_KEY_SECRET_ID is not set")
