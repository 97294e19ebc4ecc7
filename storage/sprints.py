"""Sprint repository: the sprint table written by the Jira collector and by `/sprint start|end`. Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint, func, select
from sqlmodel import Field, Session, SQLModel, col

from storage.types import DEFAULT_SQUAD, SQUAD_DEFAULT, utcnow, when_column

CLOSED = "closed"
ACTIVE = "active"


class Sprint(SQLModel, table=True):
    """A sprint, from Jira's agile API (source "jira") or from `/sprint start|end` (source "manual")."""

    __tablename__ = "sprint"
    __table_args__ = (UniqueConstraint("team_id", "squad", "board", "external_id", name="uq_sprint"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    squad: str = Field(default=DEFAULT_SQUAD, max_length=32, sa_column_kwargs=SQUAD_DEFAULT)
    board: str = Field(default="", max_length=40)
    external_id: str = Field(max_length=80)
    name: str = Field(max_length=200)
    state: str = Field(default="active", max_length=12)  # future | active | closed
    goal: str = ""
    start_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))
    end_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))
    completed_at: datetime | None = Field(default=None, sa_column=when_column(nullable=True))
    committed_points: float | None = None
    completed_points: float | None = None
    source: str = Field(default="manual", max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_column=when_column())


def _closed_time():
    return func.coalesce(Sprint.completed_at, Sprint.end_at)


def active(session: Session, team_id: str, squad: str = DEFAULT_SQUAD) -> Sprint | None:
    """The newest active sprint."""
    query = select(Sprint).where(col(Sprint.team_id) == team_id, col(Sprint.squad) == squad,
                                 col(Sprint.state) == ACTIVE)
    return session.scalars(query.order_by(col(Sprint.start_at).desc(), col(Sprint.id).desc()).limit(1)).first()


def closed(session: Session, team_id: str, until: datetime | None = None, limit: int = 3,
           squad: str = DEFAULT_SQUAD) -> list[Sprint]:
    """Closed sprints, newest first, closed at or before `until`."""
    query = select(Sprint).where(col(Sprint.team_id) == team_id, col(Sprint.squad) == squad,
                                 col(Sprint.state) == CLOSED)
    if until is not None:
        query = query.where(_closed_time() <= until)
    return list(session.scalars(query.order_by(_closed_time().desc(), col(Sprint.id).desc()).limit(limit)))


def closed_between(session: Session, team_id: str, since: datetime, until: datetime,
                   squad: str = DEFAULT_SQUAD) -> list[Sprint]:
    query = select(Sprint).where(col(Sprint.team_id) == team_id, col(Sprint.squad) == squad,
                                 col(Sprint.state) == CLOSED, _closed_time() > since, _closed_time() <= until)
    return list(session.scalars(query.order_by(_closed_time(), col(Sprint.id))))


def by_id(session: Session, team_id: str, sprint_id: int, squad: str = DEFAULT_SQUAD) -> Sprint | None:
    sprint = session.get(Sprint, sprint_id)
    return sprint if sprint is not None and sprint.team_id == team_id and sprint.squad == squad else None


def add(session: Session, sprint: Sprint) -> Sprint:
    session.add(sprint)
    session.flush()
    return sprint
