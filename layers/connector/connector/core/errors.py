"""The connector's error classes: callers branch on the type, never on message text."""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of every error the connector raises on purpose."""


class ConfigError(ConnectorError):
    """A setting or the actions document is wrong; raised at load, before any event is taken."""


class InputError(ConnectorError):
    """The caller's input can never succeed as sent (HTTP 400)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidValue(ValueError):
    """One value failed a normalization rule. The reason never repeats the value."""


class RetryableSendError(ConnectorError):
    """A transient failure (429, 5xx, timeout, reset) that outlived the retry budget."""
