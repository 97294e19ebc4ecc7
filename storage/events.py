"""Repository of deployment and incident events pushed by CI. Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint, select
from sqlmodel import Field, Session, SQLModel, col

from storage.types import utcnow, when_column


class DeploymentEvent(SQLModel, table=True):
    """A deployment pushed by CI (POST /api/v1/deployments); DORA figures are computed from these rows."""

    __tablename__ = "deployment_event"
    __table_args__ = (
        UniqueConstraint("team_id", "external_id", name="uq_deployment_event"),
        Index("ix_deployment_event_at", "team_id", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    external_id: str = Field(max_length=120)
    environment: str = Field(default="production", max_length=80)
    status: str = Field(max_length=20)
    at: datetime = Field(sa_column=when_column())
    commit_times: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list of ISO times
    created_at: datetime = Field(default_factory=utcnow, sa_column=when_column())


class IncidentEvent(SQLModel, table=True):
    """An incident pushed by CI or an incident tool (POST /api/v1/incidents), for time to restore."""

    __tablename__ = "incident_event"
    __table_args__ = (
        UniqueConstraint("team_id", "external_id", name="uq_incident_event"),
        Index("ix_incident_event_created", "team_id", "created"),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    external_id: str = Field(max_length=120)
    created: datetime = Field(sa_column=when_column())
    resolved: datetime | None = Field(default=None, sa_column=when_column(nullable=True))
    deployment_id: str | None = Field(default=None, max_length=120)
    created_at: datetime = Field(default_factory=utcnow, sa_column=when_column())


def _upsert(session: Session, model, team_id: str, external_id: str, fields: dict):
    """The event with this id (a retry or an update, e.g. an incident's resolution), created when new."""
    row = session.scalars(select(model).where(model.team_id == team_id, model.external_id == external_id)).first()
    row = row or model(team_id=team_id, external_id=external_id, **fields)
    for name, value in fields.items():
        setattr(row, name, value)
    session.add(row)
    session.flush()
    return row


def upsert_deployment(session: Session, team_id: str, external_id: str, **fields) -> DeploymentEvent:
    return _upsert(session, DeploymentEvent, team_id, external_id, fields)


def upsert_incident(session: Session, team_id: str, external_id: str, **fields) -> IncidentEvent:
    return _upsert(session, IncidentEvent, team_id, external_id, fields)


def deployments_since(session: Session, team_id: str, since: datetime, environment: str) -> list[DeploymentEvent]:
    return list(session.scalars(select(DeploymentEvent).where(
        col(DeploymentEvent.team_id) == team_id, col(DeploymentEvent.at) > since,
        col(DeploymentEvent.environment) == environment
    ).order_by(col(DeploymentEvent.at))))


def incidents_since(session: Session, team_id: str, since: datetime) -> list[IncidentEvent]:
    return list(session.scalars(select(IncidentEvent).where(col(IncidentEvent.team_id) == team_id,
                                                            col(IncidentEvent.created) > since)))
