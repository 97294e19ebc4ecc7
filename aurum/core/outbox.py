"""The Slack kinds of the durable task queue (aurum.core.queue): domain code queues Slack calls in its own transaction;
the queue worker delivers them.

Delivery is at-least-once towards the Web API and exactly-once as Slack shows it: every post carries a marker
(the outbox key, in the message metadata) and a post whose worker died mid-call is looked up by that marker
before it is sent again. 429s wait for Retry-After, 5xx and timeouts back off exponentially, and a message that
keeps failing ends as `dead` (listed by `aurum outbox`, counted on /metrics).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from aurum.core.delivery import Delivery, DeliveryError, Posted
from aurum.core.queue import MAX_ATTEMPTS, Handler, Later, Outcome, QueueWorker, enqueue
from storage import queue as repo
from storage.queue import QueuedTask

if TYPE_CHECKING:
    from aurum.core.context import Context

log = logging.getLogger(__name__)
KINDS = ("post", "ephemeral", "update", "upload")
PARENT_WAIT = timedelta(milliseconds=200)
# A claim outlives the slowest Slack call of its kind (10 s timeout per call; an upload makes three calls), so a
# live worker never loses its row, and a row whose worker died is picked up again soon after.
UPLOAD_CLAIM = timedelta(seconds=45)

__all__ = ["KINDS", "MAX_ATTEMPTS", "OutboxWorker", "channel_of", "delivered", "post", "update", "upload"]


def post(session: Session, team_id: str, channel: str, text: str, blocks: list[dict] | None = None, *,
         key: str | None = None, thread_key: str | None = None, user: str | None = None) -> str:
    """Queue a message (an ephemeral one when `user` is set; a thread reply when `thread_key` names a post)."""
    kind = "ephemeral" if user else "post"
    payload = {"channel": channel, "text": text, "blocks": blocks, "user": user}
    return enqueue(session, team_id, kind, payload, key, thread_key)


def update(session: Session, team_id: str, post_key: str, text: str, blocks: list[dict] | None = None,
           *, key: str | None = None) -> str:
    """Queue an edit of an earlier post (by its key); only the newest queued edit is sent."""
    return enqueue(session, team_id, "update", {"channel": "", "text": text, "blocks": blocks}, key, post_key)


def upload(session: Session, team_id: str, channel: str, content: bytes, *, filename: str, title: str,
           comment: str = "", thread_key: str | None = None, key: str | None = None) -> str:
    """Queue a file upload: a PNG chart, a CSV export, … (the type follows from the filename)."""
    payload = {"channel": channel, "content": base64.b64encode(content).decode("ascii"), "filename": filename,
               "title": title, "comment": comment}
    return enqueue(session, team_id, "upload", payload, key, thread_key)


def _posted(task: QueuedTask | None) -> Posted | None:
    """Where Slack shows a sent task (its channel and ts, or a file's id)."""
    if task is None or task.status != "sent" or not task.result:
        return None
    result = json.loads(task.result)
    return Posted(channel=result["channel"], ts=result["ts"]) if result.get("ts") else None


def delivered(session: Session, team_id: str, key: str) -> Posted | None:
    return _posted(repo.by_key(session, team_id, key))


def channel_of(task: QueuedTask) -> str:
    """The channel a Slack task was queued for ("" for an edit, which goes where its message is)."""
    return json.loads(task.payload).get("channel", "")


@dataclass(frozen=True)
class Parent:
    """What a thread reply or an edit needs of the message it belongs to, read in the claim's transaction."""

    key: str
    status: str | None  # None: never queued
    posted: Posted | None


class SlackCall(Handler):
    """One Slack Web API call kind. A task with a parent (a thread reply, an edit) waits until that message is sent
    and goes to its thread or edits it; an edit overtaken by a newer queued one is skipped."""

    done = "sent"
    counter = "outbox_deliveries"

    def __init__(self, delivery: Delivery, call: Callable[..., Posted], claim_for: timedelta | None = None):
        self.delivery = delivery
        self.call = call
        self.claim_for = claim_for or Handler.claim_for

    def prepare(self, session: Session, task: QueuedTask) -> tuple[Parent | None, bool]:
        parent = None
        if task.parent_key:
            row = repo.by_key(session, task.team_id, task.parent_key)
            parent = Parent(task.parent_key, row.status if row else None, _posted(row))
        return parent, task.kind == "update" and repo.newer_sibling_exists(session, task)

    def run(self, task: QueuedTask, payload: dict[str, Any], prepared: tuple[Parent | None, bool]) -> Outcome:
        parent, superseded = prepared
        if superseded:
            return Outcome(status="superseded")
        if parent is not None:
            if parent.status in (None, "dead"):
                raise DeliveryError(f"the message it belongs to ({parent.key}) was never delivered", permanent=True)
            if parent.posted is None:
                raise Later("waiting for the message it belongs to", PARENT_WAIT)
        posted = self.call(self.delivery, task, payload, parent.posted if parent else None)
        return Outcome(result={"channel": posted.channel, "ts": posted.ts})


def _post(delivery: Delivery, task: QueuedTask, payload: dict[str, Any], parent: Posted | None) -> Posted:
    channel, thread_ts = payload["channel"] or (parent.channel if parent else ""), parent.ts if parent else None
    # A retry may follow a call whose answer was lost (timeout, dropped connection, crash): look for the earlier
    # post, by the marker every post carries, before sending it again.
    if task.attempts > 1:
        found = delivery.find_posted(task.team_id, channel, task.key, task.created_at.timestamp() - 60,
                                     thread_ts=thread_ts)
        if found is not None:
            log.info("outbox post already delivered before a crash", extra={"outbox_key": task.key})
            return found
    return delivery.post(task.team_id, channel, payload["text"], payload.get("blocks"), thread_ts=thread_ts,
                         marker=task.key)


def _ephemeral(delivery: Delivery, task: QueuedTask, payload: dict[str, Any], parent: Posted | None) -> Posted:
    channel = payload["channel"] or (parent.channel if parent else "")
    return delivery.post(task.team_id, channel, payload["text"], payload.get("blocks"),
                         thread_ts=parent.ts if parent else None, user=payload["user"])


def _update(delivery: Delivery, task: QueuedTask, payload: dict[str, Any], parent: Posted | None) -> Posted:
    assert parent is not None  # an edit always names its message
    delivery.update(task.team_id, parent.channel, parent.ts, payload["text"], payload.get("blocks"))
    return parent


def _upload(delivery: Delivery, task: QueuedTask, payload: dict[str, Any], parent: Posted | None) -> Posted:
    channel = payload["channel"] or (parent.channel if parent else "")
    content = payload["content"] if "content" in payload else payload["png"]  # "png": uploads queued by older versions
    file_id = delivery.upload_file(task.team_id, channel, base64.b64decode(content), filename=payload["filename"],
                                   title=payload["title"], comment=payload.get("comment", ""),
                                   thread_ts=parent.ts if parent else None)
    return Posted(channel=channel, ts=file_id)


def handlers(delivery: Delivery) -> dict[str, Handler]:
    return {"post": SlackCall(delivery, _post), "ephemeral": SlackCall(delivery, _ephemeral),
            "update": SlackCall(delivery, _update), "upload": SlackCall(delivery, _upload, UPLOAD_CLAIM)}


class OutboxWorker(QueueWorker):
    """The queue worker for the Slack kinds, over a Delivery (the Slack Web API, or the console)."""

    name = "outbox"

    def __init__(self, ctx: Context, delivery: Delivery, max_attempts: int = MAX_ATTEMPTS,
                 claim_for: timedelta | None = None):
        super().__init__(ctx, handlers(delivery), max_attempts, claim_for)
        self.delivery = delivery
