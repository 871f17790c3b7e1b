"""Plays API Gateway in front of IngestFunction on 127.0.0.1: `POST /actions/{action}` with an x-api-key.

Each request becomes a REST proxy event (local/apigw.py) for the handler, whose statusCode, headers
and body are written back. Like API Gateway it answers 403 `{"message": "Forbidden"}` without the
right key and 413 above its 10 MB payload limit. The handler runs one request at a time, as one
Lambda execution environment does (Powertools' resolver keeps the current event on the module).
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local.apigw import proxy_event
from local.sqs_poller import FakeLambdaContext

#: API Gateway REST APIs refuse payloads above 10 MB.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
#: `/actions/{action}`, also under the deployed stage prefix (`/v1/actions/{action}`).
ROUTE = re.compile(r"^(?:/v1)?/actions/([^/]+)/?$")

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
#: Told of every call once answered: (method and path, HTTP status, response body).
CallObserver = Callable[[str, int, bytes], None]


class HttpFront:
    """``HttpFront(handler, api_key).start()``; ``url`` is ``http://127.0.0.1:PORT``; ``stop()`` when done."""

    def __init__(
        self,
        handler: LambdaHandler,
        api_key: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        function_name: str = "IngestFunction",
        timeout_seconds: float = 29.0,
        on_call: CallObserver | None = None,
    ) -> None:
        self.handler = handler
        self.on_call = on_call
        self.api_key = api_key
        self.function_name = function_name
        self.timeout_seconds = timeout_seconds
        self._invoke_lock = threading.Lock()
        self._server = _Server((host, port), _RequestHandler)
        self._server.front = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> HttpFront:
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="http-front", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> HttpFront:
        return self.start() if self._thread is None else self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        context = FakeLambdaContext(function_name=self.function_name, timeout_seconds=self.timeout_seconds)
        with self._invoke_lock:
            return self.handler(event, context)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    front: HttpFront


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # the runner prints what matters
        pass

    def _observe(self, status: int, data: bytes) -> None:
        observer = self.server.front.on_call
        if observer is not None:
            observer(f"{self.command} {urlsplit(self.path).path}", status, data)

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        route = ROUTE.match(parts.path)
        if route is None:
            return self._reply(404, {"message": "Not Found"})
        front = self.server.front
        if self.headers.get("x-api-key") != front.api_key:
            return self._reply(403, {"message": "Forbidden"})
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length > MAX_PAYLOAD_BYTES:
            self.close_connection = True  # the body is left unread
            return self._reply(413, {"message": "Request Too Long"})
        if length < 0:
            return self._reply(400, {"message": "Invalid Content-Length"})
        raw = self.rfile.read(length) if length else b""
        try:
            body: str | bytes | None = raw.decode("utf-8") if raw else None
        except UnicodeDecodeError:
            body = raw  # API Gateway hands binary bodies over base64-encoded
        headers = {name: value for name, value in self.headers.items() if name.lower() != "content-type"}
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        event = proxy_event(
            unquote(route.group(1)),
            body,
            content_type=self.headers.get("Content-Type"),
            headers=headers,
            query=query or None,
            source_ip=self.client_address[0],
        )
        try:
            response = front.invoke(event)
        except Exception:  # what API Gateway answers when the function fails
            return self._reply(502, {"message": "Internal server error"})
        self._write(response)

    def do_GET(self) -> None:
        self._reply(404, {"message": "Not Found"})

    do_PUT = do_DELETE = do_PATCH = do_GET

    def _write(self, response: dict[str, Any]) -> None:
        payload = response.get("body") or ""
        data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
        self.send_response(int(response.get("statusCode", 200)))
        headers = {name: [value] for name, value in (response.get("headers") or {}).items()}
        headers.update(response.get("multiValueHeaders") or {})
        for name, values in headers.items():
            if name.lower() not in ("content-length", "connection"):
                for value in values:
                    self.send_header(name, str(value))
        self.send_header("Content-Length", str(len(data)))
        self._observe(int(response.get("statusCode", 200)), data)  # before the client can act on the answer
        self.end_headers()
        self.wfile.write(data)

    def _reply(self, status: int, payload: dict[str, str]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self._observe(status, data)
        self.end_headers()
        self.wfile.write(data)
