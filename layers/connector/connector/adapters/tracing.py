"""The handlers' Powertools Tracer, without the X-Ray SDK's import cost unless it is asked for.

With the template's default (XRaySdkTracing false) Lambda's active tracing and API Gateway record
each request's trace by themselves, and POWERTOOLS_TRACE_DISABLED is set: the handlers get the no-op
stand-in below and the SDK is neither imported nor in the layer.
Importing aws_xray_sdk.core and patching the libraries it traces loads botocore on every cold
start (bench/coldstart.py prices it): what SDK subsegments cost when XRaySdkTracing is true
(layers/xray/requirements.txt).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

TRUTHY = frozenset({"1", "true", "yes", "on"})


class Untraced:
    """What the handlers use of Powertools' Tracer, doing nothing.

    Not `Tracer(disabled=True)`: that imports the X-Ray SDK to switch it off, and the connector's
    layer no longer has it.
    """

    def capture_lambda_handler(
        self, lambda_handler: Callable | None = None, capture_response: bool | None = None, **options
    ) -> Callable:
        if lambda_handler is None:  # used as @capture_lambda_handler(...)
            return lambda handler: handler
        return lambda_handler


def tracing_disabled() -> bool:
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() in TRUTHY


def build_tracer() -> Tracer | Untraced:
    # Without XRaySdkLayer there is no SDK to trace with, whatever the variable says (sam local, say).
    if tracing_disabled() or importlib.util.find_spec("aws_xray_sdk") is None:
        return Untraced()
    from aws_lambda_powertools import Tracer  # the X-Ray SDK layer's (template parameter XRaySdkTracing)

    return Tracer()
