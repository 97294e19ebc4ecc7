"""Repository of deployment and incident events pushed by CI. Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from storage.collection import DeploymentEvent, IncidentEvent


def upsert_deployment(session: Session, team_id: str, external_id: str, **fields) -> DeploymentEvent:
    row = session.scalars(select(DeploymentEvent).where(DeploymentEvent.team_id == team_id,
                                                        DeploymentEvent.external_id == external_id)).first()
    row = row or DeploymentEvent(team_id=team_id, external_id=external_id, **fields)
    for name, value in fields.items():
        setattr(row, name, value)
    session.add(row)
    session.flush()
    return row


def upsert_incident(session: Session, team_id: str, external_id: str, **fields) -> IncidentEvent:
    row = session.scalars(select(IncidentEvent).where(IncidentEvent.team_id == team_id,
                                                      IncidentEvent.external_id == external_id)).first()
    row = row or IncidentEvent(team_id=team_id, external_id=external_id, **fields)
    for name, value in fields.items():
        setattr(row, name, value)
    session.add(row)
    session.flush()
    return row


def deployments_since(session: Session, team_id: str, since: datetime, environment: str) -> list[DeploymentEvent]:
    return list(session.scalars(select(DeploymentEvent).where(
        DeploymentEvent.team_id == team_id, DeploymentEvent.at > since, DeploymentEvent.environment == environment
    ).order_by(DeploymentEvent.at)))


def incidents_since(session: Session, team_id: str, since: datetime) -> list[IncidentEvent]:
    return list(session.scalars(select(IncidentEvent).where(IncidentEvent.team_id == team_id,
                                                            IncidentEvent.created > since)))
