"""Column types shared by the tables."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Table
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, always hands back timezone-aware UTC datetimes (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# The squad (a team inside a workspace, aurum.squads) of the workspace's default team: every row written before
# teams existed, and every row that names no team, is the default team's.
DEFAULT_SQUAD = ""
# The squad column's arguments: rows written without one are the default team's.
SQUAD_DEFAULT = {"server_default": DEFAULT_SQUAD}


def when_column(nullable: bool = False, index: bool = False) -> Column:
    """A UTC time column (the Column object is new per table: SQLAlchemy binds each to one table)."""
    return Column(UTCDateTime(), nullable=nullable, index=index)


def utcnow() -> datetime:
    return datetime.now(UTC)


def table_of(model: type[SQLModel]) -> Table:
    """The Table of a table model, for Core statements."""
    # SQLAlchemy's declarative mapping sets __table__ on every table=True class; SQLModel does not declare it.
    return model.__table__  # type: ignore[attr-defined]
