"""Cold start as deployed: importing each handler in a fresh interpreter, next to `import boto3` alone.

The environment is what template.yaml gives each function with its parameters' defaults (tracing
included), plus what Lambda sets itself; the interpreter can import only what a deployed function
finds (its code, its layers, the runtime's SDK, the standard library: bench/layer.py), since the
X-Ray SDK patches whatever it can import.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from typing import Any

from bench import layer
from bench.payloads import ROOT

RUNS = 7

#: Values for what the template takes from resources or leaves empty; no import may touch the network.
PLACEHOLDERS = {
    "PIXEL_ID": "px_bench",
    "API_KEY_SECRET_ID": "bench/openai-key",
    "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-events",
    "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-dlq",
}
#: What Lambda sets in every execution environment (the X-Ray SDK checks LAMBDA_TASK_ROOT).
LAMBDA_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "LAMBDA_TASK_ROOT": "/var/task",
}

#: Name -> (function's logical id or None, directory put first on sys.path, module, template overrides).
TARGETS: dict[str, tuple[str | None, str | None, str, dict[str, str]]] = {
    "import boto3": (None, None, "boto3", {}),
    "ingest handler": ("IngestFunction", "functions/ingest", "app", {}),
    "batch sender handler": ("BatchSenderFunction", "functions/batch_sender", "app", {}),
    "ingest handler, XRaySdkTracing=true": ("IngestFunction", "functions/ingest", "app", {"XRaySdkTracing": "true"}),
}
#: The row the 1.5x target applies to: the template's defaults.
TARGET_ROW = "ingest handler"

_PROBE = """
import importlib.machinery, sys, time
deployed = {deployed!r}

class Undeployed:
    # A package installed here but in no layer nor the runtime cannot be imported when deployed.
    @staticmethod
    def find_spec(name, path=None, target=None):
        if path is None and name not in deployed:
            raise ModuleNotFoundError(name)

sys.meta_path.insert(0, Undeployed)
{path}
start = time.perf_counter()
import {module}
print((time.perf_counter() - start) * 1000)
"""


def _condition(template: dict[str, Any], name: str, parameters: dict[str, Any]) -> bool:
    return _evaluate(template["Conditions"][name], parameters, f"Conditions.{name}")


def _evaluate(condition: dict[str, Any], parameters: dict[str, Any], where: str) -> bool:
    """Fn::Equals of parameters and literals, and Fn::Not of that: what the template's conditions use."""
    ((kind, operands),) = condition.items()
    if kind == "Fn::Not":
        return not _evaluate(operands[0], parameters, where)
    if kind != "Fn::Equals":
        raise ValueError(f"{where}: only Fn::Equals and Fn::Not are evaluated here")
    values = [parameters[v["Ref"]] if isinstance(v, dict) else v for v in operands]
    return values[0] == values[1]


def template_env(function_id: str, overrides: dict[str, str]) -> dict[str, str]:
    """The function's environment from template.yaml, parameters at their defaults unless overridden."""
    from local.template import function_environment, load_template

    template = load_template()
    parameters = {name: spec.get("Default") for name, spec in template["Parameters"].items()} | overrides
    env = {}
    for name, value in function_environment(template, function_id).items():
        if isinstance(value, dict) and "Fn::If" in value:
            condition, when_true, when_false = value["Fn::If"]
            value = when_true if _condition(template, condition, parameters) else when_false
        if value == {"Ref": "AWS::NoValue"}:
            continue  # the variable is not set at all
        if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in parameters:
            value = parameters[value["Ref"]]
        env[name] = PLACEHOLDERS[name] if value is None or isinstance(value, dict) else str(value)
    return env


def _env(function_id: str | None, overrides: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "LAMBDA_"))}
    env.pop("PYTHONPATH", None)
    env.update(LAMBDA_ENV)
    if function_id:
        env.update(template_env(function_id, overrides))
        env["AWS_LAMBDA_FUNCTION_NAME"] = function_id
    return env


def _probe(
    function_id: str | None,
    directory: str | None,
    module: str,
    overrides: dict[str, str],
    flags: tuple[str, ...] = (),
) -> subprocess.CompletedProcess:
    path = ""
    if directory:
        path = f"sys.path[:0] = [{str(ROOT / directory)!r}, {str(ROOT / 'layers' / 'connector')!r}]"
    deployed = sorted(layer.deployed_names(overrides.get("XRaySdkTracing") == "true"))
    code = _PROBE.format(deployed=deployed, path=path, module=module)
    return subprocess.run(
        [sys.executable, *flags, "-c", code],
        cwd=ROOT,
        env=_env(function_id, overrides),
        capture_output=True,
        text=True,
        check=True,
    )


def top_imports(target: str, count: int = 8) -> list[dict]:
    """The heaviest top-level imports (-X importtime, cumulative) under the handler."""
    lines = _probe(*TARGETS[target], flags=("-X", "importtime")).stderr.splitlines()
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
    for target in TARGETS.values():
        _probe(*target)  # write the .pyc files first
    for _ in range(RUNS):
        for name, target in TARGETS.items():
            samples[name].append(float(_probe(*target).stdout.strip().splitlines()[-1]))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    base = medians["import boto3"]
    rows = [{"target": name, "ms": ms, "ratio": ms / base} for name, ms in medians.items()]
    return {
        "rows": rows,
        "target_row": TARGET_ROW,
        "ingest_top_imports": top_imports(TARGET_ROW),
        "sdk_top_imports": top_imports("ingest handler, XRaySdkTracing=true"),
        "target_ratio": 1.5,
    }
