"""The Logs Insights queries over the trail: the dashboard's match-quality widgets, `report` and `trace`.

template.yaml's OperationsDashboard holds the same queries, each after `SOURCE` stages naming both
functions' log groups (tests/unit/test_trail_dashboard.py holds them equal and runs them).
"""

from __future__ import annotations

from dataclasses import dataclass

from connector.core.trail import KEY_FIELDS, TRAIL_MESSAGE, WEAK_MATCH_MESSAGE
from connector.core.wire.match import MATCH_KEYS

_DELIVERED = f'message = "{TRAIL_MESSAGE}" and (outcome = "sent" or outcome = "validated")'


@dataclass(frozen=True)
class TrailQuery:
    title: str
    query: str
    #: The columns `report` prints, in order.
    columns: tuple[str, ...]


MATCH_KEYS_QUERY = TrailQuery(
    "Match keys: share of sent events carrying each, per action",
    f"filter {_DELIVERED}"
    " | stats count(*) as sent, "
    + ", ".join(f"avg({KEY_FIELDS[name]}) as {name}" for name in MATCH_KEYS)
    + " by action | sort sent desc",
    ("action", "sent", *MATCH_KEYS),
)
NO_STRONG_KEY_QUERY = TrailQuery(
    "Sent without a strong key (oppref, email, phone, external id), per action",
    f"filter {_DELIVERED} and strong_key = 0 | stats count(*) as without_strong_key by action"
    " | sort without_strong_key desc",
    ("action", "without_strong_key"),
)
REJECTIONS_QUERY = TrailQuery(
    "Rejected and dead-lettered events by field",
    f'filter message = "{TRAIL_MESSAGE}" and (outcome = "rejected" or outcome = "dead_lettered")'
    " | stats count(*) as events by action, step, reason_field | sort events desc",
    ("action", "step", "reason_field", "events"),
)
WEAK_MATCH_WARNINGS_QUERY = TrailQuery(
    "Warnings: an action sends events OpenAI can hardly attribute (per container)",
    f'filter message = "{WEAK_MATCH_MESSAGE}" | stats count(*) as warnings by action | sort warnings desc',
    ("action", "warnings"),
)
#: The dashboard's Logs Insights widgets, in order; `report` prints the same tables.
REPORT_QUERIES = (MATCH_KEYS_QUERY, NO_STRONG_KEY_QUERY, REJECTIONS_QUERY, WEAK_MATCH_WARNINGS_QUERY)
#: Lines one trace reads at most: a journey is a handful of steps, an id sent again many times a few more.
TRACE_LIMIT = 500


def trace_query(event_id: str, action: str | None = None) -> str:
    """The trail lines of one event id (and action), in time order."""
    condition = f'message = "{TRAIL_MESSAGE}" and event_id = {quoted(event_id)}'
    if action:
        condition += f" and action = {quoted(action)}"
    return f"fields @timestamp, @message | filter {condition} | sort @timestamp asc | limit {TRACE_LIMIT}"


def with_sources(query: str, log_groups: tuple[str, ...] | list[str]) -> str:
    """The query as a dashboard widget holds it: `SOURCE` stages name the log groups it reads."""
    return "".join("SOURCE " + quoted(group, "'") + " | " for group in log_groups) + query


def quoted(text: str, quote: str = '"') -> str:
    """A string literal of the query language: backslash and the quote escaped."""
    return quote + text.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote
