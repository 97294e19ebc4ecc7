"""Slack's request URL, `POST /slack/events`, as a plain ASGI endpoint in front of the FastAPI app.

Every Slack request must be answered within three seconds, often fifty at once (a channel running a command, a
survey closing). FastAPI's routing, dependency solving and exception middleware took a third of the web process's
time per ack, so this one path skips them: read the body, verify it, check for a replay, let Bolt run the ack
function in one of a few threads of its own (AURUM_WEB_THREADS: under one interpreter lock, 8 threads answered 50
simultaneous requests in half the time 64 took), answer. Every other path goes on to the FastAPI app.

Before the signature is verified nothing of the request is parsed, stored or logged beyond one line: the timestamp
and signature headers are checked, then the HMAC over the raw bytes; anything else is a 401 with one sentence.
Only a verified body is parsed (form or JSON; a `payload` that is not a JSON object is a 400), only a verified
request enters the replay guard, and only then does Bolt see it (Bolt verifies again: a second, independent check
that costs a few microseconds). Slack's SSL check (`ssl_check=1`, unsigned) is answered 200 without parsing
anything else and without running anything.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any, cast

import anyio
import anyio.to_thread
from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.request.internals import parse_body

from bot.app import CONSOLE_SECRET
from bot.http_guards import REPLAY_WINDOW_SECONDS, ReplayGuard
from bot.metrics import BotMetrics
from bot.runtime import Runtime

log = logging.getLogger(__name__)
PATH = "/slack/events"
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]
SIGNATURE = re.compile(rb"v0=[0-9a-f]{64}")
TIMESTAMP = re.compile(rb"[0-9]{1,12}")
SSL_CHECK_MAX_BYTES = 256  # Slack's SSL check is `ssl_check=1&token=…`: a longer body is not one


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
    def __init__(self, app: ASGIApp, runtime: Runtime, metrics: BotMetrics, clock: Callable[[], float] = time.time):
        self.app = app
        self.runtime = runtime
        self.metrics = metrics
        self.clock = clock  # seconds since the epoch, for the timestamp window (a seam for the tests)
        secret = runtime.settings.slack_signing_secret
        self.secret = (secret.get_secret_value() if secret else CONSOLE_SECRET).encode()  # as bot.app.build_app
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
        raw = b"".join(chunks)
        if is_ssl_check(raw):
            self.metrics.requests.labels("ssl_check", "ssl_check", "200").inc()
            await _answer(send, BoltResponse(status=200, body=""))
            return
        refused = self.refusal(scope["headers"], raw)
        if refused:
            log.warning("Slack request refused before parsing: %s", refused)
            self.metrics.requests.labels("unknown", "unknown", "401").inc()
            await _refuse(send, 401, refused)
            return
        headers: dict[str, list[str]] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
        try:  # signed: parse it, Bolt's way (form fields, or a JSON object in the body or in a `payload` field)
            text = raw.decode("utf-8")
            content_type = (headers.get("content-type") or [""])[0].split(";")[0]
            if not isinstance(parse_body(text, content_type or None), dict):
                raise ValueError("not an object")
            request = BoltRequest(body=text, query=scope.get("query_string", b"").decode("latin-1"),
                                  # Bolt only reads them (its Dict parameter type is stricter than it needs to be)
                                  headers=cast("dict[str, str | Sequence[str]]", headers))
        except (ValueError, TypeError, AttributeError, KeyError, IndexError):  # Bolt's context cannot be built
            log.warning("signed Slack request with a body that is not a Slack form or JSON object")
            self.metrics.requests.labels("unknown", "unknown", "400").inc()
            await _refuse(send, 400, "the body is not a form or a JSON object shaped like Slack's")
            return
        odd = shape_problem(request.body)
        if odd:  # signed, yet Bolt's routing would index into it and raise: say so instead
            log.warning("signed Slack request of an unexpected shape refused: %s", odd)
            self.metrics.requests.labels("unknown", "unknown", "400").inc()
            await _refuse(send, 400, odd)
            return
        kind, name = describe(request)
        signature = headers["x-slack-signature"][0]
        if not self.replays.first_time(signature, raw):
            log.warning("replayed Slack request ignored", extra={"kind": kind, "request_name": name})
            self.metrics.requests.labels(kind, name, "replay").inc()
            await _answer(send, BoltResponse(status=200, body="", headers={"x-aurum-replay": "ignored"}))
            return
        if self.limiter is None:
            self.limiter = anyio.CapacityLimiter(self.runtime.settings.aurum_web_threads)
        try:
            response = await anyio.to_thread.run_sync(self.runtime.bolt.dispatch, request, limiter=self.limiter)
        except Exception:  # raised by Bolt's own routing (the listeners' errors go to the app's error handler)
            log.exception("Slack request Bolt could not route", extra={"kind": kind, "request_name": name})
            response = _refusal(400, "its fields are not shaped as Slack's")
        if response.status == 401:  # Bolt's own check disagreed (its clock moved on): not seen after all
            self.replays.forget(signature, raw)
        self.metrics.requests.labels(kind, name, str(response.status)).inc()
        self.metrics.ack_seconds.labels(kind).observe(time.perf_counter() - started)
        await _answer(send, response)

    def refusal(self, raw_headers: Sequence[tuple[bytes, bytes]], body: bytes) -> str | None:
        """Why the request is not a verified Slack request (one sentence), or None: Slack's signing, checked on the
        raw bytes before anything of them is parsed."""
        timestamp = signature = None
        for name, value in raw_headers:
            lowered = name.lower()
            if lowered in (b"x-slack-request-timestamp", b"x-slack-signature"):
                if (timestamp if lowered == b"x-slack-request-timestamp" else signature) is not None:
                    return f"more than one {lowered.decode()} header"
                if lowered == b"x-slack-request-timestamp":
                    timestamp = value
                else:
                    signature = value
        if timestamp is None or not TIMESTAMP.fullmatch(timestamp):
            return "X-Slack-Request-Timestamp is missing or not a number of seconds"
        if abs(self.clock() - int(timestamp)) > REPLAY_WINDOW_SECONDS:
            return "X-Slack-Request-Timestamp is more than 5 minutes away"
        if signature is None or not SIGNATURE.fullmatch(signature):
            return "X-Slack-Signature is missing or not v0= and 64 hex digits"
        expected = hmac.new(self.secret, b"v0:" + timestamp + b":" + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(b"v0=" + expected.encode(), signature):
            return "X-Slack-Signature does not match the body"
        return None


def shape_problem(body: dict[str, Any]) -> str | None:
    """What in a signed body Bolt's routing would stumble on (it indexes these fields as Slack always sends them),
    or None. Slack's own requests never trip it."""
    for field in ("event", "view"):
        if field in body and not isinstance(body[field], dict):
            return f"`{field}` is not an object"
    for field in ("team", "user", "channel", "container", "message", "enterprise"):
        if body.get(field) is not None and not isinstance(body[field], dict):
            return f"`{field}` is not an object"
    if "actions" in body:
        actions = body["actions"]
        if not isinstance(actions, list) or not actions or not all(isinstance(a, dict) for a in actions):
            return "`actions` is not a list of one or more objects"
        if body.get("type") == "block_actions" and not all(isinstance(a.get("action_id"), str) for a in actions):
            return "an action has no `action_id`"
    return None


def is_ssl_check(body: bytes) -> bool:
    """Slack's SSL check (`ssl_check=1&token=…`, not signed): answered 200 and nothing run. Only a short body is
    looked at, as form fields split on `&`, so it costs no more than the signature check it skips."""
    return len(body) <= SSL_CHECK_MAX_BYTES and b"ssl_check=1" in body.split(b"&")


def _refusal(status: int, sentence: str) -> BoltResponse:
    return BoltResponse(status=status, body=f"not a Slack request: {sentence}",
                        headers={"content-type": "text/plain; charset=utf-8"})


async def _refuse(send, status: int, sentence: str) -> None:
    await _answer(send, _refusal(status, sentence))


async def _answer(send, response: BoltResponse) -> None:
    body = response.body.encode("utf-8") if isinstance(response.body, str) else response.body
    headers = [(name.encode("latin-1"), value.encode("latin-1"))
               for name, values in response.headers.items() if name.lower() != "content-length"
               for value in ([values] if isinstance(values, str) else values)]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
