"""What a million events cost on AWS, every charge, for each delivery mode; and what is paid monthly anyway.

Prices are us-east-1 list prices (first tier, no free tier), each a named constant with its page.
Traffic figures (rate, round trips, log line sizes) are ASSUMPTIONS, also named; CPU time comes from
this run's core and batch benchmarks, the ingest's log bytes from the end-to-end benchmark when
it ran, and the event trail's bytes per event from bench/trail.py (its own line item: EVENT_TRAIL=off
removes it). `model()` is pure arithmetic on its inputs, so tests check it with fixed numbers.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

from bench.payloads import ROOT

# --- prices (USD, us-east-1) ---------------------------------------------------------------------------
#: https://aws.amazon.com/lambda/pricing/ : arm64, per GB-second, first 7.5 billion GB-s a month.
LAMBDA_PER_GB_SECOND = 0.0000133334
#: Same page: per million requests (invocations).
LAMBDA_PER_MILLION_REQUESTS = 0.20
#: https://aws.amazon.com/api-gateway/pricing/ : REST API, per million requests, first 333 million a month.
REST_API_PER_MILLION = 3.50
#: Same page: HTTP API, per million requests of up to 512 KB, first 300 million a month.
HTTP_API_PER_MILLION = 1.00
#: https://aws.amazon.com/sqs/pricing/ : standard queue, per million requests; every 64 KB chunk of a
#: request's payload is billed as one request.
SQS_PER_MILLION_REQUESTS = 0.40
SQS_BILLED_CHUNK_BYTES = 65_536
#: https://aws.amazon.com/secrets-manager/pricing/ : per 10,000 API calls, and per secret per month.
SECRETS_PER_10K_CALLS = 0.05
SECRETS_PER_SECRET_MONTH = 0.40
#: https://aws.amazon.com/cloudwatch/pricing/ : Logs ingestion per GB (standard class), custom metrics
#: per metric a month (first 10,000; EMF metrics are billed as their log bytes plus this), standard
#: alarms per alarm a month.
LOGS_PER_GB = 0.50
METRIC_PER_MONTH = 0.30
ALARM_PER_MONTH = 0.10
#: https://aws.amazon.com/xray/pricing/ : per million traces recorded.
XRAY_PER_MILLION_TRACES = 5.00
#: https://aws.amazon.com/ec2/pricing/on-demand/ (Data Transfer): out to the internet, per GB, first 10 TB.
TRANSFER_OUT_PER_GB = 0.09

# --- how Lambda bills -----------------------------------------------------------------------------------
#: Lambda gives one full vCPU at 1,769 MB and CPU in proportion below that (AWS documentation).
MB_PER_VCPU = 1769

# --- ASSUMPTIONS about traffic and the world --------------------------------------------------------------
#: Steady events per second: sets how many containers stay warm (Secrets Manager reads, X-Ray sampling).
EVENTS_PER_SECOND = 100.0
#: One OpenAI Events API round trip, billed as wall time while the function waits.
OPENAI_ROUND_TRIP_MS = 80.0
#: One SQS SendMessageBatch round trip from the ingest function.
SQS_ROUND_TRIP_MS = 15.0
#: One Secrets Manager GetSecretValue round trip (paid once per container and key age).
SECRET_ROUND_TRIP_MS = 20.0
#: Lambda's own log lines per invocation (START, END, REPORT in the text format).
PLATFORM_LOG_BYTES = 330
#: The batch sender's own log bytes per invocation ("batch done" line and metrics).
SENDER_LOG_BYTES = 1_500
#: The ingest's log bytes per invocation when the end-to-end benchmark did not measure them.
INGEST_LOG_BYTES = 1_200
#: HTTP request line and headers of one POST to OpenAI, and its answer.
HTTP_OVERHEAD_BYTES = 600
#: X-Ray's default sampling rule: the first request each second, then 5% of the rest.
XRAY_RESERVOIR_PER_SECOND = 1.0
XRAY_FIXED_RATE = 0.05
#: Lambda's SQS event source polls with 5 long-polling (20 s) connections while the queue is empty.
SQS_IDLE_POLLERS = 5
SQS_LONG_POLL_SECONDS = 20
#: VendorStatus<code> metrics seen in a month (200, 4xx, 5xx answers).
VENDOR_STATUS_CODES = 3
#: A cached Lambda authorizer's result lives this long (API Gateway allows up to 3,600 s).
AUTHORIZER_CACHE_SECONDS = 300
AUTHORIZER_MEMORY_MB = 128
AUTHORIZER_DURATION_MS = 5.0

#: Events in one call for the "per call" rows: a server posting a list, or Tealium's batched webhook at its
#: default batch size ("Maximum number of requests: 100", connector/core/tealium_batch.py).
EVENTS_PER_CALL = 100
#: The event source mapping's BatchSize: events per sender invocation.
EVENTS_PER_SENDER_INVOCATION = 1000
#: SQS ReceiveMessage returns at most 10 messages; DeleteMessageBatch takes at most 10.
SQS_MESSAGES_PER_REQUEST = 10
MONTH_SECONDS = 30 * 24 * 3600
#: The line item of the event trail's log lines: with the lines' CPU time, what EVENT_TRAIL=off saves.
TRAIL_ITEM = "CloudWatch Logs ingested, event trail (GB)"
#: Trail lines per event: ingest writes received and the outcome, the batch sender one line.
TRAIL_LINES_INGEST = 2
TRAIL_LINES_SENDER = 1
PER_MILLION = 1_000_000


@dataclass(frozen=True)
class Inputs:
    """Everything the arithmetic needs; `run()` fills it from the template and this run's figures."""

    memory_mb: int
    core_ms: float  # payload -> wire bytes, per event, at that memory size
    send_ms: float  # queue record -> request body, per event, at that memory size
    requests_per_1000: int  # OpenAI requests per 1,000 queued events (the packer's figure)
    event_bytes: int  # one wire event
    message_bytes: int  # one queue message (route + event)
    ingest_log_bytes: int  # the ingest function's own log bytes per invocation
    api_key_max_age_s: int
    events_per_second: float = EVENTS_PER_SECOND
    #: The event trail's log bytes per event (bench/trail.py): real-time (received, sent) and batched
    #: (received, queued, batch sent); 0 models EVENT_TRAIL=off.
    trail_bytes_realtime: int = 0
    trail_bytes_batched: int = 0
    #: CPU time of one trail line at that memory size (bench/trail.py); ingest writes two per event
    #: (received, then its outcome), the batch sender one.
    trail_ms_per_line: float = 0.0


