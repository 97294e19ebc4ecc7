"""Slack's request URL, `POST /slack/events`, as a plain ASGI endpoint in front of the FastAPI app.

Every Slack request must be answered within three seconds, often fifty at once (a channel running a command, a
survey closing). FastAPI's routing, dependency solving and exception middleware took a third of the web process's
time per ack, so this one path skips them: read the body, check for a replay, let Bolt verify and run the ack
function in one of a few threads of its own (AURUM_WEB_THREADS: under one interpreter lock, 8 threads answered 50
simultaneous requests in half the time 64 took), answer. Every other path goes on to the FastAPI app.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any, cast

import anyio
import anyio.to_thread
from slack_bolt import BoltRequest, BoltResponse

from bot.http_guards import ReplayGuard
from bot.metrics import BotMetrics
from bot.runtime import Runtime

log = logging.getLogger(__name__)
PATH = "/slack/events"
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


def describe(request: BoltRequest) -> tuple[str, str]:
    """(kind, name) of a Slack request, for metrics: command name, interaction type or event type."""
    body = request.body
    if "command" in body:
        return "command", str(body["command"])
    if "event" in body or request.content_type == "application/json":
        return "event", str((body.get("event") or {}).get("type") or body.get("type") or "unknown")
    if "type" in body:
        return "interaction", str(body["type"])
    return "unknown", "unknown"


class SlackEndpoint:
    def __init__(self, app: ASGIApp, runtime: Runtime, metrics: BotMetrics):
        self.app = app
        self.runtime = runtime
        self.metrics = metrics
        self.replays = ReplayGuard()
        self.limiter: anyio.CapacityLimiter | None = None  # made in the event loop, at the first request

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        chunks = []
        while True:  # the body size is capped by RequestGuards, outside this endpoint
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers: dict[str, list[str]] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
        try:  # bytes that are not UTF-8 cannot carry a valid signature: Bolt answers 401
            request = BoltRequest(body=b"".join(chunks).decode("utf-8", errors="replace"),
                                  query=scope.get("query_string", b"").decode("latin-1"),
                                  # Bolt only reads them (its Dict parameter type is stricter than it needs to be)
                                  headers=cast("dict[str, str | Sequence[str]]", headers))
        except ValueError:  # a JSON body that does not parse: not from Slack
            self.metrics.requests.labels("unknown", "unknown", "400").inc()
            await _answer(send, BoltResponse(status=400, body="not a Slack request: the JSON body does not parse",
                                             headers={"content-type": "text/plain; charset=utf-8"}))
            return
        kind, name = describe(request)
        signature = request.headers.get("x-slack-signature", [""])[0]
        if signature and not self.replays.first_time(signature):
            log.warning("replayed Slack request ignored", extra={"kind": kind, "request_name": name})
            self.metrics.requests.labels(kind, name, "replay").inc()
            await _answer(send, BoltResponse(status=200, body="", headers={"x-aurum-replay": "ignored"}))
            return
        if self.limiter is None:
            self.limiter = anyio.CapacityLimiter(self.runtime.settings.aurum_web_threads)
        response = await anyio.to_thread.run_sync(self.runtime.bolt.dispatch, request, limiter=self.limiter)
        if response.status == 401:
            self.replays.forget(signature)
        self.metrics.requests.labels(kind, name, str(response.status)).inc()
        self.metrics.ack_seconds.labels(kind).observe(time.perf_counter() - started)
        await _answer(send, response)


async def _answer(send, response: BoltResponse) -> None:
    body = response.body.encode("utf-8") if isinstance(response.body, str) else response.body
    headers = [(name.encode("latin-1"), value.encode("latin-1"))
               for name, values in response.headers.items() if name.lower() != "content-length"
               for value in ([values] if isinstance(values, str) else values)]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
