"""Outbox repository: queued Slack calls, claimed by one worker at a time. Never commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlmodel import Session

from storage.models import OutboxMessage

CLAIM_FOR = timedelta(seconds=60)


def add(session: Session, message: OutboxMessage) -> OutboxMessage:
    session.add(message)
    session.flush()
    return message


def by_key(session: Session, team_id: str, key: str) -> OutboxMessage | None:
    return session.scalars(
        select(OutboxMessage).where(OutboxMessage.team_id == team_id, OutboxMessage.key == key)
    ).first()


def due_ids(session: Session, now: datetime, limit: int = 50) -> list[int]:
    """Pending rows whose time has come, and rows whose claim expired (their worker died mid-call)."""
    query = (
        select(OutboxMessage.id)
        .where(
            or_(
                (OutboxMessage.status == "pending") & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.status == "sending") & (OutboxMessage.claimed_until < now),
            )
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def claim(session: Session, message_id: int, now: datetime, claim_for: timedelta = CLAIM_FOR) -> OutboxMessage | None:
    """Atomically take a row for `claim_for` (after which a crashed worker's row is retried); None when another
    worker was first."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            or_(
                (OutboxMessage.status == "pending") & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.status == "sending") & (OutboxMessage.claimed_until < now),
            ),
        )
        .values(status="sending", claimed_until=now + claim_for, attempts=OutboxMessage.attempts + 1)
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
