"""The stand-in's HTTP plumbing: a threading HTTP/1.1 server with keep-alive that hands each request to
the stand-in (``local/openai_standin.py``) and writes its answer, or drops the connection.

Standard library only, like the rest of the stand-in.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol

from . import openai_contract as contract
from .standin_answers import Answer

logger = logging.getLogger("openai_standin")

#: Prefix of the admin surface used by other processes (a demo runner).
ADMIN_PREFIX = "/_standin/"
#: A larger body is not even read: the connection is closed after the 413.
MAX_DRAIN_BYTES = 16 * contract.MAX_BODY_BYTES


class AnswersRequests(Protocol):
    """What the server needs of the stand-in."""

    def handle_api(self, method: str, target: str, headers: dict[str, str], body: bytes | None) -> Answer: ...

    def handle_admin(self, method: str, target: str, body: bytes | None) -> Answer: ...

    def connection_opened(self, connection: socket.socket) -> None: ...

    def connection_closed(self, connection: socket.socket) -> None: ...


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive threads must not hold up stop()
    request_queue_size = 128
    standin: AnswersRequests


class StandinHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every response carries Content-Length
    server_version = "OpenAIStandin/1"
    sys_version = ""
    disable_nagle_algorithm = True  # headers and body go out as two writes
    timeout = 120  # seconds an idle keep-alive connection is kept
    server: StandinServer

    def setup(self) -> None:
        super().setup()
        self.server.standin.connection_opened(self.connection)

    def finish(self) -> None:
        self.server.standin.connection_closed(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _dispatch(self) -> None:
        body = self._read_body()
        standin = self.server.standin
        if self.path.startswith(ADMIN_PREFIX):
            answer = standin.handle_admin(self.command, self.path, body)
        else:
            answer = standin.handle_api(self.command, self.path, dict(self.headers.items()), body)
        if answer.drop:
            self._drop_connection()
            return
        payload = json.dumps(answer.payload, separators=(",", ":")).encode()
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers:
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up (e.g. timed out during a slow fault)
            self.close_connection = True

    def _read_body(self) -> bytes | None:
        """The request body; None (and the connection closed afterwards) when too big to drain."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # chunked bodies are not supported; framing is lost
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_DRAIN_BYTES:
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def _drop_connection(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        self.connection.close()
