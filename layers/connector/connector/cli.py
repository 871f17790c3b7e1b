"""The operator's command line: check an actions document, try a payload offline, redrive dead letters.

    python -m connector check ACTIONS.json
    python -m connector try ACTION PAYLOAD.json [--actions FILE] [--unmasked]
    python -m connector redrive [--from DLQ_URL] [--to QUEUE_URL] [--reason TEXT] [--dry-run]
    python -m connector trace ID | report   (the event trail: connector/cli_trail.py)

`check` and `try` run the pure core only: nothing is sent anywhere. `redrive` talks to SQS through
boto3 (connector/adapters/redrive.py), which follows AWS_ENDPOINT_URL like the functions do.
Exit status: 0 good, 1 problems found (listed), 2 the command could not run (a file, a setting).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from connector.adapters.actions_parameter import ParameterActions, parameter_name
from connector.cli_trail import add_redrive_trail_options, add_trail_commands, redrive_trail
from connector.core import actions as actions_module
from connector.core.actions_change import document_digest
from connector.core.errors import ConfigError, InputError
from connector.core.pipeline import PreparedEvent, prepare_events
from connector.core.printable import LINE_BREAK, printable
from connector.core.settings import Settings
from connector.core.tealium import parse_body
from connector.core.wire.request import EVENTS_PATH, encode_event, request_url
from connector.services.ingest import MAX_EVENTS_PER_CALL

#: The document the ingest function bundles (functions/ingest/actions.json), used when neither
#: --actions nor ACTIONS_CONFIG names one. Found from this file: layers/connector/connector/cli.py.
BUNDLED_ACTIONS = Path(__file__).resolve().parents[3] / "functions" / "ingest" / "actions.json"
#: Wire fields sent raw but printed masked unless --unmasked: they identify a person or a click.
MASKED_FIELDS = (("oppref",), ("obref",), ("user", "ip_address"))
FORM_PREFIX = "data="


class CommandError(Exception):
    """The command cannot run (exit 2); the message names the file or setting."""


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    # Everything printed passes through PrintableOutput; values from data are escaped whole where they are
    # written (a line break inside a reason too), so one line of output stays one line.
    out = PrintableOutput(out or sys.stdout)
    args = _parser().parse_args(argv)
    try:
        return args.run(args, out)
    except CommandError as err:
        PrintableOutput(sys.stderr).write(f"{args.command}: {printable(str(err))}\n")
        return 2


class PrintableOutput(io.TextIOBase):
    """A text stream that escapes every character a terminal would act on (connector/core/printable.py),
    keeping only the line breaks of the output itself."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(printable(text, keep=LINE_BREAK))

    def flush(self) -> None:
        self._stream.flush()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m connector", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser(
        "check",
        help="validate an actions document offline",
        description="Validate an actions document offline. Lists every problem (action, field, reason, and a"
        ' "did you mean" for a near-miss key); exit 1 when there is any.',
    )
    check.add_argument("actions_file", type=Path, metavar="ACTIONS.json")
    check.set_defaults(run=run_check)

    try_ = commands.add_parser(
        "try",
        help="show what a payload would become, offline",
        description="Run the connector's core on a payload offline and print, per event, the exact JSON that would"
        " be sent to OpenAI (identifiers hashed as sent), its warnings and its errors. Nothing is sent. The"
        " payload is what Tealium posts: an event, a visitor, flat attributes, a JSON list of them, or a form"
        " body (data=...). PIXEL_ID, DEFAULT_ACTION_SOURCE and BASE_URL are read from the environment as the"
        " functions read them. Exit 1 when any event would be rejected.",
    )
    try_.add_argument("action", metavar="ACTION", help="the action name, as in POST /actions/{action}")
    try_.add_argument("payload_file", type=Path, metavar="PAYLOAD.json", help="the request body (- for stdin)")
    try_.add_argument(
        "--actions",
        type=Path,
        metavar="FILE",
        help="the actions document (default: ACTIONS_CONFIG, a file or ssm:/name; else functions/ingest/actions.json)",
    )
    try_.add_argument(
        "--at",
        type=int,
        metavar="EPOCH_MS",
        help="judge OpenAI's 7-day timestamp window as at this time (default: now), to try an old captured payload",
    )
    try_.add_argument(
        "--unmasked", action="store_true", help="print oppref, obref and ip_address too (masked by default)"
    )
    try_.set_defaults(run=run_try)

    redrive = commands.add_parser(
        "redrive",
        help="move dead-lettered events back to the events queue",
        description="Move dead-lettered events back to the events queue, unchanged but for their dead-letter"
        " note. Events whose timestamp is outside OpenAI's window (7 days back, 10 minutes ahead) can never be"
        " accepted: they are counted and left in the dead-letter queue. Uses your AWS credentials and region;"
        " AWS_ENDPOINT_URL is followed.",
    )
    redrive.add_argument(
        "--from",
        dest="source",
        metavar="DLQ_URL",
        default=os.environ.get("DEAD_LETTER_QUEUE_URL"),
        help="the dead-letter queue's URL (stack output DeadLetterQueueUrl; default: DEAD_LETTER_QUEUE_URL)",
    )
    redrive.add_argument(
        "--to",
        dest="target",
        metavar="QUEUE_URL",
        default=os.environ.get("QUEUE_URL"),
        help="the events queue's URL (stack output EventsQueueUrl; default: QUEUE_URL)",
    )
    redrive.add_argument(
        "--reason", metavar="TEXT", help="move only events whose dead-letter reason contains TEXT (any case)"
    )
    redrive.add_argument("--dry-run", action="store_true", help="count per reason what would be moved; move nothing")
    add_redrive_trail_options(redrive)
    redrive.set_defaults(run=run_redrive)
    add_trail_commands(commands)
    return parser


