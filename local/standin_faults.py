"""The OpenAI stand-in's misbehaviour: scripted faults, outages, and which one answers the next request."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .openai_contract import is_int


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour, applied to one request; build with the class methods."""

    kind: str  # "status" | "slow" | "reset" | "ok"
    code: int = 0
    retry_after: float | None = None
    seconds: float = 0.0

    @classmethod
    def status(cls, code: int, retry_after: float | None = None) -> Fault:
        return cls("status", code=code, retry_after=retry_after)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        return cls("slow", seconds=seconds)

    @classmethod
    def reset(cls) -> Fault:
        return cls("reset")

    @classmethod
    def ok(cls) -> Fault:
        return cls("ok")

    @classmethod
    def from_spec(cls, spec: object) -> Fault:
        """`{"status": 429, "retry_after": 1}`, `{"reset": true}`, `{"slow": 2}` or `{"ok": true}`."""
        if isinstance(spec, dict):
            if is_int(spec.get("status")) and 100 <= spec["status"] <= 599:
                retry_after = spec.get("retry_after")
                if retry_after is None or isinstance(retry_after, int | float):
                    return cls.status(spec["status"], retry_after)
            elif spec.get("reset") is True:
                return cls.reset()
            elif isinstance(spec.get("slow"), int | float) and spec["slow"] >= 0:
                return cls.slow(float(spec["slow"]))
            elif spec.get("ok") is True:
                return cls.ok()
        raise ValueError("fault: expected {status[, retry_after]}, {reset: true}, {slow: s} or {ok: true}")


@dataclass
class _Outage:
    pattern: tuple[Fault, ...]
    until: float | None  # deadline on the schedule's monotonic clock
    remaining: int | None
    position: int = 0


class FaultSchedule:
    """Scripted faults first, then an active outage's pattern; thread-safe (handler threads take from it)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        #: Seconds clock an outage's duration is measured on; tests pass a fake one they advance.
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._faults: deque[Fault] = deque()
        self._outage: _Outage | None = None

    def add(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def start_outage(
        self, pattern: Sequence[Fault], *, duration_s: float | None = None, count: int | None = None
    ) -> None:
        """Answer upcoming requests with `pattern`, cycled, for `duration_s` seconds or `count` requests."""
        if not pattern or (duration_s is None and count is None):
            raise ValueError("outage: needs a non-empty pattern and duration_s or count")
        if count is not None and not (is_int(count) and count > 0):
            raise ValueError("outage: count must be a positive integer")
        if duration_s is not None and not (isinstance(duration_s, int | float) and duration_s > 0):
            raise ValueError("outage: duration_s must be a positive number of seconds")
        until = None if duration_s is None else self._monotonic() + duration_s
        with self._lock:
            self._outage = _Outage(tuple(pattern), until, count)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._outage = None

    @property
    def outage_active(self) -> bool:
        with self._lock:
            return self._outage_live()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._faults)

    def take(self) -> Fault | None:
        """The fault that answers the next request, or None to answer it normally."""
        with self._lock:
            if self._faults:
                return self._faults.popleft()
            if not self._outage_live():
                return None
            outage = self._outage
            assert outage is not None
            fault = outage.pattern[outage.position % len(outage.pattern)]
            outage.position += 1
            if outage.remaining is not None:
                outage.remaining -= 1
            return fault

    def _outage_live(self) -> bool:
        outage = self._outage
        if outage is None:
            return False
        if (outage.until is not None and self._monotonic() >= outage.until) or outage.remaining == 0:
            self._outage = None
            return False
        return True
