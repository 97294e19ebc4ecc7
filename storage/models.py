"""Tables. Every row carries the Slack team id it belongs to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


def _when(nullable: bool = False, index: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable, index=index)


class Workspace(SQLModel, table=True):
    team_id: str = Field(primary_key=True, max_length=32)
    name: str = ""
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    # Set when the app is uninstalled or its bot token revoked: scheduled jobs skip the workspace.
    uninstalled_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class SnapshotBase(SQLModel):
    kpi: str = Field(max_length=80)
    value: float
    at: datetime = Field(sa_column=_when())
    source: str = Field(default="manual", max_length=80)


class KpiSnapshot(SnapshotBase, table=True):
    __tablename__ = "kpi_snapshot"
    __table_args__ = (
        UniqueConstraint("team_id", "kpi", "source", "at", name="uq_snapshot_point"),
        # Covers series reads (value included), so a year of points is read from the index alone.
        Index("ix_snapshot_team_kpi_at_value", "team_id", "kpi", "at", "value"),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())


class RollupBase(SQLModel):
    """One KPI's snapshots of one time bucket, summed up; kept in step with kpi_snapshot by storage.rollups."""

    team_id: str = Field(primary_key=True, max_length=32)
    kpi: str = Field(primary_key=True, max_length=80)
    count: int
    total: float  # sum of the values
    seconds: float  # sum of the points' seconds since the bucket's start (their mean is the bucket's mean time)
    low: float
    high: float


class KpiDay(RollupBase, table=True):
    """UTC days: forecasts read these instead of every raw point (a year of 5-minute data is 105,120 rows per
    KPI, but 365 days)."""

    __tablename__ = "kpi_day"
    day: int = Field(primary_key=True)  # days since 1970-01-01 UTC


class KpiHour(RollupBase, table=True):
    """Hours: charts of 30 days and more read these (a year is 8,760 rows per KPI), a few hours per point."""

    __tablename__ = "kpi_hour"
    __table_args__ = {"sqlite_with_rowid": False}  # stored in key order: a chart's hours are read in one pass
    hour: int = Field(primary_key=True)  # hours since 1970-01-01 UTC


class JobClaim(SQLModel, table=True):
    """At most one run of a job per team and period, across restarts and clock processes."""

    __tablename__ = "job_claim"
    __table_args__ = (UniqueConstraint("team_id", "job", "period", name="uq_job_period"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    job: str = Field(max_length=80)
    period: str = Field(max_length=80)
    status: str = Field(default="running", max_length=12)
    owner: str = Field(default="", max_length=120)
    claimed_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    finished_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    error: str | None = Field(default=None, sa_column=Column(Text))


class Sprint(SQLModel, table=True):
    """A sprint, from Jira's agile API (source "jira") or from `/sprint start|end` (source "manual")."""

    __tablename__ = "sprint"
    __table_args__ = (UniqueConstraint("team_id", "board", "external_id", name="uq_sprint"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    board: str = Field(default="", max_length=40)
    external_id: str = Field(max_length=80)
    name: str = Field(max_length=200)
    state: str = Field(default="active", max_length=12)  # future | active | closed
    goal: str = ""
    start_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    end_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    completed_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    committed_points: float | None = None
    completed_points: float | None = None
    source: str = Field(default="manual", max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())


# Tables declared in their own modules, imported here so that metadata (and Alembic) sees them all.
# Tables of other capabilities live in their own modules; importing them registers them on the metadata.
from storage import alerts as _alerts  # noqa: E402,F401
from storage import queue as _queue  # noqa: E402,F401
from storage.collection import (  # noqa: E402,F401
    ApiRequest,
    DeploymentEvent,
    IncidentEvent,
    SourceHealth,
)
from storage.survey_models import SurveyAnswer, SurveyRespondent, SurveyRun  # noqa: E402  (registers the tables)

__all__ = ["JobClaim", "KpiSnapshot", "SnapshotBase", "SurveyAnswer", "SurveyRespondent",
           "SurveyRun", "Workspace"]
from storage import api_tokens, installations  # noqa: E402, F401
from storage.report_models import Achievement, KpiCrossing, Kudos, LiveDashboard, TeamNote  # noqa: E402,F401
