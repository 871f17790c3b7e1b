"""In-memory fakes of the services' ports (connector/core/ports.py): the OpenAI client, a queue, the key provider,
the trail."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from connector.core.errors import RetryableSendError
from connector.core.types import Response, Route

from tests.support import leak_guard


@dataclass(frozen=True)
class Post:
    """One request the fake client received, its body parsed."""

    url: str
    headers: dict[str, str]
    body: dict
    #: The body's length in bytes, as sent.
    size: int = 0
    #: The monotonic deadline the sender gave the request.
    deadline: float | None = None

    @property
    def ids(self) -> list[str]:
        return [event["id"] for event in self.body["events"]]


def reply(status: int, body: object = b"", retries: int = 0, request_id: str | None = None) -> Response:
    """A vendor answer; a dict or list body is written as JSON."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Response(status, data, retries, request_id)


def rejection(param: str | None = None, message: str = "invalid event") -> Response:
    """OpenAI's 400, naming the bad event in `error.param` or not."""
    error: dict[str, object] = {"message": message}
    if param is not None:
        error["param"] = param
    return reply(400, {"error": error})


class FakeClient:
    """Answers each POST with what `respond(post)` returns (a Response), or raises what it returns (an error)."""

    def __init__(self, respond: Callable[[Post], Response | Exception] = lambda post: reply(200)) -> None:
        self.respond = respond
        self.posts: list[Post] = []

    def post(self, url: str, headers: dict[str, str], body: bytes, deadline: float | None = None) -> Response:
        leak_guard.scan_body(body, "fake OpenAI client")  # every body, every field (tests/support/leak_guard.py)
        post = Post(url, dict(headers), json.loads(body), len(body), deadline)
        self.posts.append(post)
        result = self.respond(post)
        if isinstance(result, Exception):
            raise result
        return result


class FakeKeys:
    """A key provider: hands out `keys` in turn (the last one again once they run out), or raises `error`."""

    def __init__(self, *keys: str, error: str | None = None) -> None:
        self.keys = list(keys) or ["sk-fake-key"]
        self.error = error
        self.calls: list[tuple[Route, bool]] = []

    def __call__(self, route: Route, force_refresh: bool) -> str:
        self.calls.append((route, force_refresh))
        if self.error:
            raise RetryableSendError(self.error)
        return self.keys.pop(0) if len(self.keys) > 1 else self.keys[0]


@dataclass
class FakeQueue:
    """A message queue in memory; messages at the positions in `fail` (or all, with `fail_all`) are not sent."""

    fail: set[int] = field(default_factory=set)
    fail_all: str | None = None
    messages: list[str] = field(default_factory=list)
    reasons: list[str | None] = field(default_factory=list)

    def send(self, messages: Sequence[str], reasons: Sequence[str | None] | None = None) -> list[str | None]:
        failures: list[str | None] = []
        for position, message in enumerate(messages):
            if self.fail_all or position in self.fail:
                failures.append(self.fail_all or "fake queue: refused")
                continue
            self.messages.append(message)
            self.reasons.append(reasons[position] if reasons else None)
            failures.append(None)
        return failures

    @property
    def bodies(self) -> list[dict]:
        return [json.loads(message) for message in self.messages]


@dataclass
class FakeTrail:
    """The trail in memory: every record written, in order."""

    records: list[dict[str, object]] = field(default_factory=list)

    def write(self, record: Mapping[str, object]) -> None:
        self.records.append(dict(record))

    def steps(self, event_id: str | None = None) -> list[tuple[object, object]]:
        return [(r["step"], r["outcome"]) for r in self.records if event_id is None or r.get("event_id") == event_id]
