"""End to end: what the connector adds to OpenAI's own response time on the real-time path.

The OpenAI stand-in answers every request after a fixed RESPONSE_MS (its `slow` fault,
local/standin_faults.py). Warm: a purchase posted to the local HTTP front (API Gateway's part) runs
the ingest handler, which sends it to the stand-in; the same request body posted straight to the
stand-in is the baseline, the two interleaved. Cold: a fresh interpreter imports the handler and
answers its first request (the secret read from moto, a new connection), as a new Lambda container
would after its runtime started. Environment as template.yaml sets it (INFO logs, metrics on).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time

import urllib3

from bench import coldstart, payloads
from bench.payloads import ROOT

#: OpenAI's response time as the stand-in plays it.
RESPONSE_MS = 50.0
WARM_REQUESTS = 100
COLD_STARTS = 9
ACTION = "purchase"  # delivery "realtime" in functions/ingest/actions.json
PIXEL_ID = "px_bench_latency"
API_KEY = "sk-bench-latency-0123456789"
FRONT_KEY = "bench-front-key"

# local.sqs_poller's FakeLambdaContext would import boto3 before the clock starts: a plain namespace instead.
_COLD_PROBE = """
import json, sys, time, types
sys.path[:0] = [{handler_dir!r}, {layer!r}, {root!r}]
from local.apigw import proxy_event
event = proxy_event({action!r}, {body!r})
context = types.SimpleNamespace(
    function_name="IngestFunction", memory_limit_in_mb=512, aws_request_id="cold-1", function_version="$LATEST",
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:IngestFunction",
    get_remaining_time_in_millis=lambda: 29_000,
)
start = time.perf_counter()
import app
imported = time.perf_counter()
answer = app.lambda_handler(event, context)
end = time.perf_counter()
print(json.dumps({{
    "ms": (end - start) * 1000, "import_ms": (imported - start) * 1000, "first_request_ms": (end - imported) * 1000,
    "status": answer["statusCode"], "body": answer["body"],
}}))
"""


class CountingSink(io.TextIOBase):
    """Stands in for stdout while the handler runs: counts the log bytes CloudWatch would ingest."""

    def __init__(self) -> None:
        self.bytes = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.bytes += len(text.encode("utf-8"))
        return len(text)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def _summary(samples: list[float]) -> dict:
    return {"p50": percentile(samples, 0.50), "p99": percentile(samples, 0.99), "n": len(samples)}


def _environment(moto_url: str, secret_arn: str, base_url: str) -> dict[str, str]:
    env = coldstart.template_env("IngestFunction", {})
    env |= {
        "PIXEL_ID": PIXEL_ID,
        "BASE_URL": base_url,
        "API_KEY_SECRET_ID": secret_arn,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto_url,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    env.pop("QUEUE_URL", None)  # the real-time path never queues while OpenAI answers
    # The event trail's lines are measured per step by bench/trail.py and priced per event on their own.
    env["EVENT_TRAIL"] = "off"
    return env


def _post_json(http: urllib3.PoolManager, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, float]:
    start = time.perf_counter()
    response = http.request("POST", url, body=body, headers=headers, retries=False)
    return response.status, (time.perf_counter() - start) * 1000


def _warm(front_url: str, standin, http: urllib3.PoolManager, sink: CountingSink) -> tuple[dict, dict, float]:
    """(connector end to end with its added time, stand-in alone, log bytes per invocation), WARM_REQUESTS each."""
    url = f"{front_url}/actions/{ACTION}"
    headers = {"x-api-key": FRONT_KEY, "Content-Type": "application/json"}
    with contextlib.redirect_stdout(sink):
        status, _ = _post_json(http, url, json.dumps(payloads.purchase()).encode(), headers)  # warm up
    if status != 200:
        raise RuntimeError(f"bench: the front answered {status} to a purchase")
    sent = standin.requests[-1]
    direct_url = f"{standin.base_url}{sent.path}?" + "&".join(f"{k}={v}" for k, v in sent.query.items())
    direct_headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    connector, direct = [], []
    sink.bytes = 0
    for _ in range(WARM_REQUESTS):
        body = json.dumps(payloads.purchase()).encode()
        with contextlib.redirect_stdout(sink):
            status, ms = _post_json(http, url, body, headers)
        if status != 200:
            raise RuntimeError(f"bench: the front answered {status} to a purchase")
        connector.append(ms)
        direct.append(_post_json(http, direct_url, sent.body, direct_headers)[1])
    # Each connector request minus the direct one right after it: noise that hits both cancels.
    paired = [ours - theirs for ours, theirs in zip(connector, direct, strict=True)]
    return _summary(connector) | {"added": _summary(paired)}, _summary(direct), sink.bytes / WARM_REQUESTS


def _cold(env: dict[str, str]) -> dict:
    body = json.dumps(payloads.purchase())
    code = _COLD_PROBE.format(
        handler_dir=str(ROOT / "functions" / "ingest"),
        layer=str(ROOT / "layers" / "connector"),
        root=str(ROOT),
        action=ACTION,
        body=body,
    )
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))}
    child_env.pop("PYTHONPATH", None)
    child_env |= env | {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
    samples, imports, first_requests = [], [], []
    for _ in range(COLD_STARTS):
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=child_env, capture_output=True, text=True, check=True
        )
        answer = json.loads(result.stdout.strip().splitlines()[-1])
        if answer["status"] != 200 or '"sent"' not in answer["body"]:
            raise RuntimeError(f"bench: a cold handler answered {answer['status']}")
        samples.append(answer["ms"])
        imports.append(answer["import_ms"])
        first_requests.append(answer["first_request_ms"])
    # The first request reads the secret: boto3's import and a Secrets Manager client come with it.
    return _summary(samples) | {
        "import_p50": percentile(imports, 0.5),
        "first_request_p50": percentile(first_requests, 0.5),
    }


def run() -> dict:
    from local.handlers import load_handler, patched_environ
    from local.http_front import HttpFront
    from local.openai_standin import OpenAIStandin
    from local.services import aws_client, start_moto
    from local.standin_faults import Fault

    with contextlib.ExitStack() as stack:
        moto = stack.enter_context(start_moto())
        secret = aws_client("secretsmanager", moto.endpoint_url).create_secret(
            Name="bench/openai-key", SecretString=API_KEY
        )
        standin = OpenAIStandin(api_keys=[API_KEY], pixel_ids=[PIXEL_ID]).start()
        stack.callback(standin.stop)
        standin.outage([Fault.slow(RESPONSE_MS / 1000)], duration_s=3600)
        env = _environment(moto.endpoint_url, secret["ARN"], standin.base_url)
        stack.enter_context(patched_environ(env))
        from aws_lambda_powertools.utilities import parameters

        parameters.clear_caches()
        stack.callback(parameters.clear_caches)
        sink = CountingSink()
        with contextlib.redirect_stdout(sink):  # Powertools' Logger keeps the stream it starts with: this one
            app = load_handler("ingest")
        front = stack.enter_context(HttpFront(app.lambda_handler, FRONT_KEY))
        http = urllib3.PoolManager(maxsize=2)
        warm, direct, log_bytes = _warm(front.url, standin, http, sink)
        cold = _cold(env)

    added = {
        "warm_p50": warm["added"]["p50"],
        "warm_p99": warm["added"]["p99"],
        "cold_p50": cold["p50"] - direct["p50"],
        "cold_p99": cold["p99"] - direct["p50"],
    }
    return {
        "response_ms": RESPONSE_MS,
        "warm": warm,
        "direct": direct,
        "cold": cold,
        "added_ms": added,
        "added_ratio": {name: ms / RESPONSE_MS for name, ms in added.items()},
        "ingest_log_bytes": round(log_bytes),
    }


if __name__ == "__main__":
    sys.path[:0] = [str(ROOT / "layers" / "connector"), str(ROOT)]
    print(json.dumps(run(), indent=2))
