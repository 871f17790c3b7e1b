"""The handlers' Powertools Tracer, without the X-Ray SDK's import cost unless it is asked for.

With the template's default (XRaySdkTracing false) Lambda's active tracing and API Gateway record
each request's trace by themselves, and POWERTOOLS_TRACE_DISABLED is set: the Tracer gets a no-op
provider (Powertools' own extension point) and the SDK is neither imported nor in the layer.
Importing aws_xray_sdk.core and patching the libraries it traces loads botocore: about 1x
`import boto3` more on every cold start (bench/coldstart.py), the price of SDK subsegments when
XRaySdkTracing is true (layers/xray/requirements.txt).
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager, contextmanager

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

TRUTHY = frozenset({"1", "true", "yes", "on"})


class _NoSegment(BaseSegment):
    def close(self, end_time=None): ...
    def add_subsegment(self, subsegment): ...
    def remove_subsegment(self, subsegment): ...
    def put_annotation(self, key, value): ...
    def put_metadata(self, key, value, namespace="default"): ...
    def add_exception(self, exception, stack, remote=False): ...


class _NoProvider(BaseProvider):
    @contextmanager
    def in_subsegment(self, name=None, **kwargs):
        yield _NoSegment()

    @asynccontextmanager
    async def in_subsegment_async(self, name=None, **kwargs):
        yield _NoSegment()

    def put_annotation(self, key, value): ...
    def put_metadata(self, key, value, namespace="default"): ...
    def patch(self, modules): ...
    def patch_all(self): ...


def build_tracer() -> Tracer:
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() in TRUTHY:
        return Tracer(disabled=True, provider=_NoProvider())
    return Tracer()
