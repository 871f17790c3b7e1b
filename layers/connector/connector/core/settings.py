"""Connector settings, read once from the environment the template sets."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from connector.core.errors import ConfigError
from connector.core.wire.build import ACTION_SOURCES
from connector.core.wire.request import DEFAULT_BASE_URL, INTEGRATION_SOURCE

#: The EventsQueue redrive's maxReceiveCount (template.yaml): the batch sender's last try.
DEFAULT_MAX_RECEIVE_COUNT = 5
#: How long a fetched API key is reused before Secrets Manager is asked again (rotation bound).
DEFAULT_API_KEY_MAX_AGE_SECONDS = 300
#: Sent as `integration_source` unless INTEGRATION_SOURCE says otherwise: this project, as OpenAI sees it.
DEFAULT_INTEGRATION_SOURCE = "tealium-openai-connector-aws"
#: Seconds a real-time call may spend on OpenAI before it queues instead (REALTIME_BUDGET_SECONDS): well under
#: Tealium's webhook timeout (1-10 s), so the caller gets its answer before it gives up and sends again.
DEFAULT_REALTIME_BUDGET_SECONDS = 5
#: API Gateway ends a call at 29 s; the rest of the call (parsing, queueing the unsent events) needs some of it.
MAX_REALTIME_BUDGET_SECONDS = 25
#: How long an actions document read from SSM (ACTIONS_CONFIG=ssm:/name) is used before it is read again.
DEFAULT_ACTIONS_MAX_AGE_SECONDS = 60


@dataclass(frozen=True)
class Settings:
    pixel_id: str | None
    default_action_source: str = "web"
    base_url: str = DEFAULT_BASE_URL
    api_key_secret_id: str | None = None
    queue_url: str | None = None
    dead_letter_queue_url: str | None = None
    actions_config: str | None = None
    integration_source: str | None = DEFAULT_INTEGRATION_SOURCE
    api_key_max_age_seconds: int = DEFAULT_API_KEY_MAX_AGE_SECONDS
    max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT
    actions_max_age_seconds: int = DEFAULT_ACTIONS_MAX_AGE_SECONDS
    realtime_budget_seconds: int = DEFAULT_REALTIME_BUDGET_SECONDS
    #: EVENT_TRAIL: one log line per event per step (connector/core/trail.py); "off" saves its log cost.
    event_trail: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        default_action_source = get("DEFAULT_ACTION_SOURCE") or "web"
        if default_action_source not in ACTION_SOURCES:
            raise ConfigError(f"DEFAULT_ACTION_SOURCE: must be one of {', '.join(ACTION_SOURCES)}")
        if get("GEO_FORMAT"):
            # A deployment that asked for hashed geo must learn it no longer gets it, not be silently changed.
            raise ConfigError(
                "GEO_FORMAT: is no longer supported: OpenAI takes country, region, city and zip as raw values "
                "only, and the connector always sends them raw; remove the variable"
            )
        max_age = _whole_number(
            get("API_KEY_MAX_AGE_SECONDS"), "API_KEY_MAX_AGE_SECONDS", DEFAULT_API_KEY_MAX_AGE_SECONDS, 1, 3600
        )
        max_receive_count = _whole_number(
            get("MAX_RECEIVE_COUNT"), "MAX_RECEIVE_COUNT", DEFAULT_MAX_RECEIVE_COUNT, 1, 1000
        )
        actions_max_age = _whole_number(
            get("ACTIONS_MAX_AGE_SECONDS"), "ACTIONS_MAX_AGE_SECONDS", DEFAULT_ACTIONS_MAX_AGE_SECONDS, 1, 3600
        )
        realtime_budget = _whole_number(
            get("REALTIME_BUDGET_SECONDS"),
            "REALTIME_BUDGET_SECONDS",
            DEFAULT_REALTIME_BUDGET_SECONDS,
            1,
            MAX_REALTIME_BUDGET_SECONDS,
        )
        return cls(
            pixel_id=get("PIXEL_ID"),
            default_action_source=default_action_source,
            base_url=check_base_url(get("BASE_URL") or DEFAULT_BASE_URL),
            api_key_secret_id=get("API_KEY_SECRET_ID"),
            queue_url=get("QUEUE_URL"),
            dead_letter_queue_url=get("DEAD_LETTER_QUEUE_URL"),
            actions_config=get("ACTIONS_CONFIG"),
            integration_source=_integration_source(env.get("INTEGRATION_SOURCE")),
            api_key_max_age_seconds=max_age,
            max_receive_count=max_receive_count,
            actions_max_age_seconds=actions_max_age,
            realtime_budget_seconds=realtime_budget,
            event_trail=_on_off(get("EVENT_TRAIL"), "EVENT_TRAIL"),
        )


def _integration_source(value: str | None) -> str | None:
    """Unset: this project's identifier; set but empty: omitted from requests."""
    if value is None:
        return DEFAULT_INTEGRATION_SOURCE
    value = value.strip()
    if not value:
        return None
    if not INTEGRATION_SOURCE.fullmatch(value):
        raise ConfigError(
            "INTEGRATION_SOURCE: must be 1-64 ASCII letters, digits, '.', '_' or '-', starting with a letter "
            "or digit (or empty to send none)"
        )
    return value


def _on_off(value: str | None, name: str) -> bool:
    """Unset: on. Else "on" or "off", any case; anything else is refused rather than guessed."""
    if value is None or value.lower() == "on":
        return True
    if value.lower() == "off":
        return False
    raise ConfigError(f"{name}: must be on or off")


def _whole_number(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        raise ConfigError(f"{name}: must be a whole number from {low} to {high}")
    return int(value)


def check_base_url(url: str, name: str = "BASE_URL") -> str:
    """https only: the key travels in a header. Plain http is allowed for a loopback stand-in."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ConfigError(f"{name}: must be an https URL") from None
    if parts.query or parts.fragment or parts.username or parts.password:
        # The events path and ?pid= are appended to it; credentials belong in the secret.
        raise ConfigError(f"{name}: must be a plain base URL, without query, fragment or credentials")
    if parts.scheme == "https" and parts.hostname:
        return url.rstrip("/")
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return url.rstrip("/")
    raise ConfigError(f"{name}: must be an https URL (http is allowed only for a loopback address)")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
