"""Wiring for the Lambda handlers: the services built once per container from the environment."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from connector.actions import ActionConfig, Route, load_actions
from connector.actions_parameter import ParameterActions, parameter_name
from connector.client import OpenAIClient
from connector.delivery import Sender
from connector.errors import ConfigError
from connector.ingest import IngestService
from connector.queue import EventQueue
from connector.secrets import ApiKeys
from connector.settings import Settings

if TYPE_CHECKING:
    from connector.batch import BatchService


#: SDK loggers that log whole requests and responses at DEBUG: Secrets Manager's answer (the API key)
#: and SendMessageBatch's bodies (queued events). Kept at INFO even when the root logger is at DEBUG
#: (Lambda's application log level), since nothing below INFO there is safe to log.
SDK_LOGGERS = ("botocore", "boto3")


def quiet_sdk_loggers() -> None:
    floor = max(logging.INFO, logging.getLogger().getEffectiveLevel())
    for name in SDK_LOGGERS:
        sdk_logger = logging.getLogger(name)
        if sdk_logger.level == logging.NOTSET or sdk_logger.level < logging.INFO:
            sdk_logger.setLevel(floor)  # fixed now: a root logger turned to DEBUG later does not reach them


def build_sender(settings: Settings) -> Sender:
    keys = ApiKeys(settings.api_key_max_age_seconds)
    return Sender(
        OpenAIClient(), lambda route, force: keys.get(route.api_key_secret_id, force), settings.integration_source
    )


class LazySqsClient:
    """boto3's SQS client, built on first use: a cold start that never enqueues never pays for it.

    Building the client loads the SQS service model (about 40 ms of a cold start, bench/coldstart.py);
    the ingest function enqueues only for batched actions or failed sends, the batch sender only to
    dead-letter.
    """

    def __init__(self) -> None:
        self._client = None

    def send_message_batch(self, **kwargs):
        if self._client is None:
            import boto3  # deferred with the client: see the class docstring

            # boto3 follows AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_SQS, so a local emulator needs no code here.
            self._client = boto3.client("sqs")
        return self._client.send_message_batch(**kwargs)


def sqs_queue(queue_url: str | None) -> EventQueue | None:
    return EventQueue(LazySqsClient(), queue_url) if queue_url else None


def build_ingest_service(
    default_actions: Path,
    environ: Mapping[str, str] | None = None,
    on_actions_rejected: Callable[[str], None] = lambda problem: None,
) -> IngestService:
    quiet_sdk_loggers()
    settings = Settings.from_env(environ)
    actions = configured_actions(settings, default_actions, on_actions_rejected)
    return IngestService(settings, actions, build_sender(settings), sqs_queue(settings.queue_url))


def build_batch_service(
    default_actions: Path,
    environ: Mapping[str, str] | None = None,
    on_actions_rejected: Callable[[str], None] = lambda problem: None,
) -> BatchService:
    """The sender loads the same settings and actions document as ingest, checked the same way: where
    a queued event goes comes from here, never from the message."""
    from connector.batch import BatchService  # the ingest function never imports the batch sender

    quiet_sdk_loggers()
    settings = Settings.from_env(environ)
    routes = ActionRoutes(configured_actions(settings, default_actions, on_actions_rejected), settings)
    return BatchService(
        build_sender(settings), sqs_queue(settings.dead_letter_queue_url), routes, settings.max_receive_count
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
    settings: Settings, default_actions: Path, on_rejected: Callable[[str], None] = lambda problem: None
) -> Mapping[str, ActionConfig]:
    """ACTIONS_CONFIG's document (a file, or `ssm:/name` read again every ACTIONS_MAX_AGE_SECONDS), else the default."""
    name = parameter_name(settings.actions_config)
    if name:
        return ParameterActions(
            name, settings.actions_max_age_seconds, lambda actions: check_routes(actions, settings), on_rejected
        )
    actions = load_actions(settings.actions_config or default_actions)
    check_routes(actions, settings)
    return actions


def check_routes(actions: Mapping[str, ActionConfig], settings: Settings) -> None:
    """Every action needs a pixel id and a key secret, from its overrides or the connector settings."""
    for name, action in actions.items():
        route = action_route(action, settings)
        if not route.pixel_id:
            raise ConfigError(f"actions.{name}.pixel_id: no override and PIXEL_ID is not set")
        if not route.api_key_secret_id:
            raise ConfigError(f"actions.{name}.api_key_secret_id: no override and API_KEY_SECRET_ID is not set")
