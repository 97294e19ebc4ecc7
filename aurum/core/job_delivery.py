"""`aurum run-job` beside Slack: run a job now and see its deliveries through, or give its period back.

A job queues its Slack messages in its claim's transaction (aurum.core.jobs). A scheduled run leaves them to the
outbox, which retries for about 17 minutes; a person who runs a job by hand wants to know whether it reached Slack.
So the command delivers the job's own tasks itself, with the queue's back-off, for a bounded time (the serving
bot's workers may deliver some of them meanwhile: the queue's claims keep each to one worker). When none of them
was delivered by then, it cancels them and releases the period's claim in one transaction: the period is open
again and a later run delivers it. When some were, the claim stays and the queue keeps retrying the rest.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from aurum.core.delivery import Delivery
from aurum.core.jobs import JobRunner, Outcome
from aurum.core.outbox import OutboxWorker
from aurum.core.queue import MAX_ATTEMPTS, collect_keys
from storage import claims
from storage import queue as repo
from storage.queue import QueuedTask

if TYPE_CHECKING:
    from aurum.core.context import Context

UNDELIVERED = ("pending", "sending", "dead", repo.CANCELLED)
IN_FLIGHT_WAIT = 60.0  # how long a task another worker holds (its lease: 15 s, 45 s for uploads) is waited for
POLL = 0.5  # the longest sleep between delivery rounds


@dataclass
class Seen:
    """What became of one workspace's run: its outcome, and its queued tasks at the end."""

    outcome: Outcome
    tasks: list[QueuedTask] = field(default_factory=list)
    released: bool = False  # nothing was delivered: the tasks were cancelled and the period given back

    @property
    def delivered(self) -> int:
        return sum(task.status not in UNDELIVERED for task in self.tasks)

    @property
    def waiting(self) -> int:
        """Tasks the queue still retries (pending, or claimed by a worker)."""
        return sum(task.status in repo.WAITING for task in self.tasks)

    @property
    def error(self) -> str | None:
        """The error of the first undelivered task that was tried (Slack's answer), if any: a thread reply or an edit
        waiting for its message was not tried."""
        errors = [task.last_error for task in self.tasks
                  if task.status in UNDELIVERED and task.attempts and task.last_error]
        return errors[0] if errors else None


class _Busy(Exception):
    """A task was claimed or delivered meanwhile: the give-back is rolled back."""


class JobTasksWorker(OutboxWorker):
    """The outbox worker restricted to some tasks: those one run of a job queued."""

    name = "run-job"
    woken_by_commits = False

    def __init__(self, ctx: Context, delivery: Delivery, keys: dict[str, list[str]],
                 claim_for: timedelta | None = None):
        super().__init__(ctx, delivery, MAX_ATTEMPTS, claim_for)
        self.keys = keys

    def run_once(self, limit: int = 50) -> int:
        now, handled = self.ctx.now(), 0
        for team_id, keys in self.keys.items():
            with self.ctx.reading() as session:
                tasks = repo.by_keys(session, team_id, keys)
            # As in storage.queue.due: a task whose parent (its thread's message) still waits is not due.
            waiting = {task.key for task in tasks if task.status in repo.WAITING}
            due = [task for task in tasks if task.status == "pending" and task.next_attempt_at <= now
                   and task.kind in self.handlers and task.parent_key not in waiting]
            for task in due:
                if task.id is not None:
                    handled += self._run(task.id, self.handlers[task.kind])
        return handled


def run_and_deliver(ctx: Context, runner: JobRunner, delivery: Delivery, job: str, team_id: str | None = None, *,
                    wait: float = 60.0, claim_for: timedelta | None = None, in_flight_wait: float = IN_FLIGHT_WAIT,
                    clock: Callable[[], float] = time.monotonic,
                    sleep: Callable[[float], None] = time.sleep) -> list[Seen]:
    """Run `job` now (for `team_id`, default every workspace) and deliver what it queued for up to `wait` seconds;
    then give back the period of each workspace none of whose tasks was delivered."""
    with collect_keys() as queued:
        outcomes = runner.run_now(job, team_id)
    keys: dict[str, list[str]] = defaultdict(list)
    for team, key in queued:
        keys[team].append(key)
    worker = JobTasksWorker(ctx, delivery, dict(keys), claim_for)
    deadline = clock() + wait
    while True:
        worker.run_once()
        tasks = _tasks(ctx, keys)
        pending = [task for task in tasks if task.status in repo.WAITING]
        if not pending or clock() >= deadline:
            break
        soonest = min(task.next_attempt_at for task in pending)
        sleep(max(0.05, min(POLL, (soonest - ctx.now()).total_seconds(), deadline - clock())))
    return [settle(ctx, runner.owner, outcome, keys.get(outcome.team_id, []), in_flight_wait, clock, sleep)
            for outcome in outcomes]


def _tasks(ctx: Context, keys: dict[str, list[str]]) -> list[QueuedTask]:
    with ctx.reading() as session:
        return [task for team, team_keys in keys.items() for task in repo.by_keys(session, team, team_keys)]


def settle(ctx: Context, owner: str, outcome: Outcome, keys: list[str], in_flight_wait: float,
            clock: Callable[[], float], sleep: Callable[[float], None]) -> Seen:
    """Keep the claim when a task was delivered (or nothing was queued); else cancel the tasks and release the claim
    in one transaction, once no other worker holds one of them (waiting up to `in_flight_wait` for that)."""
    give_up = clock() + in_flight_wait
    while True:
        with ctx.reading() as session:
            claim = claims.find(session, outcome.team_id, outcome.job, outcome.period)
            if claim is None or claim.owner != owner:  # the job did not run here (it failed, or had run already)
                return Seen(outcome)
            seen = Seen(outcome, repo.by_keys(session, outcome.team_id, keys) if keys else [])
        if not seen.tasks or seen.delivered:
            return seen
        if not any(task.status == "sending" for task in seen.tasks) and give_back(ctx, owner, outcome, keys):
            with ctx.reading() as session:
                return Seen(outcome, repo.by_keys(session, outcome.team_id, keys), released=True)
        if clock() >= give_up:
            return seen
        sleep(POLL)


def give_back(ctx: Context, owner: str, outcome: Outcome, keys: list[str]) -> bool:
    """Cancel the run's tasks and release its claim, in one transaction; False (and nothing changed) when one of
    the tasks is claimed by a worker or was delivered meanwhile."""
    try:
        with ctx.transaction() as session:
            repo.cancel(session, outcome.team_id, keys, ctx.now())
            # After the UPDATE, the rows it cancelled are this transaction's: no worker can claim them any more.
            if any(task.status != repo.CANCELLED for task in repo.by_keys(session, outcome.team_id, keys)):
                raise _Busy
            claims.release_period(session, outcome.team_id, outcome.job, outcome.period, owner)
    except _Busy:
        return False
    return True
