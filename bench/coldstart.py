"""Cold start: importing each handler module in a fresh interpreter, next to `import boto3` alone."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

from bench.payloads import ROOT

RUNS = 7

#: What the template sets, with placeholders; no import may touch the network.
HANDLER_ENV = {
    "PIXEL_ID": "px_bench",
    "API_KEY_SECRET_ID": "bench/openai-key",
    "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-events",
    "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-dlq",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_EC2_METADATA_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_SERVICE_NAME": "openai-events-connector",
    "POWERTOOLS_METRICS_NAMESPACE": "OpenAIEventsConnector",
}

#: Name -> (directory put first on sys.path, module imported, tracing on). With tracing on the
#: Tracer imports the X-Ray SDK (connector/tracing.py): the template's default, priced separately.
TARGETS = {
    "import boto3": (None, "boto3", False),
    "ingest handler": ("functions/ingest", "app", False),
    "batch sender handler": ("functions/batch_sender", "app", False),
    "ingest handler, tracing on": ("functions/ingest", "app", True),
}

_PROBE = """
import sys, time
{path}
start = time.perf_counter()
import {module}
print((time.perf_counter() - start) * 1000)
"""


def _env(tracing: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))}
    env.update(HANDLER_ENV)
    env.pop("PYTHONPATH", None)
    if tracing:
        env.pop("POWERTOOLS_TRACE_DISABLED")
    return env


def _probe(
    directory: str | None, module: str, tracing: bool = False, flags: tuple[str, ...] = ()
) -> subprocess.CompletedProcess:
    path = ""
    if directory:
        path = f"sys.path[:0] = [{str(ROOT / directory)!r}, {str(ROOT / 'layers' / 'connector')!r}]"
    code = _PROBE.format(path=path, module=module)
    return subprocess.run(
        [sys.executable, *flags, "-c", code], cwd=ROOT, env=_env(tracing), capture_output=True, text=True, check=True
    )


def top_imports(directory: str, module: str, tracing: bool, count: int = 8) -> list[dict]:
    """The heaviest top-level imports (-X importtime, cumulative) under the handler."""
    lines = _probe(directory, module, tracing, ("-X", "importtime")).stderr.splitlines()
    found = []
    for line in lines:
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if name.startswith("   ") and not name.startswith("     "):  # depth 1: imported by the handler itself
            found.append({"module": name.strip(), "ms": int(cumulative) / 1000})
    return sorted(found, key=lambda row: -row["ms"])[:count]


def run() -> dict:
    samples: dict[str, list[float]] = {name: [] for name in TARGETS}
    _probe(*TARGETS["ingest handler"])  # write the .pyc files first
    for _ in range(RUNS):
        for name, (directory, module, tracing) in TARGETS.items():
            samples[name].append(float(_probe(directory, module, tracing).stdout.strip().splitlines()[-1]))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    base = medians["import boto3"]
    rows = [{"target": name, "ms": ms, "ratio": ms / base} for name, ms in medians.items()]
    return {"rows": rows, "ingest_top_imports": top_imports(*TARGETS["ingest handler"]), "target_ratio": 1.5}
