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
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aurum.core.queue import Handler, Outcome, TaskError, enqueue, outputs_of
from storage.db import session_scope
from storage.queue import QueuedTask

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

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
    delivers again is queued once); returns the task's key once it is committed."""
    if name not in ctx.works:
        raise KeyError(f"no work named {name!r}")
    task = (team_id, {"work": name, "body": body, "request_id": REQUEST_ID.get()}, request_key(name, body))
    if ctx.intake is not None:
        return ctx.intake.store(task)
    with ctx.transaction(urgent=True) as session:
        return enqueue(session, task[0], KIND, task[1], task[2])


Stored = tuple[str, dict[str, Any], str]  # team_id, payload, key


class Intake:
    """Group commit for a process that acks many requests at once (`ctx.intake` of a web process): each ack
    function's thread hands its request's task over and waits; one writer thread commits every task waiting by then
    in one transaction, then lets all of them go. Fifty simultaneous acks cost a few transactions, not fifty, and so
    take the database's write lock (one writer at a time on SQLite, shared with the work process) a few times."""

    def __init__(self, engine: Engine, wake: threading.Event, wait: float = 10.0):
        self.engine = engine
        self.wake = wake  # the queue workers' (ctx.outbox_wake): set once the tasks are committed
        self.wait = wait
        self._waiting: list[tuple[Stored, Future[str]]] = []
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None

    def store(self, task: Stored) -> str:
        done: Future[str] = Future()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._write_forever, name="aurum-intake", daemon=True)
                self._thread.start()
            self._waiting.append((task, done))
            self._lock.notify()
        return done.result(timeout=self.wait)

    def _write_forever(self) -> None:
        while True:
            with self._lock:
                while not self._waiting:
                    self._lock.wait()
                batch, self._waiting = self._waiting, []
            try:
                with session_scope(self.engine, urgent=True) as session:
                    keys = [enqueue(session, team_id, KIND, payload, key) for (team_id, payload, key), _ in batch]
                self.wake.set()
            except Exception as exc:  # every ack of the batch fails: Slack's user sees the app's error answer
                log.exception("requests' work could not be stored", extra={"requests": len(batch)})
                for _, done in batch:
                    done.set_exception(exc)
                continue
            for (_, done), key in zip(batch, keys, strict=True):
                done.set_result(key)


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
