"""A Lambda Invoke API served by the test process, as local Lambda runtimes serve it
(`POST /2015-03-31/functions/{FunctionName}/invocations`, RequestResponse): each function is a
Python handler registered by a test, called with the event JSON Gatehouse sends; every event
and every request's headers are kept for the test to read. What a handler does maps to what a
real runtime answers:

- returns a dict: 200 with that JSON (the function's output);
- raises: 200 with `X-Amz-Function-Error: Unhandled` and `{"errorMessage", "errorType"}`;
- returns `Raw(bytes)`: 200 with those bytes as they are (malformed output);
- sleeps: the runtime answers late (Gatehouse gives up after 5 s, as Cognito does).

An unknown function answers 404 `ResourceNotFoundException`, as the Invoke API does.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

ACCOUNT = "000000000000"
PREFIX = "/2015-03-31/functions/"
SUFFIX = "/invocations"


@dataclass
class Raw:
    """A handler's output sent as these bytes, not as JSON."""
    body: bytes


@dataclass
class Invocation:
    event: dict | None
    body: bytes
    headers: dict[str, str]
    path: str


@dataclass
class Function:
    handler: Callable[[dict], object]
    invocations: list[Invocation] = field(default_factory=list)


class LambdaRuntime:
    def __init__(self, region: str = "us-east-1"):
        self.region = region
        self.functions: dict[str, Function] = {}
        self.lock = threading.Lock()
        runtime = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave at once: no delayed-ACK stall on a kept-alive connection.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                runtime._answer(self, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def function(self, name: str, handler: Callable[[dict], object]) -> str:
        """Registers `handler` as the function `name`; returns its ARN (for LambdaConfig)."""
        with self.lock:
            self.functions[name] = Function(handler)
        return f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:{name}"

    def invocations(self, name: str) -> list[Invocation]:
        with self.lock:
            return list(self.functions[name].invocations)

    def events(self, name: str) -> list[dict]:
        return [i.event for i in self.invocations(name)]

    def _answer(self, req: BaseHTTPRequestHandler, body: bytes) -> None:
        path = req.path.split("?", 1)[0]
        if not (path.startswith(PREFIX) and path.endswith(SUFFIX)):
            return self._send(req, 404, b'{"Type":"User","message":"Unknown path"}',
                              {"X-Amzn-ErrorType": "ResourceNotFoundException"})
        name = urllib.parse.unquote(path[len(PREFIX):-len(SUFFIX)])
        # A full ARN names the function by its last part.
        short = name.split(":function:", 1)[-1].split(":", 1)[0]
        with self.lock:
            fn = self.functions.get(short)
        if fn is None:
            message = json.dumps({"Type": "User", "message": f"Function not found: {name}"}).encode()
            return self._send(req, 404, message, {"X-Amzn-ErrorType": "ResourceNotFoundException"})
        try:
            event = json.loads(body)
        except ValueError:
            event = None
        with self.lock:
            fn.invocations.append(Invocation(event, body, {k.lower(): v for k, v in req.headers.items()}, path))
        try:
            # The handler gets its own copy: the kept event is what was sent.
            out = fn.handler(json.loads(body) if event is not None else None)
        except Exception as e:  # the function raised: Lambda's function error
            error = {"errorMessage": str(e), "errorType": type(e).__name__, "trace": []}
            return self._send(req, 200, json.dumps(error).encode(), {"X-Amz-Function-Error": "Unhandled"})
        if isinstance(out, Raw):
            return self._send(req, 200, out.body, {})
        return self._send(req, 200, json.dumps(out).encode(), {})

    @staticmethod
    def _send(req: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]) -> None:
        try:
            req.send_response(status)
            req.send_header("Content-Type", "application/json")
            req.send_header("Content-Length", str(len(body)))
            req.send_header("X-Amz-Executed-Version", "$LATEST")
            for k, v in headers.items():
                req.send_header(k, v)
            req.end_headers()
            req.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller gave up waiting (a timeout test)
