"""Live dashboards: one per channel. Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint, select
from sqlmodel import Field, Session, SQLModel, col

from storage.types import utcnow, when_column


class LiveDashboard(SQLModel, table=True):
    """The one live technical dashboard of a channel, edited every minute until `until` or Stop."""

    __tablename__ = "live_dashboard"
    __table_args__ = (UniqueConstraint("team_id", "channel", name="uq_live_channel"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    channel: str = Field(max_length=40)
    post_key: str = Field(max_length=200)
    started_by: str = Field(default="", max_length=32)
    started_at: datetime = Field(default_factory=utcnow, sa_column=when_column())
    until: datetime = Field(sa_column=when_column())
    stopped_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))
    stopped_by: str | None = Field(default=None, max_length=32)
    last_hash: str = Field(default="", max_length=64)


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
