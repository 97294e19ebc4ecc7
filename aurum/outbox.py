"""Durable outbox: domain code queues Slack calls in its own transaction; a worker delivers them.

Delivery is at-least-once towards the Web API and exactly-once as Slack shows it: every post carries a marker
(the outbox key, in the message metadata) and a post whose worker died mid-call is looked up by that marker
before it is sent again. 429s wait for Retry-After, 5xx and timeouts back off exponentially, and a message that
keeps failing ends as `dead` (listed by `aurum outbox`, counted on /metrics).
"""

from __future__ import annotations

import base64
import json
import logging
import random
import threading
import uuid
from datetime import timedelta
from typing import Any

from sqlmodel import Session

from aurum.context import Context
from aurum.delivery import Delivery, DeliveryError, Posted
from aurum.polling import PollingWorker
from storage import outbox as repo
from storage.db import key_taken
from storage.models import OutboxMessage

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(minutes=5)
PARENT_WAIT = timedelta(milliseconds=200)


def _add(session: Session, team_id: str, kind: str, channel: str, payload: dict[str, Any], key: str | None,
         parent_key: str | None) -> str:
    if key is None:
        key = f"{kind}:{uuid.uuid4().hex}"  # fresh: no need to look for an earlier one
    elif key_taken(session, OutboxMessage, team_id, key):
        return key  # the same key queued twice is one message
    # Inserted with the transaction's next flush, together with the other rows queued by then.
    session.add(OutboxMessage(team_id=team_id, key=key, kind=kind, channel=channel, payload=json.dumps(payload),
                              parent_key=parent_key))
    return key


def post(session: Session, team_id: str, channel: str, text: str, blocks: list[dict] | None = None, *,
         key: str | None = None, thread_key: str | None = None, user: str | None = None) -> str:
    """Queue a message (an ephemeral one when `user` is set; a thread reply when `thread_key` names a post)."""
    kind = "ephemeral" if user else "post"
    return _add(session, team_id, kind, channel, {"text": text, "blocks": blocks, "user": user}, key, thread_key)


def update(session: Session, team_id: str, post_key: str, text: str, blocks: list[dict] | None = None,
           *, key: str | None = None) -> str:
    """Queue an edit of an earlier post (by its key); only the newest queued edit is sent."""
    return _add(session, team_id, "update", "", {"text": text, "blocks": blocks}, key, post_key)


def upload(session: Session, team_id: str, channel: str, content: bytes, *, filename: str, title: str,
           comment: str = "", thread_key: str | None = None, key: str | None = None) -> str:
    """Queue a file upload: a PNG chart, a CSV export, … (the type follows from the filename)."""
    payload = {"content": base64.b64encode(content).decode("ascii"), "filename": filename, "title": title,
               "comment": comment}
    return _add(session, team_id, "upload", channel, payload, key, thread_key)


def delivered(session: Session, team_id: str, key: str) -> Posted | None:
    row = repo.by_key(session, team_id, key)
    if row is None or row.status != "sent" or not row.ts:
        return None
    return Posted(channel=row.result_channel or row.channel, ts=row.ts)


class Deferred(Exception):
    """The message waits for its parent to be delivered first."""


