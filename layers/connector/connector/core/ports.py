"""The interfaces the services take their adapters through: an HTTP client, a message queue, a key provider, the trail.

The adapters (connector/adapters/) implement them; tests pass in-memory fakes (tests/support/fakes.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from connector.core.types import Response, Route


class VendorClient(Protocol):
    """POST with bounded retries inside a deadline (connector/adapters/openai_client.py)."""

    def post(self, url: str, headers: dict[str, str], body: bytes, deadline: float | None = None) -> Response:
        """The last answer, whatever its status; raises RetryableSendError when no answer came at all."""
        ...


class MessageQueue(Protocol):
    """Sends messages in batches (connector/adapters/sqs_queue.py)."""

    def send(self, messages: Sequence[str], reasons: Sequence[str | None] | None = None) -> list[str | None]:
        """Per message None (sent) or why it was not."""
        ...


#: (route, force_refresh) -> API key. Force is asked once after a 401, in case the key rotated.
KeyProvider = Callable[[Route, bool], str]


class EventTrail(Protocol):
    """Writes one trail record (connector/core/trail.py) as one log line (connector/adapters/trail_log.py)."""

    def write(self, record: Mapping[str, object]) -> None: ...


class NoTrail:
    """The trail when none is wired in: nothing is written."""

    def write(self, record: Mapping[str, object]) -> None:
        pass