def memory_mb() -> int:
    """The functions' MemorySize from template.yaml (a !Ref resolves to the parameter's default)."""
    from local.template import load_template

    template = load_template()
    memory = template["Globals"]["Function"]["MemorySize"]
    if isinstance(memory, dict) and "Ref" in memory:
        memory = template["Parameters"][memory["Ref"]]["Default"]
    return int(memory)


def gb_seconds(invocations: float, duration_ms: float, memory: int) -> float:
    return invocations * math.ceil(duration_ms) / 1000 * memory / 1024  # Lambda bills in 1 ms steps


def sampled_fraction(requests_per_second: float) -> float:
    """Share of requests X-Ray's default rule records at this steady rate."""
    if requests_per_second <= XRAY_RESERVOIR_PER_SECOND:
        return 1.0
    rest = requests_per_second - XRAY_RESERVOIR_PER_SECOND
    return (XRAY_RESERVOIR_PER_SECOND + XRAY_FIXED_RATE * rest) / requests_per_second


def containers(calls_per_second: float, duration_ms: float) -> int:
    """Warm containers at a steady rate (Little's law), at least one."""
    return max(1, math.ceil(calls_per_second * duration_ms / 1000))


def _mode(inputs: Inputs, events_per_call: int, batched: bool) -> dict:
    """Line items for a million events, posted `events_per_call` at a time, sent now or through SQS."""
    calls = PER_MILLION / events_per_call
    seconds = PER_MILLION / inputs.events_per_second  # how long a million events take to arrive
    calls_per_second = inputs.events_per_second / events_per_call
    items: dict[str, tuple[float, float]] = {}  # name -> (quantity, usd)

    if batched:
        messages_per_send = min(events_per_call, SQS_MESSAGES_PER_REQUEST)
        sends_per_call = math.ceil(events_per_call / SQS_MESSAGES_PER_REQUEST)
        ingest_ms = events_per_call * (inputs.core_ms + TRAIL_LINES_INGEST * inputs.trail_ms_per_line)
        ingest_ms += sends_per_call * SQS_ROUND_TRIP_MS
        sender_invocations = PER_MILLION / EVENTS_PER_SENDER_INVOCATION
        sender_ms = EVENTS_PER_SENDER_INVOCATION * (inputs.send_ms + TRAIL_LINES_SENDER * inputs.trail_ms_per_line)
        sender_ms += inputs.requests_per_1000 * OPENAI_ROUND_TRIP_MS
        openai_requests = PER_MILLION / 1000 * inputs.requests_per_1000
        chunks = math.ceil(messages_per_send * inputs.message_bytes / SQS_BILLED_CHUNK_BYTES)
        receive_chunks = math.ceil(SQS_MESSAGES_PER_REQUEST * inputs.message_bytes / SQS_BILLED_CHUNK_BYTES)
        sqs = {
            "SQS SendMessageBatch requests": calls * sends_per_call * chunks,
            "SQS ReceiveMessage requests (event source)": PER_MILLION / SQS_MESSAGES_PER_REQUEST * receive_chunks,
            "SQS DeleteMessageBatch requests (event source)": PER_MILLION / SQS_MESSAGES_PER_REQUEST,
        }
        for name, count in sqs.items():
            items[name] = (count, count / 1e6 * SQS_PER_MILLION_REQUESTS)
    else:
        per_event = inputs.core_ms + inputs.send_ms + TRAIL_LINES_INGEST * inputs.trail_ms_per_line
        ingest_ms = events_per_call * per_event + OPENAI_ROUND_TRIP_MS
        sender_invocations, sender_ms = 0.0, 0.0
        openai_requests = calls * math.ceil(events_per_call / 1000)

    items["API Gateway REST requests"] = (calls, calls / 1e6 * REST_API_PER_MILLION)
    invocations = calls + sender_invocations
    items["Lambda requests"] = (invocations, invocations / 1e6 * LAMBDA_PER_MILLION_REQUESTS)
    compute = gb_seconds(calls, ingest_ms, inputs.memory_mb) + gb_seconds(
        sender_invocations, sender_ms, inputs.memory_mb
    )
    items["Lambda GB-seconds"] = (compute, compute * LAMBDA_PER_GB_SECOND)

    # Each warm container reads each key once per max age (connector/adapters/api_keys.py), the sender's too.
    warm = containers(calls_per_second, ingest_ms)
    if batched:
        warm += containers(inputs.events_per_second / EVENTS_PER_SENDER_INVOCATION, sender_ms)
    reads = warm * math.ceil(seconds / inputs.api_key_max_age_s)
    items["Secrets Manager GetSecretValue calls"] = (reads, reads / 10_000 * SECRETS_PER_10K_CALLS)

    log_bytes = calls * (PLATFORM_LOG_BYTES + inputs.ingest_log_bytes) + sender_invocations * (
        PLATFORM_LOG_BYTES + SENDER_LOG_BYTES
    )
    items["CloudWatch Logs ingested (GB)"] = (log_bytes / 1e9, log_bytes / 1e9 * LOGS_PER_GB)
    trail_bytes = PER_MILLION * (inputs.trail_bytes_batched if batched else inputs.trail_bytes_realtime)
    items[TRAIL_ITEM] = (trail_bytes / 1e9, trail_bytes / 1e9 * LOGS_PER_GB)

    traces = calls * sampled_fraction(calls_per_second)
    if batched:
        traces += sender_invocations * sampled_fraction(inputs.events_per_second / EVENTS_PER_SENDER_INVOCATION)
    items["X-Ray traces (Tracing: Active, default sampling)"] = (traces, traces / 1e6 * XRAY_PER_MILLION_TRACES)

    out_bytes = PER_MILLION * inputs.event_bytes + openai_requests * HTTP_OVERHEAD_BYTES
    items["Data transfer out to OpenAI (GB)"] = (out_bytes / 1e9, out_bytes / 1e9 * TRANSFER_OUT_PER_GB)

    rows = [{"item": name, "quantity": quantity, "usd": usd} for name, (quantity, usd) in items.items()]
    return {
        "calls": calls,
        "invocations": invocations,
        "gb_seconds": compute,
        "openai_requests": openai_requests,
        "ingest_ms": ingest_ms,
        "items": rows,
        "usd": sum(row["usd"] for row in rows),
    }


