"""The durable task queue: one table for everything delivered later (Slack posts, edits and uploads, PagerDuty
events, e-mails, alert charts), and its repository. Never commits.

A task is written in the transaction that causes it, claimed by one worker at a time for a lease (a crashed
worker's task is taken again once the lease runs out), retried until a handler succeeds, and kept as a dead letter
when it keeps failing. What a task says is its kind's business: `payload` and `result` are JSON that only the
kind's handler reads (aurum.core.outbox, aurum.alerts.escalation), so a new kind needs no new column.

Statuses: pending → sending (claimed) → a finished one: the handler's (`sent` for Slack calls, `done` for the
others, `superseded` for an edit overtaken by a newer one), or `dead`; or `cancelled`: taken back before it was
delivered (`aurum run-job` gives a period back when Slack took none of its messages), until the same key is queued
again, which queues it anew.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Column, CursorResult, Index, Text, UniqueConstraint, exists, func, or_, select, update
from sqlalchemy.engine import Result
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Field, Session, SQLModel, col

from storage.db import key_taken
from storage.types import utcnow, when_column

WAITING = ("pending", "sending")
CANCELLED = "cancelled"


class QueuedTask(SQLModel, table=True):
    """One thing to deliver later, of one kind, handled by that kind's handler."""

    __tablename__ = "queued_task"
    __table_args__ = (
        UniqueConstraint("team_id", "key", name="uq_queued_task_key"),
        Index("ix_queued_task_due", "status", "next_attempt_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    key: str = Field(max_length=200)  # queuing the same key twice queues one task
    kind: str = Field(max_length=20)
    payload: str = Field(sa_column=Column(Text, nullable=False))  # JSON, read by the kind's handler
    # The key of a task that must finish first (the Slack message a thread reply or an edit belongs to): the task
    # is not due while that one waits. Generic, and in a column, so that `due` stays one indexed query.
    parent_key: str | None = Field(default=None, max_length=200)
    status: str = Field(default="pending", max_length=12)
    attempts: int = 0  # failed or in-flight attempts; a wait the far side asked for (Retry-After) is not counted
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=when_column())
    claimed_until: datetime | None = Field(default=None, sa_column=when_column(nullable=True))  # the claim's lease
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    result: str | None = Field(default=None, sa_column=Column(Text))  # JSON: what the handler got back (a Slack ts)
    created_at: datetime = Field(default_factory=utcnow, sa_column=when_column())
    finished_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))


def add(session: Session, task: QueuedTask, fresh: bool = False) -> bool:
    """Queue a task once per (team, key), inserted with the transaction's next flush together with the other rows
    queued by then; False when the key is already queued. `fresh`: the key was just made up, no need to look.
    A cancelled task of the key is queued again, with the new payload."""
    if not fresh and key_taken(session, QueuedTask, task.team_id, task.key):
        return _requeue(session, task)
    session.add(task)
    return True


def add_once(session: Session, task: QueuedTask) -> bool:
    """Queue a task unless its key is taken, also by a transaction running beside this one (the insert is a
    savepoint: the loser of that race queues nothing, and its own transaction goes on). False when taken."""
    if key_taken(session, QueuedTask, task.team_id, task.key):
        return False
    try:
        with session.begin_nested():
            session.add(task)
    except IntegrityError:
        return False
    return True


def _requeue(session: Session, task: QueuedTask) -> bool:
    """Queue a cancelled task again, with its new content and a fresh count of attempts."""
    result = cast(CursorResult, session.execute(
        update(QueuedTask).where(col(QueuedTask.team_id) == task.team_id, col(QueuedTask.key) == task.key,
                                 col(QueuedTask.status) == CANCELLED)
        .values(status="pending", kind=task.kind, payload=task.payload, parent_key=task.parent_key,
                attempts=0,
                next_attempt_at=utcnow(), claimed_until=None,
                last_error=None, result=None, finished_at=None)
        .execution_options(synchronize_session=False)))
    return result.rowcount == 1


def by_key(session: Session, team_id: str, key: str) -> QueuedTask | None:
    query = select(QueuedTask).where(col(QueuedTask.team_id) == team_id, col(QueuedTask.key) == key)
    return session.scalars(query).first()


def _claimable(now: datetime):
    """Pending tasks whose time has come, and claimed ones whose lease ran out (their worker died)."""
    return or_((col(QueuedTask.status) == "pending") & (col(QueuedTask.next_attempt_at) <= now),
               (col(QueuedTask.status) == "sending") & (col(QueuedTask.claimed_until) < now))


def due(session: Session, now: datetime, kinds: Collection[str] | None = None,
        limit: int = 50) -> list[tuple[int, str]]:
    """(id, kind) of the claimable tasks of `kinds` (default: all), oldest first.

    A task whose parent still waits is not due: workers would only claim it to put it back (a backlog of thread
    replies behind rate-limited posts would keep them busy)."""
    parent = aliased(QueuedTask)
    parent_waiting = exists().where(col(parent.team_id) == col(QueuedTask.team_id),
                                    col(parent.key) == col(QueuedTask.parent_key), col(parent.status).in_(WAITING))
    query = select(col(QueuedTask.id), col(QueuedTask.kind)).where(
        _claimable(now), or_(col(QueuedTask.parent_key).is_(None), ~parent_waiting))
    if kinds is not None:
        query = query.where(col(QueuedTask.kind).in_(list(kinds)))
    return [(row.id, row.kind) for row in session.execute(query.order_by(col(QueuedTask.id)).limit(limit))]


