"""ASGI middleware for every HTTP route: a request id for the logs, and a cap on the request body size."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict

from bot.logs import REQUEST_ID, new_request_id

REPLAY_WINDOW_SECONDS = 5 * 60
REPLAY_CAP = 50_000  # verified requests the replay guard keeps, per process (see ReplayGuard)


class RequestGuards:
    """Sets the request id (X-Request-Id in and out) and answers 413 to a body over `max_body` bytes, whether
    announced by Content-Length (the server then delivers no more than announced) or streamed in chunks,
    before any route runs."""

    def __init__(self, app, max_body: int):
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = new_request_id(headers.get(b"x-request-id", b"").decode("latin-1"))
        token = REQUEST_ID.set(request_id)

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            length = headers.get(b"content-length")
            if length is not None and (not length.isdigit() or int(length) > self.max_body):
                await _too_large(send_with_id, self.max_body)
                return
            if length is None and headers.get(b"transfer-encoding", b"").lower() == b"chunked":
                # A streamed body of unknown size: read it (up to the limit) before any route runs, whether
                # or not that route would read it, then hand it over as it came.
                buffered = []
                received = 0
                while True:
                    message = await receive()
                    buffered.append(message)
                    if message["type"] != "http.request":
                        break
                    received += len(message.get("body", b""))
                    if received > self.max_body:
                        await _too_large(send_with_id, self.max_body)
                        return
                    if not message.get("more_body"):
                        break
                receive = _replay(buffered, receive)
            await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_ID.reset(token)


def _replay(messages: list[dict], receive):
    async def replayed():
        return messages.pop(0) if messages else await receive()

    return replayed


async def _too_large(send, limit: int) -> None:
    body = json.dumps({"error": f"request body larger than {limit} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class ReplayGuard:
    """Remembers the verified Slack requests of the last five minutes (the window in which a timestamp is accepted):
    the same signed request arriving again is answered without being run again.

    Keyed on the signature and the body together (one SHA-256 of both, 32 bytes), and only fed requests whose
    signature was verified (bot.slack_endpoint): a forged or tampered copy never reaches it, so it can neither
    poison the memory of a real request nor pass for one. Bounded: at most `cap` requests are kept, the oldest
    dropped first. The default, 50,000, is 166 verified requests a second for the whole five minutes, per process,
    well above what Slack sends one app; full, it holds about 10 MB."""

    def __init__(self, window: float = REPLAY_WINDOW_SECONDS, clock=time.monotonic, cap: int = REPLAY_CAP):
        self.window = window
        self.clock = clock
        self.cap = cap
        self._seen: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(signature: str, body: bytes) -> bytes:
        return hashlib.sha256(signature.encode("latin-1") + b"\n" + body).digest()

    def first_time(self, signature: str, body: bytes) -> bool:
        """Record the request; False when it was already seen within the window."""
        key = self.key(signature, body)
        now = self.clock()
        with self._lock:
            while self._seen:
                oldest, at = next(iter(self._seen.items()))
                if now - at <= self.window and len(self._seen) < self.cap:
                    break
                del self._seen[oldest]
            if key in self._seen:
                return False
            self._seen[key] = now
            return True

    def forget(self, signature: str, body: bytes) -> None:
        """A request that failed verification does not count as seen."""
        with self._lock:
            self._seen.pop(self.key(signature, body), None)

    def __len__(self) -> int:
        return len(self._seen)
