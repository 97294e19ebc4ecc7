"""Tables of the collectors and the push API: source health, sprints, deployment and incident events, API tokens.

Repositories for them live in storage/sources.py and storage/api_tokens.py; this module only declares tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


def _when(nullable: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable)


class SourceHealth(SQLModel, table=True):
    """One row per team and source: when it last worked, what last went wrong, when it runs next."""

    __tablename__ = "source_health"
    __table_args__ = (UniqueConstraint("team_id", "source", name="uq_source_health"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    source: str = Field(max_length=40)
    last_success_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    last_error_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    last_stored: int = 0
    next_run_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


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
    at: datetime = Field(sa_column=_when())
    commit_times: str = Field(default="[]", sa_column=Column(Text, nullable=False))  # JSON list of ISO times
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())


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
    created: datetime = Field(sa_column=_when())
    resolved: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    deployment_id: str | None = Field(default=None, max_length=120)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())


class ApiRequest(SQLModel, table=True):
    """An accepted push-API request by its Idempotency-Key: a retry gets the first answer, nothing is stored twice."""

    __tablename__ = "api_request"
    __table_args__ = (UniqueConstraint("team_id", "key", name="uq_api_request_key"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    key: str = Field(max_length=200)
    body_hash: str = Field(max_length=64)
    status: int = 200
    response: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())
