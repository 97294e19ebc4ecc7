"""Each person's time zone as Slack gives it (users.info `tz`, an IANA name), cached per workspace, and its
repository. Never commits."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Field, Session, SQLModel, col

from storage.types import when_column


class PersonZone(SQLModel, table=True):
    """A person's time zone; `zone` NULL when Slack could not say (the team's zone applies)."""

    __tablename__ = "person_zone"
    team_id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(primary_key=True, max_length=32)
    zone: str | None = Field(default=None, max_length=64)
    checked_at: datetime = Field(sa_column=when_column())


def of(session: Session, team_id: str, users: Collection[str]) -> dict[str, PersonZone]:
    """The cached rows of these people, by user id."""
    query = select(PersonZone).where(col(PersonZone.team_id) == team_id, col(PersonZone.user_id).in_(list(users)))
    return {row.user_id: row for row in session.scalars(query)}


def remember(session: Session, team_id: str, user_id: str, zone: str | None, at: datetime) -> None:
    row = session.get(PersonZone, (team_id, user_id))
    if row is None:
        row = PersonZone(team_id=team_id, user_id=user_id, checked_at=at)
    row.zone, row.checked_at = zone, at
    session.add(row)
