"""`make demo`: the whole connector on 127.0.0.1, Tealium samples in, what OpenAI receives out.

    python -m local.runner [--serve] [--window SECONDS] [--port N] [--standin-port N] [--sqs-port N]
                           [--moto-port N] [--quiet] [--verbose] [--base-url URL --api-key-file FILE --pixel-id PID]

Starts moto (Secrets Manager), the fast SQS emulator, the queues and the secret as template.yaml
defines them, the OpenAI stand-in, an HTTP front playing API Gateway and a poller playing the SQS
event source mapping; imports both Lambda handlers; posts the samples in events/tealium/ as a
Tealium webhook would and prints each answer and every request OpenAI received. Exit status 0 only
when every sample ended where it should. ``run_demo()`` is the same for tests; the parts are in
``local/local_connector.py`` (the services started and stopped) and ``local/demo_samples.py``.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import TextIO

from local.demo_output import Console
from local.demo_samples import DemoReport
from local.handlers import layer_on_path
from local.local_connector import DEFAULT_WINDOW_SECONDS, LOCAL_PIXEL_ID, LOG_FILE, LocalConnector, Options
from local.services import ServiceError

DEFAULT_SERVE_PORT = 8080
#: The stand-in's port with --serve, so its /_standin/ endpoints (docs/local.md) stay where they were.
DEFAULT_STANDIN_SERVE_PORT = 8787


def run_demo(
    window_seconds: float = DEFAULT_WINDOW_SECONDS,
    out: TextIO | None = None,
    *,
    api_key: str | None = None,
    quiet: bool = False,
    log_file: Path = LOG_FILE,
) -> DemoReport:
    """The demo against the stand-in, printed to ``out``; every service is stopped on return."""
    options = Options(window_seconds=window_seconds, api_key=api_key, quiet=quiet, log_file=log_file)
    with LocalConnector(options, Console(out or sys.stdout)) as connector:
        return connector.demo()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.runner", description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="after the demo keep serving (Ctrl-C stops)")
    parser.add_argument(
        "--window", type=float, default=DEFAULT_WINDOW_SECONDS, metavar="SECONDS", help="batching window (default 3)"
    )
    parser.add_argument(
        "--port", type=int, help=f"the front's port (default: {DEFAULT_SERVE_PORT} with --serve, else free)"
    )
    parser.add_argument(
        "--standin-port",
        type=int,
        help=f"the OpenAI stand-in's port (default: {DEFAULT_STANDIN_SERVE_PORT} with --serve, else free)",
    )
    parser.add_argument("--sqs-port", type=int, default=0, help="local-aws-sqs's port (default: free)")
    parser.add_argument("--moto-port", type=int, default=0, help="moto's port, for Secrets Manager (default: free)")
    parser.add_argument("--base-url", help="a real Events API base URL instead of the stand-in (https)")
    parser.add_argument("--api-key-file", type=Path, help="file holding the real endpoint's API key")
    parser.add_argument("--pixel-id", default=LOCAL_PIXEL_ID, help="the pixel id (required with --base-url)")
    parser.add_argument("--quiet", action="store_true", help="no event bodies, no progress line")
    parser.add_argument("--verbose", action="store_true", help="the functions' INFO logs and metrics too")
    args = parser.parse_args(argv)
    if args.window <= 0:
        parser.error("--window: must be a positive number of seconds")
    if bool(args.base_url) != bool(args.api_key_file):
        parser.error("--base-url and --api-key-file go together")
    if args.base_url:
        from connector.core.errors import ConfigError
        from connector.core.settings import check_base_url

        try:
            args.base_url = check_base_url(args.base_url, "--base-url")
        except ConfigError as err:
            parser.error(str(err))
        if args.pixel_id == LOCAL_PIXEL_ID:
            parser.error("--base-url needs --pixel-id (your OpenAI Pixel ID)")
    return args


def print_match_report(console: Console, log_file: Path) -> None:
    """The run's match quality per action: what `python -m connector report --local` prints."""
    from connector.adapters.trail_query import LogFileSource, QueryError
    from connector.cli_trail import report_table
    from connector.core.trail_queries import REPORT_QUERIES

    source = LogFileSource(log_file)
    where = "--local" if log_file == LOG_FILE else f"--log-file {log_file}"
    console.line(f"Match quality of this run (python -m connector report {where}):")
    for query in REPORT_QUERIES:
        try:
            rows = source.run(query.query, since_seconds=7 * 86400)
        except QueryError as err:
            console.line(f"  {err}")
            return
        for text in report_table(query, rows):
            console.line(f"  {text}")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    layer_on_path()
    from connector.core.errors import ConfigError as ConnectorConfigError

    args = parse_args(argv)
    api_key = None
    if args.api_key_file:
        try:
            api_key = args.api_key_file.read_text(encoding="utf-8").strip()
        except OSError as err:
            print(f"--api-key-file: {err.strerror}", file=sys.stderr)
            return 2
        if not api_key:
            print("--api-key-file: the file is empty", file=sys.stderr)
            return 2
    options = Options(
        window_seconds=args.window,
        port=args.port if args.port is not None else (DEFAULT_SERVE_PORT if args.serve else 0),
        standin_port=args.standin_port
        if args.standin_port is not None
        else (DEFAULT_STANDIN_SERVE_PORT if args.serve else 0),
        sqs_port=args.sqs_port,
        moto_port=args.moto_port,
        base_url=args.base_url,
        api_key=api_key,
        pixel_id=args.pixel_id,
        quiet=args.quiet,
        verbose=args.verbose,
    )
    console = Console(sys.stdout)
    for signum in (signal.SIGINT, signal.SIGTERM):  # both unwind the with, which stops everything
        signal.signal(signum, _interrupt)
    if options.base_url:
        console.line(f"WARNING: the samples go to {options.base_url} for pixel {options.pixel_id} as real events.")
    serving = False
    try:
        with LocalConnector(options, console) as connector:
            report = connector.demo()
            if args.serve:
                serving = True
                connector.serve()
    except KeyboardInterrupt:  # the with has stopped everything by now
        console.keep_status()
        console.line("Stopped.")
        if serving:
            print_match_report(console, options.log_file)
        return 0 if serving else 130
    except (ServiceError, OSError) as err:  # e.g. npm ci not run, or a port is taken (--port, --standin-port...)
        print(f"local runner: {err}", file=sys.stderr)
        return 2
    except ConnectorConfigError as err:  # e.g. a bad ACTIONS_CONFIG: its message is the whole story
        print(f"local runner: the connector cannot start: {err}", file=sys.stderr)
        print("  (python -m connector check FILE lists every problem of an actions document)", file=sys.stderr)
        return 2
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
