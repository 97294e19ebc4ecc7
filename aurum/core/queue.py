"""Delivery of the durable task queue (storage.queue): one worker, one claim/retry/dead mechanism, one back-off,
and a handler per kind of task.

Domain code queues a task in its own transaction (`enqueue`); a `QueueWorker` claims due tasks and hands each to
its kind's `Handler`. A handler that raises `TaskError` has the task retried with back-off (or after the
Retry-After the far side gave), or kept as a dead letter when retrying is futile or attempts run out; `Later` puts
a task back without counting an attempt. Capabilities register their kinds: aurum.outbox (Slack post, ephemeral,
update, upload) and aurum.alerts.escalation (PagerDuty, e-mail, alert chart).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from aurum.core.polling import PollingWorker
from storage import queue as repo
from storage.queue import QueuedTask

if TYPE_CHECKING:
    from aurum.core.context import Context

log = logging.getLogger(__name__)

# One back-off for every kind: 0.5 s, doubling, at most 10 minutes, ±20 % jitter. The first retries come fast
# (a Slack 5xx is usually over within a second or two), and 12 attempts keep a task trying for about 17 minutes
# (0.5 s × (2^11 − 1)) before it becomes a dead letter: as long as PagerDuty events were retried before the queues
# were merged, so that a short outage of the far side loses nothing.
FIRST_BACKOFF = timedelta(seconds=0.5)
MAX_BACKOFF = timedelta(minutes=10)
MAX_ATTEMPTS = 12


class TaskError(Exception):
    """A failed attempt. `retry_after` (seconds) when the far side asked to wait; `permanent` when retrying is
    futile."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class Later(Exception):
    """Not a failure: the task cannot go yet (its parent is not delivered); try again after `wait`."""

    def __init__(self, reason: str, wait: timedelta):
        super().__init__(reason)
        self.wait = wait


@dataclass(frozen=True)
class Outcome:
    """How a handled task ends: `status` (default: the handler's `done`) and `result`, kept as JSON."""

    status: str | None = None
    result: dict[str, Any] | None = None


class Handler:
    """Does the tasks of one kind. `prepare` runs in the claim's transaction and reads what `run` needs;
    `run` makes the call, outside any transaction, and returns an Outcome (None: done)."""

    done = "done"  # the status of a task run without error
    counter: str  # the telemetry counter of its attempts by kind and result (declared in aurum.core.telemetry)
    claim_for = timedelta(seconds=15)  # the lease: longer than the slowest call of the kind may take

    def prepare(self, session: Session, task: QueuedTask) -> Any:
        return None

    def run(self, task: QueuedTask, payload: dict[str, Any], prepared: Any) -> Outcome | None:
        raise NotImplementedError

    def on_dead(self, session: Session, task: QueuedTask, error: TaskError) -> None:
        """In the transaction that makes the task a dead letter: what else its end calls for."""


@dataclass
class Outputs:
    """The tasks queued while one task runs (a request's work after the ack): their keys are the running task's
    key and a sequence number, so that running the same task again (its worker died mid-way, its lease ran out)
    queues the same keys — nothing twice. `uses` counts what a kind wants counted per running task (the replies
    sent to one response_url)."""

    key: str
    started: datetime  # when the running task was queued (a request's: when it was acknowledged)
    sequence: int = 0
    uses: dict[str, int] = field(default_factory=dict)

    def next_key(self, kind: str) -> str:
        self.sequence += 1
        return f"{self.key}/{self.sequence}:{kind}"


_OUTPUTS: ContextVar[Outputs | None] = ContextVar("aurum_task_outputs", default=None)


@contextmanager
def outputs_of(task: QueuedTask) -> Iterator[Outputs]:
    """Run a task's handler with its outputs keyed after it (see Outputs)."""
    outputs = Outputs(task.key, task.created_at)
    token = _OUTPUTS.set(outputs)
    try:
        yield outputs
    finally:
        _OUTPUTS.reset(token)


def current_outputs() -> Outputs | None:
    """The running task's outputs, inside `outputs_of`; None elsewhere."""
    return _OUTPUTS.get()


def enqueue(session: Session, team_id: str, kind: str, payload: dict[str, Any], key: str | None = None,
            parent_key: str | None = None) -> str:
    """Queue a task in the caller's transaction and return its key; a key already queued is one task. Without a
    key: one made up, or, while a task runs (`outputs_of`), one derived from that task's key."""
    outputs = _OUTPUTS.get()
    fresh = key is None and outputs is None
    if key is None:
        key = outputs.next_key(kind) if outputs is not None else f"{kind}:{uuid.uuid4().hex}"
    if repo.add(session, QueuedTask(team_id=team_id, key=key, kind=kind, payload=json.dumps(payload),
                                    parent_key=parent_key), fresh=fresh):
        for keys in _collecting.get():
            keys.append((team_id, key))
    return key