class OutboxWorker(PollingWorker):
    """Delivers due messages. Safe to run in several threads and processes at once."""

    name = "outbox"

    def __init__(self, ctx: Context, delivery: Delivery, max_attempts: int = MAX_ATTEMPTS,
                 claim_for: timedelta | None = None):
        self.ctx = ctx
        self.delivery = delivery
        self.max_attempts = max_attempts
        self.claim_for = claim_for  # longer than any one Slack call may take (the client times out at 10 s)

    def run_once(self, limit: int = 50) -> int:
        now = self.ctx.now()
        with self.ctx.reading() as session:
            due = repo.due(session, now, limit)
        if len(due) > 1:
            # Workers see the same due rows: each starts at its own place in the list, so that they rarely race
            # for one row (a lost race still costs a write transaction) while each keeps the queue's order.
            start = random.randrange(len(due))
            due = due[start:] + due[:start]
        return sum(self._deliver(message_id, kind) for message_id, kind in due)

    def idle(self) -> bool:
        with self.ctx.reading() as session:
            return not repo.due(session, self.ctx.now(), 1)

    def wait(self, stop: threading.Event, seconds: float) -> None:
        self.ctx.outbox_wake.wait(seconds)  # a commit that queued a message wakes the worker early
        self.ctx.outbox_wake.clear()

    def _deliver(self, message_id: int, kind: str) -> int:
        now = self.ctx.now()
        with self.ctx.transaction() as session:
            row = repo.claim(session, message_id, now, kind, self.claim_for)
            if row is None:
                return 0
            # A retry may follow a call whose answer was lost (timeout, dropped connection, crash):
            # look for the earlier post before sending it again.
            recovering = row.attempts > 1
            row.last_error = "in flight"
            parent = repo.by_key(session, row.team_id, row.parent_key) if row.parent_key else None
            superseded = row.kind == "update" and repo.newer_update_exists(session, row)
        try:
            if superseded:
                self._finish(row.id, ts=None, status="superseded")
                return 1
            posted = self._call(row, parent, recovering)
        except Deferred:
            self._retry(row.id, PARENT_WAIT, "waiting for the message it belongs to", count=False)
            return 0
        except DeliveryError as exc:
            self._failed(row, exc)
            return 0
        except Exception as exc:  # an unexpected error must not lose the message
            log.exception("outbox delivery crashed", extra={"outbox_key": row.key})
            self._failed(row, DeliveryError(f"{type(exc).__name__}: {exc}"))
            return 0
        self._finish(row.id, ts=posted.ts if posted else None, channel=posted.channel if posted else None)
        self.ctx.telemetry.count("outbox_deliveries", kind=row.kind, result="sent")
        return 1

    def _call(self, row: OutboxMessage, parent: OutboxMessage | None, recovering: bool) -> Posted | None:
        payload = json.loads(row.payload)
        if row.parent_key:
            if parent is None or parent.status == "dead":
                raise DeliveryError(f"the message it belongs to ({row.parent_key}) was never delivered",
                                    permanent=True)
            if parent.status != "sent" or not parent.ts:
                raise Deferred()
        thread_ts = parent.ts if parent is not None and row.kind != "update" else None
        channel = row.channel or (parent.result_channel or parent.channel if parent else "")
        if row.kind == "post":
            if recovering:
                found = self.delivery.find_posted(row.team_id, channel, row.key, row.created_at.timestamp() - 60,
                                                  thread_ts=thread_ts)
                if found is not None:
                    log.info("outbox post already delivered before a crash", extra={"outbox_key": row.key})
                    return found
            return self.delivery.post(row.team_id, channel, payload["text"], payload.get("blocks"),
                                      thread_ts=thread_ts, marker=row.key)
        if row.kind == "ephemeral":
            return self.delivery.post(row.team_id, channel, payload["text"], payload.get("blocks"),
                                      thread_ts=thread_ts, user=payload["user"])
        if row.kind == "update":
            assert parent is not None
            self.delivery.update(row.team_id, parent.result_channel or parent.channel, parent.ts or "",
                                 payload["text"], payload.get("blocks"))
            return Posted(channel=parent.result_channel or parent.channel, ts=parent.ts or "")
        if row.kind == "upload":
            content = payload["content"] if "content" in payload else payload["png"]  # "png": rows queued before
            file_id = self.delivery.upload_file(
                row.team_id, channel, base64.b64decode(content), filename=payload["filename"],
                title=payload["title"], comment=payload.get("comment", ""), thread_ts=thread_ts)
            return Posted(channel=channel, ts=file_id)
        raise DeliveryError(f"unknown outbox kind {row.kind!r}", permanent=True)

    def _finish(self, message_id: int, ts: str | None, channel: str | None = None, status: str = "sent") -> None:
        with self.ctx.transaction() as session:
            row = session.get(OutboxMessage, message_id)
            assert row is not None
            row.status, row.ts, row.result_channel = status, ts, channel
            row.sent_at, row.last_error, row.claimed_until = self.ctx.now(), None, None
            session.add(row)

    def _retry(self, message_id: int, wait: timedelta, error: str, count: bool = True) -> None:
        with self.ctx.transaction() as session:
            row = session.get(OutboxMessage, message_id)
            assert row is not None
            row.status, row.claimed_until, row.last_error = "pending", None, error
            row.next_attempt_at = self.ctx.now() + wait
            if not count:
                row.attempts -= 1
            session.add(row)

    def _failed(self, row: OutboxMessage, exc: DeliveryError) -> None:
        dead = exc.permanent or (row.attempts >= self.max_attempts and exc.retry_after is None)
        self.ctx.telemetry.count("outbox_deliveries", kind=row.kind, result="dead" if dead else "retry")
        if dead:
            log.error("outbox message dead", extra={"outbox_key": row.key, "error": str(exc)})
            with self.ctx.transaction() as session:
                stored = session.get(OutboxMessage, row.id)
                assert stored is not None
                stored.status, stored.last_error, stored.claimed_until = "dead", str(exc), None
                session.add(stored)
            return
        wait = timedelta(seconds=exc.retry_after) if exc.retry_after is not None else _backoff(row.attempts)
        log.warning("outbox delivery failed, retrying", extra={"outbox_key": row.key, "error": str(exc),
                                                               "retry_in_s": wait.total_seconds()})
        # Being asked to wait (429 with Retry-After) is no failure of the message: it does not count
        # towards the attempts that lead to the dead letters.
        self._retry(row.id, wait, str(exc), count=exc.retry_after is None)


def _backoff(attempts: int) -> timedelta:
    seconds = min(MAX_BACKOFF.total_seconds(), 0.5 * 2 ** (attempts - 1))
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))

