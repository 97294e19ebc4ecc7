"""Deleting all of one workspace's data, from every table that has a team_id."""

from __future__ import annotations

from typing import cast

from sqlalchemy import CursorResult, Table, delete
from sqlmodel import Session, SQLModel

import storage.schema  # noqa: F401 - every table on the metadata, so that purge() sees them all

# Tables without a team_id column, each with the reason it needs none. A test fails for any other such table.
EXEMPT_TABLES = {
    "slack_oauth_states": "an OAuth state lives ten minutes and belongs to no workspace yet",
}


def team_tables() -> list[Table]:
    """Every table holding workspace data, children before parents (the order deletes must take)."""
    return [t for t in reversed(SQLModel.metadata.sorted_tables) if "team_id" in t.c]


def purge(session: Session, team_id: str) -> dict[str, int]:
    """Delete every row of a workspace from every table that has a team_id; returns rows deleted per table."""
    deleted: dict[str, int] = {}
    for table in team_tables():
        # A DELETE's result is a CursorResult (Session.execute is typed for any statement).
        result = cast(CursorResult, session.execute(delete(table).where(table.c.team_id == team_id)))
        deleted[table.name] = result.rowcount or 0
    return deleted
