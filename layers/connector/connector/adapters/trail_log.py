"""Where trail records go: the function's Logger, or, for `python -m connector redrive`, a file or a log group.

Every trail line is one JSON object whose `message` is "event_trail" (connector/core/trail.py), so one
Logs Insights filter finds them all, and `python -m connector trace` reads them back.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from connector.core.trail import TRAIL_MESSAGE, WEAK_MATCH_MESSAGE, WeakMatchWatch, weak_match_warning

if TYPE_CHECKING:  # the command line writes files and log groups without loading Powertools
    from aws_lambda_powertools import Logger

#: The service name the functions log under (template.yaml's POWERTOOLS_SERVICE_NAME).
SERVICE = "openai-events-connector"
#: The trail's Logger is the functions' service name and this (connector/adapters/trail_log.py: LoggerTrail).
TRAIL_SERVICE_SUFFIX = "-trail"
#: CloudWatch Logs takes at most this many events in one PutLogEvents call.
MAX_PUT_EVENTS = 10_000


class LoggerTrail:
    """Each record as one INFO line of the trail's own Logger (`trail_logger`), with the Lambda request id the
    function's Logger holds (`function_request_id`). Its own Logger, because the function's lines carry the
    whole Lambda context (ARN, memory, cold start...), which would double every trail line's bytes
    (bench/trail.py), and because LogLevel must not silence it: EVENT_TRAIL is its switch. Off, only the
    weak-match warning is logged, once per action, through the function's Logger."""

    def __init__(self, function_logger: Logger, enabled: bool = True, trail: Logger | None = None) -> None:
        self._function_logger = function_logger
        self._trail = trail or trail_logger(function_logger.service)
        self.enabled = enabled
        self._watch = WeakMatchWatch()

    def write(self, record: Mapping[str, object]) -> None:
        if self.enabled:
            request_id = self._function_logger.get_current_keys().get("function_request_id")
            self._trail.info(TRAIL_MESSAGE, extra={**record, "function_request_id": request_id})
        if self._watch.first_weak(record):
            self._function_logger.warning(WEAK_MATCH_MESSAGE, extra=weak_match_warning(str(record["action"])))


def trail_logger(service: str, handler: logging.Handler | None = None) -> Logger:
    """The trail's Logger: `<service>-trail`, always at INFO, without the `location` key (always the same line).

    Its message is always TRAIL_MESSAGE, which is no JSON: the formatter's attempt to read each line's message
    as JSON (a raised and caught JSONDecodeError per line, 8% of a line's time: bench/trail.py) is skipped by
    a deserializer that hands the text back, as the failed attempt does."""
    from aws_lambda_powertools import Logger

    name = f"{service}{TRAIL_SERVICE_SUFFIX}"
    logger = Logger(service=name, level="INFO", logger_handler=handler, json_deserializer=_message_as_is)
    logger.remove_keys(["location"])
    return logger


def _message_as_is(message: str) -> str:
    return message


def trail_line(record: Mapping[str, object], now: float) -> str:
    """A record as the functions' Logger writes it (level, message, timestamp, service first)."""
    stamp = datetime.fromtimestamp(now, UTC)
    head = {
        "level": "INFO",
        "message": TRAIL_MESSAGE,
        "timestamp": stamp.strftime("%Y-%m-%d %H:%M:%S,") + f"{stamp.microsecond // 1000:03d}+0000",
        "service": SERVICE + TRAIL_SERVICE_SUFFIX,
    }
    return json.dumps(head | dict(record), separators=(",", ":"), ensure_ascii=False)


class FileTrail:
    """Appends trail lines to a file: the local runner's log (.local-state/functions.log)."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock

    def write(self, record: Mapping[str, object]) -> None:
        with self.path.open("a", encoding="utf-8") as out:
            out.write(trail_line(record, self.clock()) + "\n")


class LogGroupTrail:
    """Trail lines into a CloudWatch Logs group (the batch sender's), in a stream of their own, sent on `flush`.

    A failure to write is reported through `on_error` and never stops what the caller is doing: the trail
    tells the story, it is not the story.
    """

    def __init__(
        self,
        logs_client,
        log_group: str,
        on_error: Callable[[str], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._logs = logs_client
        self.log_group = log_group
        self.stream = f"redrive/{datetime.now(UTC):%Y/%m/%d}/{uuid.uuid4().hex}"
        self._on_error = on_error
        self._clock = clock
        self._pending: list[dict[str, object]] = []

    def write(self, record: Mapping[str, object]) -> None:
        now = self._clock()
        self._pending.append({"timestamp": int(now * 1000), "message": trail_line(record, now)})

    def flush(self) -> None:
        if not self._pending:
            return
        from botocore.exceptions import BotoCoreError, ClientError

        pending, self._pending = self._pending, []
        try:
            self._logs.create_log_stream(logGroupName=self.log_group, logStreamName=self.stream)
            for start in range(0, len(pending), MAX_PUT_EVENTS):
                self._logs.put_log_events(
                    logGroupName=self.log_group,
                    logStreamName=self.stream,
                    logEvents=pending[start : start + MAX_PUT_EVENTS],
                )
        except (BotoCoreError, ClientError) as err:
            self._on_error(f"the trail of {len(pending)} event(s) could not be written to {self.log_group}: {err}")