def http_api_ingress(inputs: Inputs, events_per_call: int) -> dict:
    """The same calls through an HTTP API whose Lambda authorizer's answer is cached."""
    calls = PER_MILLION / events_per_call
    seconds = PER_MILLION / inputs.events_per_second
    authorizer_calls = math.ceil(seconds / AUTHORIZER_CACHE_SECONDS)
    authorizer = (
        authorizer_calls / 1e6 * LAMBDA_PER_MILLION_REQUESTS
        + gb_seconds(authorizer_calls, AUTHORIZER_DURATION_MS, AUTHORIZER_MEMORY_MB) * LAMBDA_PER_GB_SECOND
    )
    return {
        "rest_usd": calls / 1e6 * REST_API_PER_MILLION,
        "http_usd": calls / 1e6 * HTTP_API_PER_MILLION,
        "authorizer_calls": authorizer_calls,
        "authorizer_usd": authorizer,
    }


def monthly(metric_count: int, alarm_count: int) -> list[dict]:
    """What the stack costs a month whatever the volume."""
    idle_receives = SQS_IDLE_POLLERS * MONTH_SECONDS / SQS_LONG_POLL_SECONDS
    return [
        {"item": "Secrets Manager secret", "quantity": 1, "usd": SECRETS_PER_SECRET_MONTH},
        {"item": "CloudWatch custom metrics", "quantity": metric_count, "usd": metric_count * METRIC_PER_MONTH},
        {"item": "CloudWatch alarms", "quantity": alarm_count, "usd": alarm_count * ALARM_PER_MONTH},
        {
            "item": "SQS empty receives (event source long polling)",
            "quantity": idle_receives,
            "usd": idle_receives / 1e6 * SQS_PER_MILLION_REQUESTS,
        },
    ]


