"""Blockers and next-week commitments (`/blocker`, `/sprint commit`). Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, select
from sqlmodel import Field, Session, SQLModel, col

from storage.types import DEFAULT_SQUAD, SQUAD_DEFAULT, utcnow, when_column

BLOCKER = "blocker"
COMMITMENT = "commitment"


class TeamNote(SQLModel, table=True):
    """A `/blocker add` entry (kind "blocker") or a `/sprint commit` entry for next week (kind "commitment")."""

    __tablename__ = "team_note"
    __table_args__ = (Index("ix_team_note_open", "team_id", "squad", "kind", "done_at"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    squad: str = Field(default=DEFAULT_SQUAD, max_length=32, sa_column_kwargs=SQUAD_DEFAULT)
    kind: str = Field(max_length=20)
    text: str = Field(sa_column=Column(Text, nullable=False))
    author: str = Field(default="", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=when_column())
    done_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))
    done_by: str | None = Field(default=None, max_length=32)


def add(session: Session, team_id: str, kind: str, text: str, author: str, at: datetime,
        squad: str = DEFAULT_SQUAD) -> TeamNote:
    note = TeamNote(team_id=team_id, squad=squad, kind=kind, text=text, author=author, created_at=at)
    session.add(note)
    session.flush()
    return note


def open_notes(session: Session, team_id: str, kind: str, limit: int = 50,
               squad: str = DEFAULT_SQUAD) -> list[TeamNote]:
    query = select(TeamNote).where(col(TeamNote.team_id) == team_id, col(TeamNote.squad) == squad,
                                   col(TeamNote.kind) == kind,
                                   col(TeamNote.done_at).is_(None))
    return list(session.scalars(query.order_by(col(TeamNote.created_at), col(TeamNote.id)).limit(limit)))


def added_between(session: Session, team_id: str, kind: str, since: datetime, until: datetime,
                  limit: int = 50, squad: str = DEFAULT_SQUAD) -> list[TeamNote]:
    query = select(TeamNote).where(col(TeamNote.team_id) == team_id, col(TeamNote.squad) == squad,
                                   col(TeamNote.kind) == kind,
                                   col(TeamNote.created_at) > since, col(TeamNote.created_at) <= until)
    return list(session.scalars(query.order_by(col(TeamNote.created_at), col(TeamNote.id)).limit(limit)))


def close(session: Session, team_id: str, kind: str, note_id: int, by: str, at: datetime,
          squad: str = DEFAULT_SQUAD) -> TeamNote | None:
    """Mark an open note done; None when the team has no such open note."""
    note = session.get(TeamNote, note_id)
    if (note is None or note.team_id != team_id or note.squad != squad or note.kind != kind
            or note.done_at is not None):
        return None
    note.done_at, note.done_by = at, by
    session.add(note)
    return note


def of_kinds_between(session: Session, team_id: str, kinds: list[str], since: datetime, until: datetime,
                     limit: int = 50, squad: str = DEFAULT_SQUAD) -> list[TeamNote]:
    """Notes of any of `kinds` added in (since, until], oldest first."""
    query = select(TeamNote).where(col(TeamNote.team_id) == team_id, col(TeamNote.squad) == squad,
                                   col(TeamNote.kind).in_(kinds),
                                   col(TeamNote.created_at) > since, col(TeamNote.created_at) <= until)
    return list(session.scalars(query.order_by(col(TeamNote.created_at), col(TeamNote.id)).limit(limit)))


def find(session: Session, team_id: str, note_id: int, kinds: list[str]) -> TeamNote | None:
    note = session.get(TeamNote, note_id)
    return note if note is not None and note.team_id == team_id and note.kind in kinds else None


def delete(session: Session, note: TeamNote) -> None:
    session.delete(note)
    session.flush()
