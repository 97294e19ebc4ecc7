"""Structured JSON logs on stderr, each line with the request id of the Slack/HTTP request it belongs to.

Secrets never reach the logs: tokens are SecretStr and never formatted, and a filter on the handler scrubs
anything shaped like a Slack or Aurum token, plus the configured secret values, from every record (slack_sdk
logs response bodies at DEBUG, and an OAuth exchange's body holds the new bot token).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from aurum.core.after_ack import REQUEST_ID

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
TOKEN_PATTERN = re.compile(r"\b(?:xox[abposre]|xapp|aur)[-_][A-Za-z0-9._-]{6,}")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
REDACTED = "[redacted]"


def new_request_id(incoming: str | None = None) -> str:
    """Keep a well-formed id handed in by a proxy (X-Request-Id), else make one."""
    return incoming if incoming and _SAFE_ID.match(incoming) else uuid.uuid4().hex[:16]


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


class RedactingFilter(logging.Filter):
    """Replaces secrets in the message, the arguments, extras and exception text of every record."""

    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return TOKEN_PATTERN.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = self.scrub(message), None
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, self.scrub(value))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD and v is not None})
        if record.exc_text:
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def protect(handler: logging.Handler, secrets: Iterable[str] = ()) -> logging.Handler:
    """Give a handler the request id and the secret scrubbing (used for stderr, and by the tests' capture)."""
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactingFilter(secrets))
    return handler


def configure(level: int = logging.INFO, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [protect(handler, secrets)]
    root.setLevel(level)