_collecting: ContextVar[tuple[list[tuple[str, str]], ...]] = ContextVar("aurum_queue_collecting", default=())


@contextmanager
def collect_keys() -> Iterator[list[tuple[str, str]]]:
    """Note the (team, key) of every task `enqueue` queues (not those whose key was queued already) while the block
    runs, in this thread or task: how `aurum run-job` knows which deliveries a job queued."""
    keys: list[tuple[str, str]] = []
    token = _collecting.set((*_collecting.get(), keys))
    try:
        yield keys
    finally:
        _collecting.reset(token)


def backoff(attempts: int) -> timedelta:
    seconds = min(MAX_BACKOFF.total_seconds(), FIRST_BACKOFF.total_seconds() * 2 ** (attempts - 1))
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


class QueueWorker(PollingWorker):
    """Runs the due tasks of the kinds it has handlers for. Safe to run in several threads and processes at once.

    `claim_for` replaces every handler's lease (AURUM_OUTBOX_CLAIM_SECONDS, for tests of crashed workers)."""

    name = "queue"
    woken_by_commits = True  # idles on ctx.outbox_wake, which a commit sets, rather than for the whole poll interval

    def __init__(self, ctx: Context, handlers: Mapping[str, Handler], max_attempts: int = MAX_ATTEMPTS,
                 claim_for: timedelta | None = None):
        self.ctx = ctx
        self.handlers = dict(handlers)
        self.max_attempts = max_attempts
        self.claim_for = claim_for

    def run_once(self, limit: int = 50) -> int:
        with self.ctx.reading() as session:
            due = repo.due(session, self.ctx.now(), self.handlers, limit)
        if len(due) > 1:
            # Workers see the same due rows: each starts at its own place in the list, so that they rarely race
            # for one row (a lost race still costs a write transaction) while each keeps the queue's order.
            start = random.randrange(len(due))
            due = due[start:] + due[:start]
        return sum(self._run(task_id, self.handlers[kind]) for task_id, kind in due)

    def idle(self) -> bool:
        with self.ctx.reading() as session:
            return not repo.due(session, self.ctx.now(), self.handlers, 1)

    def wait(self, stop: threading.Event, seconds: float) -> None:
        if not self.woken_by_commits:
            stop.wait(seconds)
            return
        self.ctx.outbox_wake.wait(seconds)  # a commit that queued a task wakes the worker early
        self.ctx.outbox_wake.clear()

    def _run(self, task_id: int, handler: Handler) -> int:
        with self.ctx.transaction() as session:
            now = self.ctx.now()
            task = repo.claim(session, task_id, now, self.claim_for or handler.claim_for)
            if task is None:
                return 0
            prepared = handler.prepare(session, task)
        try:
            outcome = handler.run(task, json.loads(task.payload), prepared) or Outcome()
        except Later as later:
            self._retry(task, later.wait, str(later), count=False)
            return 0
        except TaskError as exc:
            self._failed(task, handler, exc)
            return 0
        except Exception as exc:  # an unexpected error must not lose the task
            log.exception("queued task crashed", extra={"task": task.key})
            self._failed(task, handler, TaskError(f"{type(exc).__name__}: {exc}"))
            return 0
        status = outcome.status or handler.done
        result = json.dumps(outcome.result) if outcome.result is not None else None
        with self.ctx.transaction() as session:
            repo.finish(session, task.id, status, self.ctx.now(), result)  # type: ignore[arg-type]
        self.ctx.telemetry.count(handler.counter, kind=task.kind, result=status)
        return 1

    def _retry(self, task: QueuedTask, wait: timedelta, error: str, count: bool = True) -> None:
        with self.ctx.transaction() as session:
            repo.retry(session, task.id, self.ctx.now() + wait, error, count)  # type: ignore[arg-type]

    def _failed(self, task: QueuedTask, handler: Handler, exc: TaskError) -> None:
        dead = exc.permanent or (task.attempts >= self.max_attempts and exc.retry_after is None)
        self.ctx.telemetry.count(handler.counter, kind=task.kind, result="dead" if dead else "retry")
        if dead:
            log.error("queued task dead", extra={"task": task.key, "error": str(exc)})
            with self.ctx.transaction() as session:
                repo.dead(session, task.id, str(exc))  # type: ignore[arg-type]
                handler.on_dead(session, task, exc)
            return
        wait = timedelta(seconds=exc.retry_after) if exc.retry_after is not None else backoff(task.attempts)
        log.warning("queued task failed, retrying", extra={"task": task.key, "error": str(exc),
                                                          "retry_in_s": wait.total_seconds()})
        # Being asked to wait (a 429 with Retry-After) is no failure of the task: it does not count towards the
        # attempts that lead to the dead letters.
        self._retry(task, wait, str(exc), count=exc.retry_after is None)
