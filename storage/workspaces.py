"""Workspaces the bot serves (one in single-token mode, many with OAuth), and deleting one's data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col

from storage.types import utcnow, when_column

# The workspace of the local console (`aurum demo`) and of a CLI without Slack configured; its data is adopted by the
# real workspace when that is registered (storage.adopt).
CONSOLE_TEAM = "T0CONSOLE"


class Workspace(SQLModel, table=True):
    team_id: str = Field(primary_key=True, max_length=32)
    name: str = ""
    created_at: datetime = Field(default_factory=utcnow, sa_column=when_column())
    # Set when the app is uninstalled or its bot token revoked: scheduled jobs skip the workspace.
    uninstalled_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))
    # Single-token mode: the SHA-256 of the bot token that named this workspace (auth.test), so that the CLI knows
    # the token's workspace without asking Slack again. NULL for OAuth installs and the console workspace.
    token_sha256: str | None = Field(default=None, max_length=64, index=True)


def ensure(session: Session, team_id: str, name: str = "", token_sha256: str | None = None) -> Workspace:
    """Register a workspace, or bring back one that had uninstalled the app; `token_sha256`: the hash of the bot
    token that names it (single-token mode), remembered for `by_token`."""
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        try:
            with session.begin_nested():  # several processes may register the same workspace at once
                workspace = Workspace(team_id=team_id, name=name, token_sha256=token_sha256)
                session.add(workspace)
            return workspace
        except IntegrityError:
            workspace = session.get(Workspace, team_id, populate_existing=True)
            assert workspace is not None
    if name and workspace.name != name:
        workspace.name = name
    if token_sha256 and workspace.token_sha256 != token_sha256:
        workspace.token_sha256 = token_sha256
    workspace.uninstalled_at = None
    session.add(workspace)
    return workspace


def by_token(session: Session, token_sha256: str) -> str | None:
    """The workspace a bot token (by its SHA-256) was found to name, if auth.test ever said so."""
    query = select(col(Workspace.team_id)).where(col(Workspace.token_sha256) == token_sha256)
    return session.scalars(query.order_by(col(Workspace.created_at).desc()).limit(1)).first()


def get(session: Session, team_id: str) -> Workspace | None:
    return session.get(Workspace, team_id)


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


def listing(session: Session) -> list[Workspace]:
    """Every workspace with data, installed or not, by team id."""
    return list(session.scalars(select(Workspace).order_by(col(Workspace.team_id))))
