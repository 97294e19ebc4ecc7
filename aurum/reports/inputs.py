"""What reports take from other capabilities (surveys, alerts, forecasts, releases), through small provider functions.

A provider returns None where its input does not exist (no survey run closed in the period, releases not tracked);
an empty list means "none", e.g. a quiet sprint. On None the reports say that the input is not available instead
of guessing. Reports call exactly these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from aurum.core.context import Context
from aurum.kpis import blocks, formatting
from aurum.kpis.catalog import Kpi
from storage import alerts as alerts_repo
from storage import surveys as surveys_repo

NOT_AVAILABLE = "not available yet"


@dataclass(frozen=True)
class Score:
    question: str
    mean: float
    change: float | None = None  # against the previous run; None when hidden for anonymity or no previous run
    top: int | None = None  # the scale's maximum (10 for 1–10)


@dataclass(frozen=True)
class SurveySummary:
    """Aggregates of one survey run, already filtered for anonymity by the survey module."""

    title: str
    period: str
    closed_at: datetime
    responses: int
    asked: int
    threshold: int  # below it nothing per question is shown (README "Surveys")
    response_rate: float | None  # percent
    scores: list[Score] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)  # free-text blockers, only when anonymity allows
    flags: list[str] = field(default_factory=list)  # e.g. "velocity satisfaction dropped by 1.2"

    @property
    def shown(self) -> bool:
        return self.responses >= self.threshold

    def answered_text(self) -> str:
        """`6 of 8 answered (75%)`: counts are always shown, they say how many answered, not who or what."""
        rate = f" ({formatting.number(self.response_rate)}%)" if self.response_rate is not None else ""
        return f"{self.responses} of {self.asked} answered{rate}"

    def scores_text(self) -> str:
        """`How satisfied …: 7.5/10 · How clear …: 6.17/10`, or why there is nothing to show."""
        if not self.shown:
            return f"scores hidden: fewer than {self.threshold} answers (anonymity)"
        return " · ".join(f"{blocks.escape(s.question)}: {formatting.number(s.mean)}"
                          + (f"/{s.top}" if s.top is not None else "") for s in self.scores) or "no rating given"

    def line(self) -> str:
        """`Team Satisfaction Survey 2026-W48 (6 of 8 answered (75%)): …` for a report's bullet."""
        return f"{blocks.escape(self.title)} {self.period} — {self.answered_text()}: {self.scores_text()}"


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
    runs = surveys_repo.closed_runs(session, team_id, "team", since=since, until=until, squad=ctx.squad)
    return _summary(ctx, session, runs[-1]) if runs else None


def survey_trend(ctx: Context, session: Session, team_id: str, since: datetime,
                 until: datetime) -> list[SurveySummary] | None:
    """Team survey runs closed in (since, until], oldest first."""
    runs = surveys_repo.closed_runs(session, team_id, "team", since=since, until=until, squad=ctx.squad)
    return [_summary(ctx, session, run) for run in runs] if runs else None


def stakeholder_summary(ctx: Context, session: Session, team_id: str, since: datetime,
                        until: datetime) -> SurveySummary | None:
    """The latest stakeholder feedback run closed in (since, until]."""
    runs = surveys_repo.closed_runs(session, team_id, "stakeholder", since=since, until=until, squad=ctx.squad)
    return _summary(ctx, session, runs[-1]) if runs else None


def alerts_raised(ctx: Context, session: Session, team_id: str, since: datetime,
                  until: datetime) -> list[AlertSummary] | None:
    """Alert episodes that started in (since, until]."""
    return [_alert(row) for row in alerts_repo.started_between(session, team_id, since, until)]


def active_alerts(ctx: Context, session: Session, team_id: str) -> list[AlertSummary] | None:
    """Alert episodes firing now."""
    return [_alert(row) for row in alerts_repo.firing(session, team_id)]


def outlook(ctx: Context, session: Session, team_id: str, kpi: Kpi) -> str | None:
    """One sentence on when the KPI reaches its target at the current pace (forecasts)."""
    # The forecast (NumPy) is imported by the process that makes reports, never by a web process that only acks.
    from aurum.forecast import service as forecasting
    from aurum.forecast import text as forecast_text

    return forecast_text.card_line(forecasting.forecast_kpi(ctx, session, team_id, kpi)) or None


def phase_outlook(ctx: Context, session: Session, team_id: str, phase: int) -> str | None:
    """One sentence on when a phase's success metrics are expected to be met (forecasts)."""
    from aurum.forecast import service as forecasting  # NumPy: see outlook()
    from aurum.forecast import text as forecast_text

    found = next((p for p in forecasting.phase_outlook(ctx, session, team_id) if p.number == phase), None)
    return forecast_text.phase_state(found) if found is not None else None


def releases(ctx: Context, session: Session, team_id: str, since: datetime, until: datetime) -> ReleaseSummary | None:
    """Deployments and incidents in (since, until], when deployment and incident events are collected."""
    return None


def _summary(ctx: Context, session: Session, run) -> SurveySummary:
    """A closed run's aggregates as the survey module publishes them: nothing per question below the threshold."""
    from aurum.surveys import results  # with the forecast's NumPy: see outlook()

    found = results.compute(ctx, session, run)
    scores = [Score(question=s.question.label, mean=s.mean, change=s.change, top=s.question.max)
              for s in found.scales] if found.shown else []
    asks_blockers = {q.label for q in found.survey.questions if q.blockers}
    # Never "what works well" as an impediment; sorted, since answers are stored in no order (anonymity).
    blockers = sorted(text for label, texts in found.comments if label.removesuffix(" — comments") in asks_blockers
                      for text in texts) if found.shown else []
    return SurveySummary(title=found.survey.name, period=run.period, closed_at=run.closed_at,
                         responses=found.responses, asked=found.asked, threshold=found.threshold,
                         response_rate=found.rate * 100 if found.rate is not None else None, scores=scores,
                         blockers=blockers, flags=list(found.flags))


def _alert(row) -> AlertSummary:
    return AlertSummary(rule=row.rule, severity=row.severity, kpi=row.kpi, started_at=row.started_at,
                        resolved_at=row.resolved_at, summary=row.summary)