# ---- check -------------------------------------------------------------------------------------------


def run_check(args: argparse.Namespace, out: TextIO) -> int:
    text = _read(args.actions_file)
    problems = actions_module.find_problems(text)
    if problems:
        out.write(f"{args.actions_file}: {len(problems)} problem{'' if len(problems) == 1 else 's'}\n")
        for problem in problems:
            out.write(f"  {printable(str(problem))}\n")
        return 1
    actions = actions_module.parse_actions(text)
    # The digest the functions log when they load or change to this document (connector/core/actions_change.py).
    out.write(
        f"{args.actions_file}: {len(actions)} action{'' if len(actions) == 1 else 's'}, no problems"
        f" (digest {document_digest(text)})\n"
    )
    for action in actions.values():
        custom = f" ({action.custom_event_name})" if action.custom_event_name else ""
        debug = ", Debug Mode (validate_only)" if action.debug else ""
        out.write(f"  {printable(action.name)}: {action.delivery}, {action.event_type}{custom}{debug}\n")
    return 0


# ---- try ---------------------------------------------------------------------------------------------


def run_try(args: argparse.Namespace, out: TextIO) -> int:
    try:
        settings = Settings.from_env()
    except ConfigError as err:
        raise CommandError(str(err)) from None
    actions = _load_actions(args.actions)
    action = actions.get(args.action)
    if action is None:
        raise CommandError(f"{args.action}: unknown action; configured: {', '.join(sorted(actions))}")
    body = sys.stdin.read() if str(args.payload_file) == "-" else _read(args.payload_file)
    content_type = "application/x-www-form-urlencoded" if body.lstrip().startswith(FORM_PREFIX) else "application/json"
    try:
        documents = parse_body(body, content_type, None)
    except InputError as err:
        out.write(f"the body would be refused (HTTP 400): {printable(err.field)}: {printable(err.reason)}\n")
        return 1
    if len(documents) > MAX_EVENTS_PER_CALL:
        out.write(f"the body would be refused (HTTP 413): {len(documents)} events, at most {MAX_EVENTS_PER_CALL}\n")
        return 1
    now_ms = args.at if args.at is not None else round(time.time() * 1000)
    prepared = prepare_events(action, documents, settings, now_ms)
    route = action.route(settings.pixel_id, settings.api_key_secret_id, settings.base_url)
    url = request_url(route.base_url, route.pixel_id) if route.pixel_id else route.base_url + EVENTS_PATH
    unset = "" if route.pixel_id else " (PIXEL_ID not set)"
    out.write(
        f"{action.name}: {action.delivery}, {action.event_type}; would POST {url}{unset}"
        f" with validate_only={str(route.validate_only).lower()} (nothing is sent)\n"
    )
    if not args.unmasked:
        out.write("oppref, obref and user.ip_address are masked here (--unmasked shows them as sent)\n")
    for event in prepared:
        _print_prepared(event, out, masked=not args.unmasked)
    rejected = sum(1 for event in prepared if not event.ok)
    out.write(f"{len(prepared) - rejected} of {len(prepared)} event{'' if len(prepared) == 1 else 's'} would go\n")
    return 1 if rejected else 0


