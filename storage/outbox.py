"""Outbox repository: queued Slack calls, claimed by one worker at a time. Never commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import aliased
from sqlmodel import Session

from storage.models import OutboxMessage

# A claim outlives the slowest Slack call of its kind (10 s timeout per call; an upload makes three calls), so a
# live worker never loses its row, and a row whose worker died is picked up again soon after.
CLAIM_FOR = {"upload": timedelta(seconds=45)}
DEFAULT_CLAIM = timedelta(seconds=15)


def add(session: Session, message: OutboxMessage) -> OutboxMessage:
    session.add(message)
    session.flush()
    return message


def by_key(session: Session, team_id: str, key: str) -> OutboxMessage | None:
    return session.scalars(
        select(OutboxMessage).where(OutboxMessage.team_id == team_id, OutboxMessage.key == key)
    ).first()


def due(session: Session, now: datetime, limit: int = 50) -> list[tuple[int, str]]:
    """(id, kind) of pending rows whose time has come, and of rows whose claim expired (their worker died).

    A thread reply or an edit is not due while the message it belongs to still waits to be sent: workers would
    only claim it to put it back (a backlog of replies behind rate-limited posts would keep them busy)."""
    parent = aliased(OutboxMessage)
    parent_waiting = exists().where(parent.team_id == OutboxMessage.team_id, parent.key == OutboxMessage.parent_key,
                                    parent.status.in_(("pending", "sending")))
    query = (
        select(OutboxMessage.id, OutboxMessage.kind)
        .where(
            or_(
                (OutboxMessage.status == "pending") & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.status == "sending") & (OutboxMessage.claimed_until < now),
            ),
            or_(OutboxMessage.parent_key.is_(None), ~parent_waiting),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return [(row.id, row.kind) for row in session.execute(query)]


def claim(session: Session, message_id: int, now: datetime, kind: str,
          claim_for: timedelta | None = None) -> OutboxMessage | None:
    """Atomically take a row for `claim_for` (default: by kind), after which a crashed worker's row is retried;
    None when another worker was first."""
    claim_for = claim_for or CLAIM_FOR.get(kind, DEFAULT_CLAIM)
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            or_(
                (OutboxMessage.status == "pending") & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.status == "sending") & (OutboxMessage.claimed_until < now),
            ),
        )
        .values(status="sending", claimed_until=now + claim_for,
                attempts=OutboxMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    message = session.get(OutboxMessage, message_id, populate_existing=True)
    return message


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    return {status: count for status, count in rows}


def listing(session: Session, status: str | None = None, limit: int = 50) -> list[OutboxMessage]:
    query = select(OutboxMessage)
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(session.scalars(query.order_by(OutboxMessage.id.desc()).limit(limit)))


def newer_update_exists(session: Session, message: OutboxMessage) -> bool:
    """An update of the same message queued after this one makes this one pointless."""
    return session.scalars(
        select(OutboxMessage.id).where(
            OutboxMessage.team_id == message.team_id,
            OutboxMessage.kind == "update",
            OutboxMessage.parent_key == message.parent_key,
            OutboxMessage.id > message.id,
        ).limit(1)
    ).first() is not None
