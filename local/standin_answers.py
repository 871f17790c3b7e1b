"""The stand-in's answers: status, JSON payload and headers, and the error bodies OpenAI's API sends.

Standard library only, like the rest of the stand-in (``local/openai_standin.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .standin_faults import Fault


@dataclass(frozen=True)
class Answer:
    status: int
    payload: dict[str, Any] | None = None
    headers: tuple[tuple[str, str], ...] = ()
    drop: bool = False  # close the connection without a response


#: status -> (error.type, error.code, error.message) for scripted faults and auth failures.
ERROR_SHAPES = {
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided"),
    403: ("invalid_request_error", "unknown_pid", "unknown pid"),
    429: ("rate_limit_error", "rate_limit_exceeded", "Rate limit reached, retry later"),
}


def error_answer(
    status: int,
    message: str,
    code: str | None,
    param: str | None = None,
    error_type: str = "invalid_request_error",
    omit_param: bool = False,
) -> Answer:
    error: dict[str, Any] = {"message": message, "type": error_type, "param": param, "code": code}
    if param is not None:
        error["errors"] = [{"message": message, "param": param, "code": code}]
    if omit_param:
        error.pop("param")
        for item in error.get("errors", ()):
            item.pop("param")
    return Answer(status, {"error": error})


def fault_answer(fault: Fault) -> Answer:
    default = (
        ("server_error", "server_error", "The server had an error")
        if fault.code >= 500
        else ("invalid_request_error", "stand_in_fault", f"stand-in fault {fault.code}")
    )
    error_type, code, message = ERROR_SHAPES.get(fault.code, default)
    answer = error_answer(fault.code, message, code, error_type=error_type)
    if fault.retry_after is not None:
        value = fault.retry_after
        text = str(int(value)) if float(value).is_integer() else str(value)
        answer = Answer(answer.status, answer.payload, (("Retry-After", text),))
    return answer
