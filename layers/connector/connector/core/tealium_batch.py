"""Tealium's batched webhook: the bodies it posts, its limits, and what to set when a body breaks ours.

From Tealium's pages (docs/ingest-api.md, "Tealium's batched webhook", quotes them by title):
"Webhook actions and parameters" and "About webhook connectors" say that "Send Batched Data via
HTTP Request" sends the entire event object (AudienceStream: the visitor object) like the one-record
actions, "either as a URL-encoded JSON string or a JSON payload", queued until 100 requests, 60 minutes
since the oldest, or 16 MB (its Timeout: 1 to 10 s). The pages show no batched body: a batch of whole
objects is a JSON list of them, or that list in the form field `data`, and that is what the ingest reads.
"Send Batched Customized Data via HTTP Request (Advanced)" renders its Body Data template once per record
and joins them with Prefix, Joiner and Suffix: Tealium's JSON example maps `[`, `,` and `]`, a JSON list
of the rendered objects (flat attributes here); its Record Count Maximum sets the batch size.

Nothing else is documented: several JSON values one after another (newline-delimited, or joined without
brackets) and a list inside an object are refused with a message that says what to set.
"""

from __future__ import annotations

from collections.abc import Callable

#: Tealium's batched actions post at most this many records a call ("Maximum number of requests").
TEALIUM_MAX_RECORDS = 100
#: ...and at most this much ("Maximum size of requests: 16 MB"): above API Gateway's own limit.
TEALIUM_MAX_BATCH_MB = 16
#: The batched actions' Timeout setting is 1 to 10 s: a call answers well inside it, or Tealium retries it.
TEALIUM_MAX_TIMEOUT_SECONDS = 10
#: API Gateway refuses a larger payload itself (413 {"message": "Request Too Long"}; local/http_front.py).
API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024

#: The reason for several JSON values one after another: what the customized batched action posts
#: when Prefix and Suffix are not set, or what a newline-delimited sender posts.
SEVERAL_JSON_VALUES = (
    "holds several JSON values one after another (newline-delimited, or joined without brackets): send one"
    " JSON list; in Tealium's Send Batched Customized Data (Advanced) set Prefix [, Joiner , and Suffix ]"
)
#: A form body's `data` field more than once: only a JSON list in one field is read, never part of a batch.
REPEATED_DATA_FIELD = "appears more than once: send one data field holding a JSON list of the events"


def largest_average_record(limit_bytes: int, records: int = TEALIUM_MAX_RECORDS) -> int:
    """The average record size (bytes) below which a full Tealium batch fits `limit_bytes`."""
    return limit_bytes // records


def record_count_maximum(record_bytes: int, limit_bytes: int) -> int:
    """Tealium's Record Count Maximum that keeps a batch of records this large within `limit_bytes`."""
    return max(1, min(TEALIUM_MAX_RECORDS, limit_bytes // max(1, record_bytes)))


def body_too_large(limit_bytes: int) -> str:
    """The 413 reason for a body above `limit_bytes`: what to set in Tealium so its batches fit."""
    average_kb = largest_average_record(limit_bytes) // 1000
    return (
        f"is larger than {limit_bytes} bytes; split it into several calls. Tealium's batched webhook posts up"
        f" to {TEALIUM_MAX_RECORDS} records a call, which fits while they average under {average_kb} KB: for"
        " visitors check Exclude Current Visit Event Data, or use Send Batched Customized Data (Advanced) with"
        f" Record Count Maximum at most {limit_bytes} / the record's size in bytes (docs/ingest-api.md)"
    )


def wrapped_records(document: object, is_record: Callable[[dict], bool]) -> int:
    """How many records a JSON object wraps in a list under one of its keys (0 when it is no wrapper).

    `{"events": [<event JSON>, ...]}` is no shape Tealium documents, and no one event: an object that
    is not itself a record (`is_record`) and holds a list of records only is refused, never guessed at.
    """
    if not isinstance(document, dict) or is_record(document):
        return 0
    for value in document.values():
        if isinstance(value, list) and value and all(isinstance(item, dict) and is_record(item) for item in value):
            return len(value)
    return 0


def wrapped_reason(count: int) -> str:
    return (
        f"is a JSON object that wraps a list of {count} Tealium events or visitors: post the list itself"
        " (Tealium's batched webhook does); one object is read as one event"
    )
