"""A workspace's settings edited in Slack: the settings document (the config file's shape, as JSON) with a version
that every process compares to its own copy, and the log of each change. Never commits."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text, select
from sqlmodel import Field, Session, SQLModel, col

from storage.types import utcnow, when_column


class SettingsDocument(SQLModel, table=True):
    """The workspace's settings; absent until the first change (the config file is the seed until then)."""

    __tablename__ = "settings_document"
    team_id: str = Field(primary_key=True, max_length=32)
    document: str = Field(sa_column=Column(Text, nullable=False))  # JSON, the config file's shape
    version: int = 1  # raised by every change: processes rebuild their config when it differs from theirs
    updated_at: datetime = Field(default_factory=utcnow, sa_column=when_column())
    updated_by: str = Field(default="", max_length=32)


class SettingsChange(SQLModel, table=True):
    """One change of a setting: who, when, which path, before → after (JSON; null: not set)."""

    __tablename__ = "settings_change"
    __table_args__ = (Index("ix_settings_change_team_at", "team_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    at: datetime = Field(default_factory=utcnow, sa_column=when_column())
    user_id: str = Field(default="", max_length=32)
    path: str = Field(max_length=200)
    before: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    after: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


def version(session: Session, team_id: str) -> int | None:
    """The stored version (one indexed read), None when the workspace has no settings of its own."""
    query = select(col(SettingsDocument.version)).where(col(SettingsDocument.team_id) == team_id)
    return session.scalars(query).first()


def document(session: Session, team_id: str) -> tuple[int, dict[str, Any]] | None:
    row = session.get(SettingsDocument, team_id)
    return None if row is None else (row.version, json.loads(row.document))


def save(session: Session, team_id: str, data: dict[str, Any], user_id: str, at: datetime,
         changes: list[tuple[str, Any, Any]]) -> int:
    """Store the whole document and log each (path, before, after); returns the new version."""
    row = session.get(SettingsDocument, team_id)
    text = json.dumps(data, sort_keys=True)
    if row is None:
        row = SettingsDocument(team_id=team_id, document=text, version=1, updated_at=at, updated_by=user_id)
    else:
        row.document, row.version, row.updated_at, row.updated_by = text, row.version + 1, at, user_id
    session.add(row)
    for path, before, after in changes:
        session.add(SettingsChange(team_id=team_id, at=at, user_id=user_id, path=path[:200],
                                   before=None if before is None else json.dumps(before, sort_keys=True),
                                   after=None if after is None else json.dumps(after, sort_keys=True)))
    session.flush()
    return row.version


def recent_changes(session: Session, team_id: str, limit: int = 5) -> list[SettingsChange]:
    query = select(SettingsChange).where(col(SettingsChange.team_id) == team_id)
    return list(session.scalars(query.order_by(col(SettingsChange.at).desc(), col(SettingsChange.id).desc())
                                .limit(limit)))
