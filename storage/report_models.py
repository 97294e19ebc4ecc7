"""Tables of reports and recognition: blockers, commitments, kudos, achievements, KPI crossings, live dashboards."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


def _when(nullable: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable)


class TeamNote(SQLModel, table=True):
    """A `/blocker add` entry (kind "blocker") or a `/sprint commit` entry for next week (kind "commitment")."""

    __tablename__ = "team_note"
    __table_args__ = (Index("ix_team_note_open", "team_id", "kind", "done_at"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    kind: str = Field(max_length=20)
    text: str = Field(sa_column=Column(Text, nullable=False))
    author: str = Field(default="", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    done_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    done_by: str | None = Field(default=None, max_length=32)


class Kudos(SQLModel, table=True):
    """One award from one person to another; `suggestion_key` makes a confirmed suggestion count once."""

    __tablename__ = "kudos"
    __table_args__ = (
        UniqueConstraint("team_id", "suggestion_key", name="uq_kudos_suggestion"),
        Index("ix_kudos_team_at", "team_id", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    giver: str = Field(max_length=32)
    receiver: str = Field(max_length=32)
    award: str = Field(max_length=40)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    suggestion_key: str | None = Field(default=None, max_length=120)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())


class Achievement(SQLModel, table=True):
    """A team achievement (Sprint Excellence, Release Success, Quality Milestone, Customer Impact, a KPI on target,
    a phase complete), recorded once per `key`."""

    __tablename__ = "achievement"
    __table_args__ = (
        UniqueConstraint("team_id", "key", name="uq_achievement_key"),
        Index("ix_achievement_team_at", "team_id", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    key: str = Field(max_length=160)
    kind: str = Field(max_length=40)
    title: str = Field(max_length=200)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))
    by: str = Field(default="", max_length=32)
    at: datetime = Field(default_factory=utcnow, sa_column=_when())


class KpiCrossing(SQLModel, table=True):
    """Whether a KPI currently meets a level (its target, its stretch goal, a whole phase): celebrate on each rise."""

    __tablename__ = "kpi_crossing"
    __table_args__ = (UniqueConstraint("team_id", "kpi", "level", name="uq_kpi_crossing"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    kpi: str = Field(max_length=80)
    level: str = Field(max_length=20)
    reached: bool = False
    crossings: int = 0
    changed_at: datetime = Field(default_factory=utcnow, sa_column=_when())


class LiveDashboard(SQLModel, table=True):
    """The one live technical dashboard of a channel, edited every minute until `until` or Stop."""

    __tablename__ = "live_dashboard"
    __table_args__ = (UniqueConstraint("team_id", "channel", name="uq_live_channel"),)
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    channel: str = Field(max_length=40)
    post_key: str = Field(max_length=200)
    started_by: str = Field(default="", max_length=32)
    started_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    until: datetime = Field(sa_column=_when())
    stopped_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    stopped_by: str | None = Field(default=None, max_length=32)
    last_hash: str = Field(default="", max_length=64)