def model(inputs: Inputs, metric_count: int, alarm_count: int) -> dict:
    trail_off = replace(inputs, trail_bytes_realtime=0, trail_bytes_batched=0, trail_ms_per_line=0.0)
    shapes = {
        "real-time, 1 event per call": (1, False),
        f"real-time, {EVENTS_PER_CALL} events per call": (EVENTS_PER_CALL, False),
        "batched, 1 event per call": (1, True),
        # Tealium's "Send Batched Data via HTTP Request" into a batched action: the recommended pairing.
        f"batched, {EVENTS_PER_CALL} events per call": (EVENTS_PER_CALL, True),
    }
    modes = {
        name: _mode(inputs, per_call, batched) | {"usd_trail_off": _mode(trail_off, per_call, batched)["usd"]}
        for name, (per_call, batched) in shapes.items()
    }
    fixed = monthly(metric_count, alarm_count)
    return {
        "inputs": asdict(inputs),
        "modes": [{"mode": name, **mode} for name, mode in modes.items()],
        "monthly": fixed,
        "monthly_usd": sum(row["usd"] for row in fixed),
        "ingress": {
            "1 event per call": http_api_ingress(inputs, 1),
            f"{EVENTS_PER_CALL} events per call": http_api_ingress(inputs, EVENTS_PER_CALL),
        },
    }


def metric_count() -> int:
    """Metric names the functions emit (connector/adapters/observability.py and the ingest's UnexpectedErrors)."""
    from connector.adapters.observability import STATUS_METRICS

    return 1 + len(STATUS_METRICS) + 2 + VENDOR_STATUS_CODES + 1  # received, statuses, vendor, codes, errors


def alarm_count() -> int:
    from local.template import load_template, resources_of_type

    return len(resources_of_type(load_template(), "AWS::CloudWatch::Alarm"))


def run(
    core_s_per_event: float,
    send_s_per_event: float,
    requests_per_1000: int,
    event_bytes: int,
    message_bytes: int,
    ingest_log_bytes: int | None = None,
    trail_bytes: tuple[int, int] = (0, 0),
    trail_s_per_line: float = 0.0,
) -> dict:
    """core: payload -> wire bytes; send: SQS record -> request bodies, both per event on one full core;
    trail_bytes: the event trail's log bytes per event, real-time and batched (bench/trail.py)."""
    from connector.core.settings import DEFAULT_API_KEY_MAX_AGE_SECONDS

    memory = memory_mb()
    slowdown = max(1.0, MB_PER_VCPU / memory)  # CPU work stretches at less than one vCPU
    inputs = Inputs(
        memory_mb=memory,
        core_ms=core_s_per_event * 1e3 * slowdown,
        send_ms=send_s_per_event * 1e3 * slowdown,
        requests_per_1000=requests_per_1000,
        event_bytes=event_bytes,
        message_bytes=message_bytes,
        ingest_log_bytes=INGEST_LOG_BYTES if ingest_log_bytes is None else ingest_log_bytes,
        api_key_max_age_s=DEFAULT_API_KEY_MAX_AGE_SECONDS,
        trail_bytes_realtime=trail_bytes[0],
        trail_bytes_batched=trail_bytes[1],
        trail_ms_per_line=trail_s_per_line * 1e3 * slowdown,
    )
    result = model(inputs, metric_count(), alarm_count())
    result["ingest_log_bytes_measured"] = ingest_log_bytes is not None
    result["template"] = str((ROOT / "template.yaml").relative_to(ROOT))
    return result