def claim(session: Session, task_id: int, now: datetime, lease: timedelta) -> QueuedTask | None:
    """Atomically take a claimable task for `lease` (counting an attempt); None when another worker was first."""
    # An UPDATE's result is a CursorResult (Session.execute is typed for any statement).
    result = cast(CursorResult, session.execute(
        update(QueuedTask).where(col(QueuedTask.id) == task_id, _claimable(now))
        .values(status="sending", claimed_until=now + lease, attempts=col(QueuedTask.attempts) + 1,
                last_error="in flight")
        .execution_options(synchronize_session=False)))
    if result.rowcount != 1:
        return None
    return session.get(QueuedTask, task_id, populate_existing=True)


def _set(session: Session, task_id: int, **values) -> None:
    session.execute(update(QueuedTask).where(col(QueuedTask.id) == task_id).values(claimed_until=None, **values)
                    .execution_options(synchronize_session=False))


def finish(session: Session, task_id: int, status: str, now: datetime, result: str | None = None) -> None:
    _set(session, task_id, status=status, result=result, finished_at=now, last_error=None)


def retry(session: Session, task_id: int, at: datetime, error: str, count: bool = True) -> None:
    """Back to pending until `at`; `count=False` gives back the attempt the claim counted (a wait, no failure)."""
    attempts = col(QueuedTask.attempts) if count else col(QueuedTask.attempts) - 1
    _set(session, task_id, status="pending", next_attempt_at=at, last_error=error, attempts=attempts)


def dead(session: Session, task_id: int, error: str) -> None:
    _set(session, task_id, status="dead", last_error=error)


def by_keys(session: Session, team_id: str, keys: Collection[str]) -> list[QueuedTask]:
    """A workspace's tasks with these keys (those queued), oldest first."""
    query = select(QueuedTask).where(col(QueuedTask.team_id) == team_id, col(QueuedTask.key).in_(list(keys)))
    return list(session.scalars(query.order_by(col(QueuedTask.id)).execution_options(populate_existing=True)))


def cancel(session: Session, team_id: str, keys: Collection[str], now: datetime) -> int:
    """Take back a workspace's tasks with these keys that wait to be tried (pending) or failed for good (dead); a
    claimed one (sending) is left to its worker. Returns how many were cancelled."""
    result = cast(CursorResult, session.execute(
        update(QueuedTask).where(col(QueuedTask.team_id) == team_id, col(QueuedTask.key).in_(list(keys)),
                                 col(QueuedTask.status).in_(("pending", "dead")))
        .values(status=CANCELLED, finished_at=now, claimed_until=None)
        .execution_options(synchronize_session=False)))
    return int(result.rowcount or 0)


def newer_sibling_exists(session: Session, task: QueuedTask) -> bool:
    """A task of the same kind and parent queued after this one (a newer edit of the same message)."""
    return session.scalars(select(col(QueuedTask.id)).where(
        col(QueuedTask.team_id) == task.team_id, col(QueuedTask.kind) == task.kind,
        col(QueuedTask.parent_key) == task.parent_key, col(QueuedTask.id) > task.id).limit(1)).first() is not None


def tallies(session: Session) -> dict[tuple[str, str], int]:
    """How many tasks there are by (kind, status)."""
    rows: Result[str, str, int] = session.execute(select(col(QueuedTask.kind), col(QueuedTask.status), func.count())
                           .group_by(col(QueuedTask.kind), col(QueuedTask.status)))
    return {(kind, status): count for kind, status, count in rows}


def counts(session: Session, kinds: Collection[str] | None = None) -> dict[str, int]:
    """How many tasks of `kinds` (default: all) there are by status."""
    by_status: dict[str, int] = {}
    for (kind, status), count in tallies(session).items():
        if kinds is None or kind in kinds:
            by_status[status] = by_status.get(status, 0) + count
    return by_status


def listing(session: Session, status: str | None = None, limit: int = 50, *, kinds: Collection[str] | None = None,
            exclude: Collection[str] = (), troubled: bool = False) -> list[QueuedTask]:
    """The newest tasks of `kinds` (default: all but `exclude`) with `status`; `troubled`: only the dead ones and
    those that failed at least once and wait to be retried."""
    query = select(QueuedTask)
    if status:
        query = query.where(col(QueuedTask.status) == status)
    if kinds is not None:
        query = query.where(col(QueuedTask.kind).in_(list(kinds)))
    if exclude:
        query = query.where(col(QueuedTask.kind).not_in(list(exclude)))
    if troubled:
        query = query.where(or_(col(QueuedTask.status) == "dead",
                                (col(QueuedTask.status) == "pending") & col(QueuedTask.last_error).is_not(None)))
    return list(session.scalars(query.order_by(col(QueuedTask.id).desc()).limit(limit)))
