"""The trail's commands: `trace` follows one event, `report` prints the match quality of every action.

    python -m connector trace ID [--action NAME] [--since 24h] [SOURCE]
    python -m connector report [--since 24h] [SOURCE]
    SOURCE: --local | --log-file FILE | --log-group NAME... | --stack NAME

Where the trail is read: --log-file (or CONNECTOR_LOG_FILE) is a local runner's log, --local the one
`make serve` writes (.local-state/functions.log); else Logs Insights over --log-group (or
CONNECTOR_LOG_GROUPS, comma-separated), else over the log groups the stack's outputs name (--stack,
STACK_NAME, else samconfig.toml's stack name). `redrive` records its moves in the trail too
(`add_redrive_trail_options`). Exit status: 0 found, 1 not found, 2 could not run.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TextIO

from connector.adapters.trail_query import (
    InsightsSource,
    LogFileSource,
    QueryError,
    stack_log_groups,
    trail_lines,
)
from connector.core.printable import printable
from connector.core.trail import is_trail_line, journey_lines, parse_since, where_now
from connector.core.trail_queries import REPORT_QUERIES, TrailQuery, trace_query
from connector.core.wire.match import MATCH_KEYS

#: The local runner's log (local/local_connector.py writes it); found from this file's place in the repository.
LOCAL_LOG_FILE = Path(__file__).resolve().parents[3] / ".local-state" / "functions.log"
#: samconfig.toml's stack name: where `sam deploy` puts the connector unless told otherwise.
DEFAULT_STACK = "openai-events-connector"


def add_trail_commands(commands: argparse._SubParsersAction) -> None:
    trace = commands.add_parser(
        "trace",
        help="follow one event through the connector by its id",
        description="Print one event's trail, one line per step (ingest, batch sender, redrive), in order, and"
        " where it is now: at OpenAI, queued, dead-lettered with its reason, or never arrived. Exit 0 found,"
        " 1 not found, 2 could not run.",
    )
    trace.add_argument("event_id", metavar="ID", help="the event's id: the order id, or Tealium's event id")
    trace.add_argument("--action", metavar="NAME", help="only this action's events with that id")
    _source_options(trace)
    trace.set_defaults(run=run_trace)

    report = commands.add_parser(
        "report",
        help="match quality per action: the dashboard's trail widgets as tables",
        description="Per action: the share of sent events carrying each match key, the events sent without a"
        " strong key (oppref, email, phone or external id), rejections by field, and the weak-match warnings.",
    )
    _source_options(report)
    report.set_defaults(run=run_report)


def _source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since", default="24h", metavar="AGE", help="how far back to look: 30m, 24h, 7d (default 24h)"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--local", action="store_true", help=f"read the local runner's log ({LOCAL_LOG_FILE.name})")
    where.add_argument("--log-file", type=Path, metavar="FILE", help="read this JSON-lines log (CONNECTOR_LOG_FILE)")
    where.add_argument(
        "--log-group", action="append", metavar="NAME", help="a log group to query (repeatable; CONNECTOR_LOG_GROUPS)"
    )
    where.add_argument("--stack", metavar="NAME", help="the stack whose log groups to query (STACK_NAME)")


def add_redrive_trail_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trail-log-group",
        metavar="NAME",
        default=os.environ.get("TRAIL_LOG_GROUP"),
        help="record each move in the trail in this log group (the stack output BatchSenderLogGroupName;"
        " default: TRAIL_LOG_GROUP; CONNECTOR_LOG_FILE: a local runner's log instead)",
    )


def redrive_trail(args: argparse.Namespace):
    """The trail `redrive` writes its moves to, or None: a local log file, else a log group, else nowhere."""
    from connector.adapters.trail_log import FileTrail, LogGroupTrail

    local = os.environ.get("CONNECTOR_LOG_FILE", "").strip()
    if local:
        return FileTrail(Path(local))
    if args.trail_log_group:
        import boto3

        warn = lambda problem: print(f"redrive: {problem}", file=sys.stderr)  # noqa: E731
        return LogGroupTrail(boto3.client("logs"), args.trail_log_group, on_error=warn)
    return None


def _source(args: argparse.Namespace) -> InsightsSource | LogFileSource:
    """Flags first, then CONNECTOR_LOG_FILE, CONNECTOR_LOG_GROUPS, else the stack's log groups."""
    env_file = os.environ.get("CONNECTOR_LOG_FILE", "").strip()
    env_groups = [g.strip() for g in os.environ.get("CONNECTOR_LOG_GROUPS", "").split(",") if g.strip()]
    if args.local:
        return LogFileSource(LOCAL_LOG_FILE)
    if args.log_file or (env_file and not (args.log_group or args.stack)):
        return LogFileSource(args.log_file or Path(env_file))
    import boto3  # only the AWS sources load boto3

    groups = args.log_group or ([] if args.stack else env_groups)
    if not groups:
        stack = args.stack or os.environ.get("STACK_NAME") or DEFAULT_STACK
        groups = stack_log_groups(boto3.client("cloudformation"), stack)
    return InsightsSource(boto3.client("logs"), groups)


def _since(args: argparse.Namespace) -> int:
    try:
        return parse_since(args.since)
    except ValueError as err:
        raise QueryError(str(err)) from None


def run_trace(args: argparse.Namespace, out: TextIO) -> int:
    try:
        since = _since(args)
        rows = _source(args).run(trace_query(args.event_id, args.action), since)
    except QueryError as err:
        print(f"trace: {err}", file=sys.stderr)
        return 2
    lines = [line for line in trail_lines(rows) if is_trail_line(line) and line.get("event_id") == args.event_id]
    name = printable(args.event_id)
    if not lines:
        out.write(f"{name}: {where_now([])} in the last {printable(args.since)}\n")
        return 1
    out.write(f"{name}: {len(lines)} trail line{'' if len(lines) == 1 else 's'}\n")
    for line in journey_lines(lines):
        out.write(f"  {line}\n")
    out.write(f"now: {where_now(lines)}\n")
    return 0


def run_report(args: argparse.Namespace, out: TextIO) -> int:
    try:
        since = _since(args)
        source = _source(args)
        tables = [(query, source.run(query.query, since)) for query in REPORT_QUERIES]
    except QueryError as err:
        print(f"report: {err}", file=sys.stderr)
        return 2
    out.write(f"Match quality in the last {printable(args.since)}\n")
    for query, rows in tables:
        out.write("\n" + "\n".join(report_table(query, rows)) + "\n")
    return 0


def report_table(query: TrailQuery, rows: list[dict[str, object]]) -> list[str]:
    """One query's rows as a text table: shares of match keys in percent, counts as they are."""
    lines = [query.title]
    if not rows:
        return [*lines, "  (none)"]
    cells = [[_cell(column, row.get(column)) for column in query.columns] for row in rows]
    widths = [max(len(column), *(len(row[n]) for row in cells)) for n, column in enumerate(query.columns)]
    lines.append(
        ("  " + "  ".join(column.ljust(width) for column, width in zip(query.columns, widths, strict=True))).rstrip()
    )
    for row in cells:
        lines.append(("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))).rstrip())
    return lines


def _cell(column: str, value: object) -> str:
    if value is None:
        return "-"
    if column in MATCH_KEYS and isinstance(value, int | float):
        return f"{value * 100:.0f}%"
    return printable(str(value))
