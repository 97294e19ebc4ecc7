"""Live dashboards: one per channel. Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from storage.report_models import LiveDashboard


def for_channel(session: Session, team_id: str, channel: str) -> LiveDashboard | None:
    return session.scalars(select(LiveDashboard).where(
        col(LiveDashboard.team_id) == team_id, col(LiveDashboard.channel) == channel)).first()


def active(session: Session, team_id: str) -> list[LiveDashboard]:
    query = select(LiveDashboard).where(col(LiveDashboard.team_id) == team_id, col(LiveDashboard.stopped_at).is_(None))
    return list(session.scalars(query.order_by(col(LiveDashboard.id))))


def by_id(session: Session, team_id: str, live_id: int) -> LiveDashboard | None:
    row = session.get(LiveDashboard, live_id)
    return row if row is not None and row.team_id == team_id else None


def count_active(session: Session, team_id: str, now: datetime) -> int:
    return sum(1 for row in active(session, team_id) if row.until > now)
