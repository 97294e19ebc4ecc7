"""Workspaces the bot serves (one in single-token mode, many with OAuth), and deleting one's data."""

from __future__ import annotations

from typing import cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col

import storage.models  # noqa: F401 - every table on the metadata, so that purge() sees them all
from storage.models import Workspace
from storage.types import utcnow

# Tables without a team_id column, each with the reason it needs none. A test fails for any other such table.
EXEMPT_TABLES = {
    "slack_oauth_states": "an OAuth state lives ten minutes and belongs to no workspace yet",
}


def ensure(session: Session, team_id: str, name: str = "") -> Workspace:
    """Register a workspace, or bring back one that had uninstalled the app."""
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        try:
            with session.begin_nested():  # several processes may register the same workspace at once
                workspace = Workspace(team_id=team_id, name=name)
                session.add(workspace)
            return workspace
        except IntegrityError:
            workspace = session.get(Workspace, team_id, populate_existing=True)
            assert workspace is not None
    if name and workspace.name != name:
        workspace.name = name
    workspace.uninstalled_at = None
    session.add(workspace)
    return workspace


def mark_uninstalled(session: Session, team_id: str) -> None:
    workspace = session.get(Workspace, team_id)
    if workspace is not None and workspace.uninstalled_at is None:
        workspace.uninstalled_at = utcnow()
        session.add(workspace)


def all_team_ids(session: Session) -> list[str]:
    """The workspaces being served (installed ones)."""
    query = select(col(Workspace.team_id)).where(col(Workspace.uninstalled_at).is_(None))
    return list(session.scalars(query.order_by(Workspace.team_id)))


def known_team_ids(session: Session) -> list[str]:
    """Every workspace with data, installed or not."""
    return list(session.scalars(select(col(Workspace.team_id)).order_by(col(Workspace.team_id))))


def team_tables() -> list:
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
