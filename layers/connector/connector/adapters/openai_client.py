"""The HTTP client for OpenAI: one pooled urllib3 connection, bounded retries inside a time budget.

Retries (429, 5xx, timeouts, resets) are urllib3's own `Retry`, with exponential backoff,
jitter and `Retry-After`; `BudgetedRetry` only adds a deadline so that every retry ends
before the Lambda function's timeout. POST is retried: OpenAI deduplicates on (id, type).
"""

from __future__ import annotations

import re
import time

import urllib3
from urllib3.exceptions import HTTPError
from urllib3.util.retry import Retry

from connector.core.errors import RetryableSendError
from connector.core.types import Response

#: Statuses worth another try; everything else is final (2xx done, 4xx the caller's to handle).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CONNECT_TIMEOUT_SECONDS = 3.0
READ_TIMEOUT_SECONDS = 10.0
MAX_ATTEMPTS = 4
#: The shortest timeout a request is given when its budget is (nearly) spent.
MIN_TIMEOUT_SECONDS = 0.1
#: Headers that carry OpenAI's id of a request, first found wins; the trail logs it (connector/core/trail.py).
REQUEST_ID_HEADERS = ("x-request-id", "openai-request-id")
#: What a request id may look like to be logged: it comes from the network.
REQUEST_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


class BudgetedRetry(Retry):
    """urllib3's Retry that also stops, and shortens its sleeps, at a monotonic deadline."""

    def __init__(self, *args, deadline: float | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = deadline

    def new(self, **kwargs) -> BudgetedRetry:
        kwargs.setdefault("deadline", self.deadline)
        return super().new(**kwargs)

    def _remaining(self) -> float:
        return float("inf") if self.deadline is None else self.deadline - time.monotonic()

    def is_exhausted(self) -> bool:
        return super().is_exhausted() or self._remaining() <= 0

    def get_backoff_time(self) -> float:
        return max(0.0, min(super().get_backoff_time(), self._remaining()))

    def get_retry_after(self, response) -> float | None:
        retry_after = super().get_retry_after(response)
        return None if retry_after is None else max(0.0, min(retry_after, self._remaining()))


class OpenAIClient:
    """Built once per container; the pool keeps the TLS connection warm across invocations."""

    def __init__(
        self,
        *,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        read_timeout: float = READ_TIMEOUT_SECONDS,
        max_attempts: int = MAX_ATTEMPTS,
        backoff_factor: float = 0.5,
        backoff_max: float = 8.0,
    ) -> None:
        self._pool = urllib3.PoolManager(num_pools=4, maxsize=4, block=False)
        self._timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        self._retry_settings = {
            "total": max_attempts - 1,
            "status_forcelist": RETRY_STATUSES,
            "allowed_methods": frozenset({"POST"}),
            "backoff_factor": backoff_factor,
            "backoff_max": backoff_max,
            "backoff_jitter": backoff_factor,
            "respect_retry_after_header": True,
            "raise_on_status": False,
            "raise_on_redirect": False,
            "redirect": 0,
        }

    def _timeout_within(self, deadline: float | None) -> urllib3.Timeout:
        """The connect and read timeouts, each cut to the budget left: one slow answer cannot outlive it."""
        if deadline is None:
            return self._timeout
        left = max(MIN_TIMEOUT_SECONDS, deadline - time.monotonic())
        return urllib3.Timeout(connect=self._timeout.connect_timeout, read=self._timeout.read_timeout, total=left)

    def post(self, url: str, headers: dict[str, str], body: bytes, deadline: float | None = None) -> Response:
        """POST with retries; the last answer is returned, whatever its status.

        Raises RetryableSendError when no answer came at all (timeouts, resets) within the budget.
        """
        retry = BudgetedRetry(deadline=deadline, **self._retry_settings)
        failure = None
        try:
            response = self._pool.request(
                "POST",
                url,
                body=body,
                headers=headers,
                timeout=self._timeout_within(deadline),
                retries=retry,
                preload_content=True,
            )
        except HTTPError as err:
            failure = f"no answer from OpenAI: {type(err).__name__}"
        except Exception as err:
            # Anything else was raised while the request carried the key, and may quote it: urllib3's
            # ValueError("Invalid header value b'Bearer sk-...'") for a key with a line break inside.
            failure = f"the request could not be made: {type(err).__name__}"
        if failure is not None:
            # Raised outside the except block: the original error (and any header it quotes) is not even
            # chained as context, so no traceback, log line or answer can show it. Only its type name goes on.
            raise RetryableSendError(failure)
        history = response.retries.history if response.retries else ()
        return Response(response.status, response.data or b"", len(history), request_id(response.headers))


def request_id(headers) -> str | None:
    """OpenAI's request id from the answer's headers, when it is a plain token."""
    for name in REQUEST_ID_HEADERS:
        value = (headers.get(name) or "").strip()
        if REQUEST_ID.fullmatch(value):
            return value
    return None
