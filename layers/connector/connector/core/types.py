"""The types that flow between the layers: issues, routes, statuses, send outcomes and vendor answers.

`EventStatus` is the one status vocabulary: the ingest answer's `status`, the batch report's
counts and the metric names (connector/adapters/observability.py) all use its members, never
their spelling. The enums are `StrEnum`s, so a status serializes as its value in JSON answers.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Issue:
    """A field and what is wrong with it; never the value itself."""

    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


@dataclass(frozen=True)
class Route:
    """Events sharing a route can share a request: the packing group key."""

    pixel_id: str
    api_key_secret_id: str
    validate_only: bool
    base_url: str


class EventStatus(enum.StrEnum):
    """What became of one event: the ingest answer's `status` and the key of every count."""

    SENT = "sent"
    VALIDATED = "validated"  # Debug Mode: OpenAI checked it and stored nothing
    QUEUED = "queued"
    REJECTED = "rejected"
    #: No consent, and the action's on_no_consent is "skip": answered, never sent or queued.
    SKIPPED = "skipped"
    FAILED = "failed"  # could not be queued
    RETRY = "retry"  # batch sender: handed back to SQS for another try
    DEAD_LETTERED = "dead_lettered"  # batch sender: parked in the dead-letter queue with its reason


class Outcome(enum.StrEnum):
    """What one send did to one event (connector/services/delivery.py)."""

    SENT = "sent"
    VALIDATED = "validated"  # Debug Mode: OpenAI checked it and stored nothing
    REJECTED = "rejected"  # OpenAI refused this event: resending it unchanged cannot succeed
    RETRY = "retry"  # transient failure that outlived the retries
    AUTH = "auth"  # 401/403: kept until the key or pixel id is fixed


#: The outcomes that delivered an event, and the status each one gives it.
DELIVERED: dict[Outcome, EventStatus] = {Outcome.SENT: EventStatus.SENT, Outcome.VALIDATED: EventStatus.VALIDATED}


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    reason: str = ""
    #: OpenAI's HTTP status and request id for the request that settled the event, when it answered.
    http_status: int | None = None
    request_id: str | None = None


@dataclass
class SendStats:
    """Counters for the life of a container; `snapshot` lets a handler report one invocation's share."""

    requests: int = 0
    retries: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def count(self, status: int, retries: int) -> None:
        self.requests += 1
        self.retries += retries
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def snapshot(self) -> SendStats:
        return SendStats(self.requests, self.retries, dict(self.statuses))


@dataclass(frozen=True)
class Response:
    """The vendor's last answer to one POST, after the client's own retries."""

    status: int
    body: bytes
    retries: int
    #: OpenAI's id for the request (its x-request-id header), when it gave one: the trail logs it.
    request_id: str | None = None
