"""Tracing as the template sets it: the handlers never need the X-Ray SDK unless XRaySdkTracing asks for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.repo import ROOT

# Imports a handler with the X-Ray SDK made unimportable (as in the default deployment's layer),
# then reports whether any SDK module got loaded and what the handler's tracer is.
PROBE = """
import json, sys
sys.modules["aws_xray_sdk"] = None  # Python's way to make a package unimportable: as if not installed
sys.path[:0] = [{handler_dir!r}, {layer!r}]
import app
loaded = sorted(name for name, module in sys.modules.items() if name.startswith("aws_xray_sdk") and module)
print(json.dumps({{"loaded": loaded, "tracer": type(app.tracer).__name__}}))
"""


@pytest.mark.parametrize("trace_disabled", ["true", None], ids=["tracing off", "variable unset"])
@pytest.mark.parametrize("function_dir", ["ingest", "batch_sender"])
def test_handlers_import_without_the_xray_sdk_when_tracing_is_off(function_dir, trace_disabled):
    code = PROBE.format(handler_dir=str(ROOT / "functions" / function_dir), layer=str(ROOT / "layers" / "connector"))
    env = os.environ | {"PIXEL_ID": "px_test", "API_KEY_SECRET_ID": "test/openai-key"}
    env.pop("POWERTOOLS_TRACE_DISABLED")
    if trace_disabled is not None:
        env["POWERTOOLS_TRACE_DISABLED"] = trace_disabled
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr[-1500:]
    # The probe's line comes last, after the handler's own log lines (the actions document it loaded).
    assert json.loads(result.stdout.splitlines()[-1]) == {"loaded": [], "tracer": "Untraced"}


def test_untraced_decorators_return_the_handler_itself():
    from connector.adapters.tracing import Untraced

    def handler(event, context):
        return {"ok": True}

    tracer = Untraced()
    assert tracer.capture_lambda_handler(capture_response=False)(handler) is handler
    assert tracer.capture_lambda_handler(handler) is handler


def test_tracing_on_gives_powertools_tracer(monkeypatch):
    from aws_lambda_powertools import Tracer
    from connector.adapters.tracing import build_tracer

    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "false")
    # Outside Lambda the Tracer finds no daemon and disables itself; it is Powertools' Tracer all the same.
    assert isinstance(build_tracer(), Tracer)
