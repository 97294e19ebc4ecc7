"""Workspaces the bot serves (one in single-token mode, many with OAuth)."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from storage.models import Workspace


def ensure(session: Session, team_id: str, name: str = "") -> Workspace:
    workspace = session.get(Workspace, team_id)
    if workspace is None:
        workspace = Workspace(team_id=team_id, name=name)
        session.add(workspace)
        session.flush()
    elif name and workspace.name != name:
        workspace.name = name
    return workspace


def all_team_ids(session: Session) -> list[str]:
    return list(session.scalars(select(Workspace.team_id).order_by(Workspace.team_id)))
