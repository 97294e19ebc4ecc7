"""Repositories of source health and Jira sprints. Never commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint, select
from sqlmodel import Field, Session, SQLModel, col

from storage.sprints import Sprint
from storage.types import DEFAULT_SQUAD, when_column


class SourceHealth(SQLModel, table=True):
    """One row per team and source: when it last worked, what last went wrong, when it runs next."""

    __tablename__ = "source_health"
    __table_args__ = (UniqueConstraint("team_id", "source", name="uq_source_health"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    source: str = Field(max_length=40)
    last_success_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))
    last_error_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    last_stored: int = 0
    next_run_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))


def health(session: Session, team_id: str, source: str) -> SourceHealth:
    row = session.scalars(select(SourceHealth).where(col(SourceHealth.team_id) == team_id,
                                                     col(SourceHealth.source) == source)).first()
    if row is None:
        row = SourceHealth(team_id=team_id, source=source)
        session.add(row)
    return row


def all_health(session: Session, team_id: str) -> dict[str, SourceHealth]:
    rows = session.scalars(select(SourceHealth).where(col(SourceHealth.team_id) == team_id))
    return {row.source: row for row in rows}


def succeeded(session: Session, team_id: str, source: str, at: datetime, stored: int, partial_error: str | None,
              next_run: datetime | None) -> SourceHealth:
    row = health(session, team_id, source)
    row.last_success_at, row.last_stored, row.next_run_at = at, stored, next_run
    if partial_error:
        row.last_error_at, row.last_error = at, partial_error
    session.add(row)
    return row


def failed(session: Session, team_id: str, source: str, at: datetime, error: str,
           next_run: datetime | None) -> SourceHealth:
    row = health(session, team_id, source)
    row.last_error_at, row.last_error, row.next_run_at = at, error, next_run
    session.add(row)
    return row


def upsert_sprint(session: Session, team_id: str, record: dict, squad: str = DEFAULT_SQUAD) -> Sprint:
    """Store a sprint seen in Jira in the shared sprint table (also written by `/sprint start|end`), for a team."""
    fields = {"board": record["board"], "external_id": record["sprint_id"], "name": record["name"],
              "state": record["state"], "start_at": record["start_at"], "end_at": record["end_at"],
              "completed_at": record["complete_at"], "committed_points": record["committed"],
              "completed_points": record["completed"], "source": "jira"}
    row = session.scalars(select(Sprint).where(col(Sprint.team_id) == team_id, col(Sprint.squad) == squad,
                                               col(Sprint.board) == fields["board"],
                                               Sprint.external_id == fields["external_id"])).first()
    if row is None:
        row = Sprint(team_id=team_id, squad=squad, **fields)
    else:
        for name, value in fields.items():
            setattr(row, name, value)
    session.add(row)
    return row


def sprints(session: Session, team_id: str, board: str | None = None) -> list[Sprint]:
    query = select(Sprint).where(col(Sprint.team_id) == team_id)
    if board is not None:
        query = query.where(col(Sprint.board) == board)
    return list(session.scalars(query.order_by(col(Sprint.start_at))))


def failing(row: SourceHealth | None) -> bool:
    """A source whose last attempt failed (its values are stale however recent they look)."""
    if row is None or row.last_error_at is None:
        return False
    return row.last_success_at is None or row.last_error_at > row.last_success_at
