"""Repository of deployment and incident events pushed by CI. Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from storage.collection import DeploymentEvent, IncidentEvent


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
