"""The one HTTP client helper every collector uses: explicit timeouts, polite retries, pagination, one error type.

- Retries: connection errors, timeouts, 429 and 5xx (and GitHub's 403 rate-limit answers) are retried with
  exponential backoff; a `Retry-After` header (seconds or an HTTP date) or GitHub's `x-ratelimit-reset`
  (epoch seconds) is honoured instead when present, up to `max_wait`.
- Pagination: `Link: <…>; rel="next"` (GitHub), `startAt`/`maxResults` with `isLast` or `total` (Jira) and
  `offset`/`more` (PagerDuty).
- Failure: always `CollectorError`, naming the source and saying what went wrong in words (never a token).
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from aurum.collectors.errors import CollectorError

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_PAGES = 50


def _retry_after(response: httpx.Response, now: float) -> float | None:
    """Seconds the server asks us to wait, from Retry-After or GitHub's rate-limit headers."""
    value = response.headers.get("retry-after")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - now)
    if response.headers.get("x-ratelimit-remaining") == "0" and response.headers.get("x-ratelimit-reset"):
        try:
            return max(0.0, float(response.headers["x-ratelimit-reset"]) - now)
        except ValueError:
            return None
    return None


def _rate_limited(response: httpx.Response) -> bool:
    return response.status_code == 403 and (
        response.headers.get("x-ratelimit-remaining") == "0" or "retry-after" in response.headers
    )


@dataclass
class Http:
    """A source's view of an httpx.Client: base URL, auth headers, retry policy, a sleep that tests can replace."""

    source: str
    client: httpx.Client
    base_url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    auth: httpx.Auth | tuple[str, str] | None = None
    attempts: int = 4
    backoff: float = 0.5
    max_wait: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def request(self, method: str, path: str, accept: tuple[int, ...] = (), **kwargs: Any) -> httpx.Response:
        """A response below 400 (or with a status in `accept`); retries as the module says; else CollectorError."""
        url = self.url(path)
        headers = {**self.headers, **kwargs.pop("headers", {})}
        problem = "no attempt made"
        for attempt in range(1, self.attempts + 1):
            try:
                response = self.client.request(method, url, headers=headers, auth=self.auth or httpx.USE_CLIENT_DEFAULT,
                                               **kwargs)
            except httpx.TimeoutException:
                problem, wait = "timed out", self.backoff * 2 ** (attempt - 1)
            except httpx.TransportError as exc:
                problem, wait = f"cannot connect ({type(exc).__name__})", self.backoff * 2 ** (attempt - 1)
            else:
                if response.status_code < 400 or response.status_code in accept:
                    return response
                if response.status_code not in RETRY_STATUSES and not _rate_limited(response):
                    raise CollectorError(self.source, _refusal(response))
                problem = _refusal(response)
                asked = _retry_after(response, self.clock())
                wait = asked if asked is not None else self.backoff * 2 ** (attempt - 1)
                if wait > self.max_wait:
                    raise CollectorError(self.source, f"{problem}; the server asks to wait {math.ceil(wait)} s")
            if attempt < self.attempts:
                log.info("retrying", extra={"source": self.source, "problem": problem, "wait": wait})
                self.sleep(wait)
        raise CollectorError(self.source, f"{problem} (after {self.attempts} attempts)")

    def json(self, path: str, method: str = "GET", **kwargs: Any) -> Any:
        return decode(self.source, self.request(method, path, **kwargs))

    def link_pages(self, path: str, params: dict[str, Any] | None = None, key: str | None = None,
                   max_pages: int = MAX_PAGES) -> Iterator[Any]:
        """Items of a `Link: rel="next"` paginated list (the list itself, or the list under `key`)."""
        url: str | None = path
        for _ in range(max_pages):
            if url is None:
                return
            response = self.request("GET", url, params=params)
            body = decode(self.source, response)
            items = body.get(key) if key and isinstance(body, dict) else body
            if not isinstance(items, list):
                raise CollectorError(self.source, f"unexpected answer from {_path(response)}: no list")
            yield from items
            url, params = response.links.get("next", {}).get("url"), None

    def start_at_pages(self, path: str, params: dict[str, Any] | None = None, key: str = "values",
                       page_size: int = 50, max_pages: int = MAX_PAGES) -> Iterator[Any]:
        """Items of a Jira list: `startAt`/`maxResults`, ending on `isLast` (or once `total` is reached)."""
        start = 0
        for _ in range(max_pages):
            body = self.json(path, params={**(params or {}), "startAt": start, "maxResults": page_size})
            items = body.get(key) if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise CollectorError(self.source, f"unexpected answer from {path}: no '{key}' list")
            yield from items
            start += len(items)
            if body.get("isLast") is True or not items:
                return
            if "isLast" not in body and start >= int(body.get("total", start)):
                return

    def offset_pages(self, path: str, params: dict[str, Any] | None = None, key: str = "items",
                     limit: int = 100, max_pages: int = MAX_PAGES) -> Iterator[Any]:
        """Items of a PagerDuty list: `offset`/`limit`, ending when `more` is false."""
        offset = 0
        for _ in range(max_pages):
            body = self.json(path, params={**(params or {}), "offset": offset, "limit": limit})
            items = body.get(key) if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise CollectorError(self.source, f"unexpected answer from {path}: no '{key}' list")
            yield from items
            offset += len(items)
            if not body.get("more") or not items:
                return


def _path(response: httpx.Response) -> str:
    return response.request.url.path if response.request else "?"


def _refusal(response: httpx.Response) -> str:
    reasons = {401: "the credentials were refused (401)", 403: "access denied (403)", 404: "not found (404)",
               429: "rate limited (429)"}
    text = reasons.get(response.status_code, f"HTTP {response.status_code}")
    return f"{_path(response)}: {text}"


def decode(source: str, response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        raise CollectorError(source, f"{_path(response)} answered something that is not JSON") from None


def make_client(timeout: float = 10.0, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """An httpx client with explicit timeouts (connect at most 5 s) and a recognisable user agent."""
    return httpx.Client(timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)), transport=transport,
                        headers={"User-Agent": "aurum-bot"}, follow_redirects=True)


def parse_time(source: str, text: Any) -> datetime:
    """An ISO 8601 time from an API ("2026-11-27T10:00:00Z", "+0000" offsets); naive means UTC."""
    if not isinstance(text, str):
        raise CollectorError(source, f"expected a time, got {text!r}")
    value = text.strip().replace("Z", "+00:00")
    if len(value) > 5 and value[-5] in "+-" and value[-3] != ":":
        value = value[:-2] + ":" + value[-2:]  # Jira's +0000
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise CollectorError(source, f"'{text}' is not a time") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def finite(value: Any) -> float | None:
    """A number, or None for missing / NaN / ±Inf ("no data", never 0)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
