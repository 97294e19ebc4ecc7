"""What reports take from other capabilities (surveys, alerts, forecasts, releases), through small provider functions.

Each provider returns None until its capability is wired in here (an empty list then means "none", e.g. a quiet
sprint); on None the reports say that the input is not available yet instead of guessing. Keep the signatures:
reports call exactly these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from aurum.catalog import Kpi
from aurum.context import Context

NOT_AVAILABLE = "not available yet"


@dataclass(frozen=True)
class Score:
    question: str
    mean: float
    change: float | None = None  # against the previous run; None when hidden for anonymity or no previous run


@dataclass(frozen=True)
class SurveySummary:
    """Aggregates of one survey run, already filtered for anonymity by the survey module."""

    title: str
    closed_at: datetime
    responses: int
    response_rate: float | None  # percent
    scores: list[Score] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)  # free-text blockers, only when anonymity allows
    flags: list[str] = field(default_factory=list)  # e.g. "velocity satisfaction dropped by 1.2"


@dataclass(frozen=True)
class AlertSummary:
    rule: str
    severity: str  # "critical" | "warning" | …
    kpi: str | None
    started_at: datetime
    resolved_at: datetime | None
    summary: str


@dataclass(frozen=True)
class ReleaseSummary:
    deployments: int
    incidents: int


def survey_summary(ctx: Context, session: Session, team_id: str, since: datetime,
                   until: datetime) -> SurveySummary | None:
    """The latest team survey run closed in (since, until]."""
    return None


def survey_trend(ctx: Context, session: Session, team_id: str, since: datetime,
                 until: datetime) -> list[SurveySummary] | None:
    """Team survey runs closed in (since, until], oldest first."""
    return None


def stakeholder_summary(ctx: Context, session: Session, team_id: str, since: datetime,
                        until: datetime) -> SurveySummary | None:
    """The latest stakeholder feedback run closed in (since, until]."""
    return None


def alerts_raised(ctx: Context, session: Session, team_id: str, since: datetime,
                  until: datetime) -> list[AlertSummary] | None:
    """Alert episodes that started in (since, until]."""
    return None


def active_alerts(ctx: Context, session: Session, team_id: str) -> list[AlertSummary] | None:
    """Alert episodes firing now."""
    return None


def outlook(ctx: Context, session: Session, team_id: str, kpi: Kpi) -> str | None:
    """One sentence on when the KPI reaches its target at the current pace (forecasts)."""
    return None


def phase_outlook(ctx: Context, session: Session, team_id: str, phase: int) -> str | None:
    """One sentence on when a phase's success metrics are expected to be met (forecasts)."""
    return None


def releases(ctx: Context, session: Session, team_id: str, since: datetime, until: datetime) -> ReleaseSummary | None:
    """Deployments and incidents in (since, until], when deployment and incident events are collected."""
    return None
