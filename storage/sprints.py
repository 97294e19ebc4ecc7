"""Sprint repository: the sprint table written by the Jira collector and by `/sprint start|end`. Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from storage.models import Sprint

CLOSED = "closed"
ACTIVE = "active"


def _closed_time():
    return func.coalesce(Sprint.completed_at, Sprint.end_at)


def active(session: Session, team_id: str) -> Sprint | None:
    """The newest active sprint."""
    query = select(Sprint).where(col(Sprint.team_id) == team_id, col(Sprint.state) == ACTIVE)
    return session.scalars(query.order_by(col(Sprint.start_at).desc(), col(Sprint.id).desc()).limit(1)).first()


def closed(session: Session, team_id: str, until: datetime | None = None, limit: int = 3) -> list[Sprint]:
    """Closed sprints, newest first, closed at or before `until`."""
    query = select(Sprint).where(col(Sprint.team_id) == team_id, col(Sprint.state) == CLOSED)
    if until is not None:
        query = query.where(_closed_time() <= until)
    return list(session.scalars(query.order_by(_closed_time().desc(), col(Sprint.id).desc()).limit(limit)))


def closed_between(session: Session, team_id: str, since: datetime, until: datetime) -> list[Sprint]:
    query = select(Sprint).where(col(Sprint.team_id) == team_id, col(Sprint.state) == CLOSED,
                                 _closed_time() > since, _closed_time() <= until)
    return list(session.scalars(query.order_by(_closed_time(), col(Sprint.id))))


def by_id(session: Session, team_id: str, sprint_id: int) -> Sprint | None:
    sprint = session.get(Sprint, sprint_id)
    return sprint if sprint is not None and sprint.team_id == team_id else None


def add(session: Session, sprint: Sprint) -> Sprint:
    session.add(sprint)
    session.flush()
    return sprint
