"""The Slack kinds of the durable task queue (aurum.core.queue): domain code queues Slack calls in its own transaction;
the queue worker delivers them.

A reply to a person's request goes to the request's `response_url` (`respond`): it reaches them in a private
channel or a DM the bot is not in, where the Web API cannot. A response_url takes five answers within 30 minutes;
past that, or when Slack says it is used up, the reply goes as an ephemeral message, or by DM where the bot cannot
see the conversation. A public post made for a person (`post(..., asker=...)`) into a conversation the bot cannot
post in tells that person so, through their response_url, instead of vanishing.

Retries: 429s wait for Retry-After (without counting an attempt), 5xx and timeouts back off exponentially, and a
message that keeps failing ends as `dead` (listed by `aurum outbox`, counted on /metrics; a post of the bot's own
that Slack refused tells the admins, aurum.core.admin_notice). A call whose outcome is
unknown (a timeout after the request went out, a worker killed mid-call) is made again: Slack's chat.postMessage
takes no idempotency key, and finding the earlier post would need conversations.history, whose history scopes the
bot does not ask for and which Slack limits to about one call a minute for apps outside the Marketplace. So each
unknown outcome may cost one duplicate message; a message is never lost for it.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from aurum.core.admin_notice import AdminNotices
from aurum.core.delivery import Delivery, DeliveryError, Posted, ReplyUrlGone
from aurum.core.queue import MAX_ATTEMPTS, Handler, Later, Outcome, QueueWorker, TaskError, current_outputs, enqueue
from storage import queue as repo
from storage.queue import QueuedTask

if TYPE_CHECKING:
    from aurum.core.context import Context

log = logging.getLogger(__name__)
KINDS = ("post", "ephemeral", "update", "upload", "respond", "home")
PARENT_WAIT = timedelta(milliseconds=200)
# A claim outlives the slowest Slack call of its kind (10 s timeout per call; an upload makes three calls), so a
# live worker never loses its row, and a row whose worker died is picked up again soon after.
UPLOAD_CLAIM = timedelta(seconds=45)

# Slack's limits of a response_url: five answers within 30 minutes of the request (a minute's margin for the queue).
REPLY_URL_USES = 5
REPLY_URL_LIFETIME = timedelta(minutes=29)
# Errors of a post into a conversation the bot cannot post in: the person it was for is told.
UNREACHABLE = ("channel_not_found", "not_in_channel", "is_archived")
CANNOT_POST = ("I am not in this conversation (Slack says `{error}`), so the answer came without its thread (a chart "
               "goes there). Invite me with `/invite @Aurum`, or ask in a channel I am in.")

__all__ = ["KINDS", "MAX_ATTEMPTS", "OutboxWorker", "channel_of", "delivered", "home", "post", "respond", "update",
           "upload"]


@dataclass(frozen=True)
class Requester:
    """The person a post or reply answers, and how to reach them: their request's response_url."""

    user: str
    channel: str
    response_url: str | None = None


def post(session: Session, team_id: str, channel: str, text: str, blocks: list[dict] | None = None, *,
         key: str | None = None, thread_key: str | None = None, user: str | None = None,
         asker: Requester | None = None) -> str:
    """Queue a message (an ephemeral one when `user` is set; a thread reply when `thread_key` names a post).
    `asker`: the person a public post answers, told when the bot cannot post there."""
    kind = "ephemeral" if user else "post"
    payload: dict[str, Any] = {"channel": channel, "text": text, "blocks": blocks, "user": user}
    if asker is not None:
        payload["asker"] = _reply_route(asker, count=False)
    return enqueue(session, team_id, kind, payload, key, thread_key)


def respond(session: Session, team_id: str, asker: Requester, text: str, blocks: list[dict] | None = None, *,
            key: str | None = None) -> str:
    """Queue a reply to a person's request: by its response_url while that takes answers, else ephemeral (or by DM
    where the bot cannot see the conversation). A new message: never in place of the one whose button was pressed."""
    payload = {**_reply_route(asker), "text": text, "blocks": blocks}
    return enqueue(session, team_id, "respond", payload, key)


def home(session: Session, team_id: str, user: str, view: dict[str, Any], *, key: str | None = None) -> str:
    """Queue the publication of a person's App Home tab."""
    return enqueue(session, team_id, "home", {"channel": "", "user": user, "view": view}, key)


def _reply_route(asker: Requester, count: bool = True) -> dict[str, Any]:
    """Where a reply goes: the response_url with its expiry, unless this request's work used up its five answers
    (`count`: this reply uses one)."""
    url, started = asker.response_url, datetime.now(UTC)
    outputs = current_outputs()
    if url and outputs is not None:
        started = outputs.started.replace(tzinfo=UTC) if outputs.started.tzinfo is None else outputs.started
        used = outputs.uses.get(url, 0)
        outputs.uses[url] = used + count
        if used >= REPLY_URL_USES:
            url = None
    return {"channel": asker.channel, "user": asker.user, "url": url,
            "url_expires": (started + REPLY_URL_LIFETIME).isoformat() if url else None}


def update(session: Session, team_id: str, post_key: str, text: str, blocks: list[dict] | None = None,
           *, key: str | None = None) -> str:
    """Queue an edit of an earlier post (by its key); only the newest queued edit is sent."""
    return enqueue(session, team_id, "update", {"channel": "", "text": text, "blocks": blocks}, key, post_key)


def upload(session: Session, team_id: str, channel: str, content: bytes, *, filename: str, title: str,
           comment: str = "", thread_key: str | None = None, key: str | None = None, alt_text: str = "") -> str:
    """Queue a file upload: a PNG chart, a CSV export, … (the type follows from the filename). A chart's `alt_text`
    says what it shows, for people who cannot see it (Slack's alt_txt)."""
    payload = {"channel": channel, "content": base64.b64encode(content).decode("ascii"), "filename": filename,
               "title": title, "comment": comment, "alt_text": alt_text}
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

    def __init__(self, delivery: Delivery, call: Callable[..., Posted], claim_for: timedelta | None = None,
                 notices: AdminNotices | None = None):
        self.delivery = delivery
        self.call = call
        self.claim_for = claim_for or Handler.claim_for
        self.notices = notices  # post and upload: who is told when one dies

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

    def on_dead(self, session: Session, task: QueuedTask, error: TaskError) -> None:
        """A post of the bot's own (a report, an alert) tells the admins (aurum.core.admin_notice).
        A public post answering a person, into a conversation the bot cannot post in (a private channel or a DM
        it is not in): the answer goes there by the request's response_url instead, for everyone in it, and the
        person learns why what belongs in its thread (a chart) is missing."""
        payload = json.loads(task.payload)
        asker = payload.get("asker")
        code = getattr(error, "code", None)
        if self.notices is not None and not asker and not payload.get("notice"):
            self.notices.dead_post(session, task.team_id, payload.get("channel", ""), code)
        if not asker or code not in UNREACHABLE:
            return
        enqueue(session, task.team_id, "respond", {**asker, "text": payload["text"], "blocks": payload.get("blocks"),
                                                   "in_channel": True}, f"{task.key}:here")
        enqueue(session, task.team_id, "respond", {**asker, "text": CANNOT_POST.format(error=code), "blocks": None},
                f"{task.key}:why")


def _post(delivery: Delivery, task: QueuedTask, payload: dict[str, Any], parent: Posted | None) -> Posted:
    channel, thread_ts = payload["channel"] or (parent.channel if parent else ""), parent.ts if parent else None
    return delivery.post(task.team_id, channel, payload["text"], payload.get("blocks"), thread_ts=thread_ts,
                         marker=task.key)


def _ephemeral(delivery: Delivery, task: QueuedTask, payload: dict[str, Any], parent: Posted | None) -> Posted:
    channel = payload["channel"] or (parent.channel if parent else "")
    return delivery.post(task.team_id, channel, payload["text"], payload.get("blocks"),
                         thread_ts=parent.ts if parent else None, user=payload["user"])


def _respond(delivery: Delivery, task: QueuedTask, payload: dict[str, Any], parent: Posted | None) -> Posted:
    url, expires = payload.get("url"), payload.get("url_expires")
    if url and expires and datetime.now(UTC) < datetime.fromisoformat(expires):
        try:
            delivery.respond(task.team_id, url, payload["text"], payload.get("blocks"),
                             in_channel=payload.get("in_channel", False))
            return Posted(channel=payload["channel"], ts="")
        except ReplyUrlGone:
            log.info("response_url no longer takes answers; replying ephemerally", extra={"outbox_key": task.key})
    return _to_person(delivery, task.team_id, payload)


def _to_person(delivery: Delivery, team_id: str, payload: dict[str, Any]) -> Posted:
    """An ephemeral message in the conversation, or a DM where the bot cannot post in it."""
    try:
        return delivery.post(team_id, payload["channel"], payload["text"], payload.get("blocks"),
                             user=payload["user"])
    except DeliveryError as exc:
        if exc.code not in UNREACHABLE:
            raise
    return delivery.post(team_id, payload["user"], payload["text"], payload.get("blocks"))


def _home(delivery: Delivery, task: QueuedTask, payload: dict[str, Any], parent: Posted | None) -> Posted:
    delivery.publish_home(task.team_id, payload["user"], payload["view"])
    return Posted(channel=payload["user"], ts="")


def _update(delivery: Delivery, task: QueuedTask, payload: dict[str, Any], parent: Posted | None) -> Posted:
    assert parent is not None  # an edit always names its message
    delivery.update(task.team_id, parent.channel, parent.ts, payload["text"], payload.get("blocks"))
    return parent


def _upload(delivery: Delivery, task: QueuedTask, payload: dict[str, Any], parent: Posted | None) -> Posted:
    channel = payload["channel"] or (parent.channel if parent else "")
    content = payload["content"] if "content" in payload else payload["png"]  # "png": uploads queued by older versions
    file_id = delivery.upload_file(task.team_id, channel, base64.b64decode(content), filename=payload["filename"],
                                   title=payload["title"], comment=payload.get("comment", ""),
                                   thread_ts=parent.ts if parent else None,
                                   alt_text=payload.get("alt_text", ""))  # none in uploads queued by older versions
    return Posted(channel=channel, ts=file_id)


def handlers(delivery: Delivery, notices: AdminNotices | None = None) -> dict[str, Handler]:
    """`notices`: told when a post or upload dies."""
    return {"post": SlackCall(delivery, _post, notices=notices), "ephemeral": SlackCall(delivery, _ephemeral),
            "update": SlackCall(delivery, _update),
            "upload": SlackCall(delivery, _upload, UPLOAD_CLAIM, notices=notices),
            "respond": SlackCall(delivery, _respond), "home": SlackCall(delivery, _home)}


class OutboxWorker(QueueWorker):
    """The queue worker for the Slack kinds, over a Delivery (the Slack Web API, or the console)."""

    name = "outbox"

    def __init__(self, ctx: Context, delivery: Delivery, max_attempts: int = MAX_ATTEMPTS,
                 claim_for: timedelta | None = None):
        super().__init__(ctx, handlers(delivery, AdminNotices.of(ctx)), max_attempts, claim_for)
        self.delivery = delivery