def _print_prepared(event: PreparedEvent, out: TextIO, masked: bool) -> None:
    status = "would be sent" if event.ok else "would be rejected"
    out.write(f"\nevent {event.index}  id {printable(event.event_id or '-')}  {status}\n")
    if event.ok and event.event is not None:
        encoded = encode_event(masked_event(event.event)) if masked else event.encoded
        out.write(f"  {encoded.decode('utf-8')}\n")
    for issue in event.errors:
        out.write(f"  error    {printable(issue.field)}: {printable(issue.reason)}\n")
    for issue in event.warnings:
        out.write(f"  warning  {printable(issue.field)}: {printable(issue.reason)} (field dropped, event kept)\n")


def masked_event(event: Mapping[str, object], fields: Sequence[tuple[str, ...]] = MASKED_FIELDS) -> dict[str, object]:
    """A copy with each field at these paths replaced by its length: for printing, never for sending."""
    copy = json.loads(encode_event(event))
    for path in fields:
        parent = copy
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and path[-1] in parent:
            parent[path[-1]] = f"<masked, {len(str(parent[path[-1]]))} chars>"
    return copy


def _load_actions(path: Path | None) -> Mapping[str, actions_module.ActionConfig]:
    configured = os.environ.get("ACTIONS_CONFIG", "").strip()
    name = parameter_name(configured)
    if path is None and name:
        try:
            return dict(ParameterActions(name, max_age_seconds=1))
        except ConfigError as err:
            raise CommandError(str(err)) from None
    source = path or (Path(configured) if configured else BUNDLED_ACTIONS)
    try:
        return actions_module.parse_actions(_read(source))
    except ConfigError as err:
        raise CommandError(f"{source}: {err} (python -m connector check lists every problem)") from None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as err:
        raise CommandError(f"cannot read {path}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path}: is not UTF-8 text") from None


# ---- redrive -----------------------------------------------------------------------------------------


def run_redrive(args: argparse.Namespace, out: TextIO) -> int:
    if not args.source or not args.target:
        raise CommandError("--from and --to are required (or DEAD_LETTER_QUEUE_URL and QUEUE_URL)")
    import boto3  # the one AWS command: check and try never load boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from connector.adapters.redrive import Redrive

    trail = redrive_trail(args)  # each move is a trail line (connector/cli_trail.py)
    redrive = Redrive(boto3.client("sqs"), args.source, args.target, reason_filter=args.reason, trail=trail)
    try:
        report = redrive.run(dry_run=args.dry_run)
    except (BotoCoreError, ClientError) as err:
        raise CommandError(f"SQS: {err}") from None
    finally:
        getattr(trail, "flush", lambda: None)()
    report.print(out, dry_run=args.dry_run)
    return 1 if report.failed else 0
