"""A built function run as Lambda runs it: its folder, its layer's `python/` and the runtime's own packages on
the import path and nothing else, under the runtime interface client (awslambdaric), fed by a stand-in for
Lambda's Runtime API on loopback.

The Runtime API (AWS Lambda developer guide, "Using the Lambda runtime API for custom runtimes"):
`GET /2018-06-01/runtime/invocation/next` hands the client the next event, with its request id, deadline and
function ARN in headers; the client answers `POST .../invocation/{id}/response` or `.../invocation/{id}/error`,
or `POST .../init/error` when the handler cannot even be loaded.
"""

from __future__ import annotations

import collections
import json
import queue
import subprocess
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.repo import ROOT

#: What `make test` installs apart from the dev venv (requirements-lambda-runtime.txt): awslambdaric and boto3.
LAMBDA_RUNTIME_DIR = ROOT / ".lambda-runtime"
API_PREFIX = "/2018-06-01/runtime"
#: Seconds an invocation may take before the test gives up on it: far above any handler's real need.
INVOKE_TIMEOUT = 120.0


class RuntimeApi:
    """The Runtime API on 127.0.0.1 (an ephemeral port): `invoke(event)` waits for the function's answer."""

    def __init__(self, function_arn: str, function_timeout_seconds: int) -> None:
        self.function_arn = function_arn
        self.function_timeout_seconds = function_timeout_seconds
        self.init_errors: list[dict[str, Any]] = []
        self._events: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self._answers: dict[str, queue.Queue[tuple[str, Any]]] = {}
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="runtime-api", daemon=True)

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def start(self) -> RuntimeApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def invoke(self, event: Any, process: subprocess.Popen | None = None) -> tuple[str, Any]:
        """("response", the handler's answer) or ("error", Lambda's error object) for one event."""
        request_id = str(uuid.uuid4())
        answers: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._answers[request_id] = answers
        self._events.put((request_id, json.dumps(event).encode()))
        deadline = time.monotonic() + INVOKE_TIMEOUT
        while time.monotonic() < deadline:
            try:
                return answers.get(timeout=0.2)
            except queue.Empty:
                if self.init_errors:
                    return "init_error", self.init_errors[0]
                if process is not None and process.poll() is not None:
                    return "exited", process.returncode
        return "timeout", INVOKE_TIMEOUT

    def _next(self) -> tuple[str, bytes] | None:
        while not self._stopping.is_set():
            try:
                return self._events.get(timeout=0.2)
            except queue.Empty:
                continue
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet: the test reports what matters
                pass

            def _reply(self, status: int, body: bytes = b'{"status":"OK"}', headers: Mapping[str, str] = {}) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path != f"{API_PREFIX}/invocation/next":
                    return self._reply(404, b'{"errorType":"NotFound"}')
                found = api._next()
                if found is None:
                    return self._reply(500, b'{"errorType":"ShuttingDown"}')
                request_id, body = found
                # The deadline is computed when the event is handed over, as Lambda does.
                deadline_ms = int(time.time() * 1000) + api.function_timeout_seconds * 1000
                self._reply(
                    200,
                    body,
                    {
                        "Lambda-Runtime-Aws-Request-Id": request_id,
                        "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                        "Lambda-Runtime-Invoked-Function-Arn": api.function_arn,
                        "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
                    },
                )

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                parts = self.path.removeprefix(API_PREFIX).strip("/").split("/")
                is_answer = len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error")
                if parts != ["init", "error"] and not is_answer:
                    return self._reply(404, b'{"errorType":"NotFound"}')
                # Acknowledged before the test hears of it: the test may stop the client right after.
                self._reply(202)
                if is_answer:
                    api._answers[parts[1]].put((parts[2], body))
                else:
                    api.init_errors.append(body)

        return Handler


class LambdaProcess:
    """`python3.13 -S -m awslambdaric <handler>` in a function's built folder, with only `import_path` (and the
    standard library) importable and only `environment` set."""

    def __init__(
        self,
        python: Path,
        function_dir: Path,
        import_path: Sequence[Path],
        environment: Mapping[str, str],
        handler: str,
    ) -> None:
        self.output: collections.deque[str] = collections.deque(maxlen=400)
        # -S: no site-packages at all, so nothing of the dev venv or the interpreter's own installs is importable.
        self.process = subprocess.Popen(
            [str(python), "-S", "-m", "awslambdaric", handler],
            cwd=function_dir,
            env={**environment, "PYTHONPATH": ":".join(str(path) for path in import_path)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._drain, name="lambda-output", daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line.rstrip())

    def log(self) -> str:
        return "\n".join(self.output)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
