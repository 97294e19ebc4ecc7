"""A local HTTP API for collector tests: a threaded http.server on port 0 answering with queued replies.

`api.on("GET", "/api/v1/query", Reply(...), Reply(...))` queues replies for a path (the last one repeats);
a callable reply gets the Request and returns a Reply (for pagination by query parameters).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to hold the answer back (to make a client time out)

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def param(self, name: str, default: str | None = None) -> str | None:
        return self.query.get(name, [default])[0]

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


Answer = Reply | Callable[[Request], Reply]


class FakeApi:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Answer]] = {}
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                api._handle(self)

            do_GET = do_POST = do_PUT = _serve  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FakeApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def on(self, method: str, path: str, *answers: Answer) -> None:
        with self.lock:
            self.routes[(method, path)] = list(answers)

    def calls(self, path: str | None = None) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if path is None or r.path == path]

    def _answer(self, request: Request) -> Reply:
        with self.lock:
            self.requests.append(request)
            queue = self.routes.get((request.method, request.path))
            if not queue:
                return Reply({"message": f"no route {request.method} {request.path}"}, status=404)
            answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return answer(request) if callable(answer) else answer

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = Request(handler.command, parts.path, parse_qs(parts.query), dict(handler.headers.items()), body)
        reply = self._answer(request)
        if reply.delay:
            self.release.wait(reply.delay)
        payload = reply.payload()
        try:
            handler.send_response(reply.status)
            headers = {"Content-Type": "application/json", **reply.headers}
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass
