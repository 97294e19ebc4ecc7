"""The work after the ack: a Slack request's slow part (queries, charts, replies), queued durably by its ack
function and done by a queue worker (aurum.core.queue) — in the work process beside `aurum serve`, or in threads
of the serving process.

An ack function answers Slack and nothing else: it checks what needs no database, then `queue`s its request's work
(one row, in one transaction, committed before Slack gets its HTTP answer) and acks. A crash after the ack loses
nothing: the restarted worker finds the row. Nothing about the request is replayed: the work is looked up by name
in the works the command modules registered (`Works`) and runs with the request's body.

Exactly once: a request's task key comes from the request (its `trigger_id`, an event's `event_id`), so a request
Slack delivers twice (an Events API retry) is one task; and what the work queues (its replies and posts) is keyed
after its task (aurum.core.queue.Outputs), so a work run again after its worker died queues nothing twice.
"""

from __future__ import annotations

import contextvars
import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aurum.core.queue import Handler, Outcome, TaskError, enqueue, outputs_of
from storage.queue import QueuedTask

if TYPE_CHECKING:
    from aurum.core.context import Context

log = logging.getLogger(__name__)
# The id of the request being handled, on every log line (bot.logs): set by the web server for a request, and for
# its work after the ack by the worker that does it.
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("aurum_request_id", default=None)
KIND = "request"
# Longer than a request's work takes (the slowest, a forecast with its chart, takes a few seconds on a busy
# machine); a worker that died is replaced after this.
LEASE = timedelta(seconds=30)
Work = Callable[[dict[str, Any]], Any]


class Works(dict[str, Work]):
    """The works of one Bolt app by name, registered by the command modules."""

    def add(self, name: str, work: Work) -> str:
        if name in self and self[name] is not work:
            raise ValueError(f"two works named {name!r}")
        self[name] = work
        return name


def request_key(name: str, body: dict[str, Any]) -> str:
    """The task key of a request's work: Slack's own id of the request, the same on a redelivery."""
    event = body.get("event_id")
    trigger = body.get("trigger_id")
    ident = event or trigger or uuid.uuid4().hex
    return f"{KIND}:{name}:{ident}"[:200]


def queue(ctx: Context, team_id: str, name: str, body: dict[str, Any]) -> str:
    """Queue the named work for a request, from its ack function, before the ack goes out (a request Slack
    delivers again is queued once); returns the task's key."""
    if name not in ctx.works:
        raise KeyError(f"no work named {name!r}")
    with ctx.transaction() as session:
        return enqueue(session, team_id, KIND, {"work": name, "body": body, "request_id": REQUEST_ID.get()},
                       request_key(name, body))


class RequestWork(Handler):
    """Runs a queued request's work. The work reports its own failures to the person (commands.common); what
    escapes it is logged and the task kept as a dead letter rather than run again half-done."""

    counter = "request_work"
    claim_for = LEASE

    def __init__(self, works: Works):
        self.works = works

    def run(self, task: QueuedTask, payload: dict[str, Any], prepared: Any) -> Outcome | None:
        work = self.works.get(payload.get("work", ""))
        if work is None:
            raise TaskError(f"no work named {payload.get('work')!r} in this version of the bot", permanent=True)
        request = REQUEST_ID.set(payload.get("request_id"))
        try:
            with outputs_of(task):
                work(payload["body"])
        except Exception as exc:
            log.exception("work after the ack failed", extra={"work": payload.get("work")})
            raise TaskError(f"{type(exc).__name__}: {exc}", permanent=True) from None
        finally:
            REQUEST_ID.reset(request)
        return None
