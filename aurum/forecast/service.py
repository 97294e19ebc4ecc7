"""Forecasts of the KPIs of a workspace: from the daily rollups to answers the cards, the CLI, the weekly summary,
the executive dashboard and /roadmap share (one computation, so Slack and the CLI always agree).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal

import numpy as np
from sqlmodel import Session

from aurum.core.context import Context
from aurum.core.recent import Recent
from aurum.forecast.goals import Crossing, crossing, daily_path, goals
from aurum.forecast.intervals import Forecast, Replay, Shortage
from aurum.forecast.series import DAY_SECONDS, Daily, to_datetime
from aurum.kpis.catalog import Kpi
from aurum.kpis.charts import Projection
from storage import rollups, snapshots
from storage.types import DEFAULT_SQUAD

HISTORY_DAYS = 400  # enough for a 90-day window at each of the calibration origins of the last half year
UNBOUNDED_UNITS = {"score"}
PERCENT_UNITS = {"percent", "percent_per_hour"}
# Forecasts of recently seen daily series: a series changes at most once per write, while every /kpi card, Home tab
# and report asks for its forecast; the replayed calibration behind one costs tens of milliseconds.
FITS: Recent[Forecast | Shortage] = Recent(size=512)


@dataclass(frozen=True)
class Estimate:
    on: date
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class KpiForecast:
    kpi: Kpi
    latest: float | None  # the latest recorded value (what "met now" is judged on)
    forecast: Forecast | None
    shortage: Shortage | None  # too little data (None when there is a forecast or no data at all)
    crossings: list[Crossing] = field(default_factory=list)
    on: Estimate | None = None  # the expected value on a requested date

    @property
    def available(self) -> bool:
        return self.forecast is not None


def bounds(kpi: Kpi) -> tuple[float | None, float | None]:
    """Values a KPI cannot leave: percentages stay within 0–100, counts and durations stay non-negative."""
    if kpi.unit in UNBOUNDED_UNITS:
        return None, None
    return (0.0, 100.0) if kpi.unit in PERCENT_UNITS else (0.0, None)


def day_of(on: date, tz) -> int:
    """The UTC day whose bucket stands for a local date (the one holding its local noon)."""
    return int(datetime.combine(on, time(12), tz).timestamp() // DAY_SECONDS)


def estimate(forecast: Forecast, on: date, tz) -> Estimate:
    mean, low, high = forecast.predict(forecast.day_time(day_of(on, tz)))
    return Estimate(on, float(mean[0]), float(low[0]), float(high[0]))


def build(ctx: Context, kpi: Kpi, series: Daily, latest: float | None, on: date | None = None) -> KpiForecast:
    """The forecast of one KPI from its daily series; pure (no database), so every surface gets the same numbers."""
    if not len(series):
        return KpiForecast(kpi, latest, None, None)
    limits = bounds(kpi)
    result = FITS.get_or_make((limits, series.fingerprint()), lambda: Replay(series, limits).forecast())
    if isinstance(result, Shortage):
        return KpiForecast(kpi, latest, None, result)
    path = daily_path(result)
    found = [crossing(result, goal, latest, ctx.tz, path) for goal in goals(kpi, latest, ctx.config.current_phase)]
    return KpiForecast(kpi, latest, result, None, found, estimate(result, on, ctx.tz) if on else None)


def first_day(ctx: Context, days: int = HISTORY_DAYS) -> int:
    return int(ctx.now().timestamp() // DAY_SECONDS) - days


def load_series(session: Session, team_id: str, kpi: str, since_day: int, squad: str = DEFAULT_SQUAD) -> Daily:
    return Daily.from_rollups(r[1:] for r in rollups.rows(session, team_id, kpi, since_day, squad=squad))


def load_all(session: Session, team_id: str, since_day: int, squad: str = DEFAULT_SQUAD) -> dict[str, Daily]:
    grouped: dict[str, list[tuple[int, int, float, float]]] = defaultdict(list)
    for kpi, day, count, total, seconds in rollups.rows(session, team_id, since_day=since_day, squad=squad):
        grouped[kpi].append((day, count, total, seconds))
    return {kpi: Daily.from_rollups(rows) for kpi, rows in grouped.items()}


def forecast_kpi(ctx: Context, session: Session, team_id: str, kpi: Kpi, on: date | None = None) -> KpiForecast:
    row = snapshots.latest(session, team_id, kpi.key, squad=ctx.squad)
    series = load_series(session, team_id, kpi.key, first_day(ctx), ctx.squad)
    return build(ctx, kpi, series, row.value if row else None, on)


def forecast_all(ctx: Context, session: Session, team_id: str, kpis: list[Kpi] | None = None,
                 on: date | None = None) -> dict[str, KpiForecast]:
    """Every (or the given) KPI's forecast: two queries in all, then numpy."""
    latest = snapshots.latest_per_kpi(session, team_id, squad=ctx.squad)
    series = load_all(session, team_id, first_day(ctx), ctx.squad)
    chosen = kpis if kpis is not None else list(ctx.catalog)
    return {kpi.key: build(ctx, kpi, series.get(kpi.key, Daily.empty()),
                           latest[kpi.key].value if kpi.key in latest else None, on) for kpi in chosen}


def target_crossing(result: KpiForecast) -> Crossing | None:
    return next((c for c in result.crossings if c.goal.label.startswith("target")), None)


# --- outlook: on track for a deadline, phases' expected completion -------------------------------------------

OutlookState = Literal["on_track", "at_risk", "off_track", "unknown"]


@dataclass(frozen=True)
class KpiOutlook:
    """Whether a KPI is forecast to meet its target by a deadline.

    on track: the expected value on the deadline meets the target (at least an even chance);
    at risk: it does not, but the favourable end of the 80 % interval does (a 10–50 % chance);
    off track: not even that (under a 10 % chance); unknown: no data or too little to forecast.
    """

    kpi: Kpi
    state: OutlookState
    deadline: date
    at_deadline: Estimate | None
    target: Crossing | None
    forecast: KpiForecast


def quarter_end(today: date) -> date:
    last_month = ((today.month - 1) // 3 + 1) * 3
    if last_month == 12:
        return date(today.year, 12, 31)
    return date(today.year, last_month + 1, 1) - timedelta(days=1)


def quarter_label(day: date) -> str:
    return f"Q{(day.month - 1) // 3 + 1} {day.year}"


def classify(kpi: Kpi, at_deadline: Estimate) -> OutlookState:
    assert kpi.target is not None
    goal = goals(kpi, at_deadline.value, 1)[0]
    if goal.meets(np.array([at_deadline.value]))[0]:
        return "on_track"
    edges = np.array([at_deadline.low, at_deadline.high])
    return "at_risk" if goal.meets(edges).any() else "off_track"


def outlook(ctx: Context, session: Session, team_id: str, deadline: date | None = None,
            kpis: list[Kpi] | None = None) -> list[KpiOutlook]:
    """Every KPI with a target (or the given ones): on track / at risk / off track for the deadline (default:
    the end of the current quarter in the team's time zone)."""
    deadline = deadline or quarter_end(ctx.now().astimezone(ctx.tz).date())
    chosen = [k for k in (kpis if kpis is not None else list(ctx.catalog)) if k.target is not None]
    results = forecast_all(ctx, session, team_id, chosen, on=deadline)
    found = []
    for kpi in chosen:
        result = results[kpi.key]
        state: OutlookState = classify(kpi, result.on) if result.on is not None else "unknown"
        found.append(KpiOutlook(kpi, state, deadline, result.on, target_crossing(result), result))
    return found


PhaseState = Literal["done", "expected", "unreachable", "unknown"]


@dataclass(frozen=True)
class PhaseOutlook:
    """When all of a phase's metrics are forecast to meet their targets (the latest of their crossing dates)."""

    number: int
    name: str
    state: PhaseState
    date: date | None
    earliest: dt.date | None  # dt.date: the field `date` hides the type here
    latest: dt.date | None  # None with state "expected": some metric's 90 % date lies beyond two years
    waiting_for: list[Kpi]  # metrics without a forecast (unknown) or not reaching their target (unreachable)
    metrics: list[KpiForecast]


def phase_outlook(ctx: Context, session: Session, team_id: str) -> list[PhaseOutlook]:
    phases = [(p, [k for k in ctx.catalog.phase_metrics(p.number) if k.target is not None]) for p in ctx.catalog.phases]
    results = forecast_all(ctx, session, team_id, [k for _, ks in phases for k in ks])
    found = []
    for phase, kpis in phases:
        metrics = [results[k.key] for k in kpis]
        targets = [(m, target_crossing(m)) for m in metrics]
        unknown = [m.kpi for m, c in targets if c is None]
        unreachable = [m.kpi for m, c in targets if c is not None and c.state == "unreachable"]
        pending = [c for _, c in targets if c is not None and c.state == "expected"]
        if unknown or unreachable:
            state: PhaseState = "unknown" if unknown else "unreachable"
            found.append(PhaseOutlook(phase.number, phase.name, state, None, None, None, unknown + unreachable,
                                      metrics))
        elif not pending:
            found.append(PhaseOutlook(phase.number, phase.name, "done", None, None, None, [], metrics))
        else:
            latest = None if any(c.latest is None for c in pending) else max(c.latest for c in pending)  # type: ignore[type-var]
            found.append(PhaseOutlook(phase.number, phase.name, "expected", max(c.date for c in pending),  # type: ignore[type-var]
                                      max(c.earliest for c in pending), latest, [], metrics))  # type: ignore[type-var]
    return found


# --- charts ----------------------------------------------------------------------------------------------------

def projection(result: KpiForecast, until: date, tz) -> Projection | None:
    """The forecast from the last bucket to `until`, day by day, for charts.kpi_chart."""
    forecast = result.forecast
    if forecast is None:
        return None
    days = max(day_of(until, tz) - forecast.origin_day, 1)
    t = np.concatenate([[forecast.fit.origin], forecast.day_time(forecast.origin_day + np.arange(1, days + 1))])
    mean, low, high = forecast.predict(t)
    return Projection([to_datetime(x).astimezone(tz) for x in t], mean.tolist(), low.tolist(), high.tolist())


def chart_until(result: KpiForecast, today: date, days: int, stretch_to_goal_within: int) -> date:
    """How far a chart projects: `days` ahead, or to the next goal's expected date if that comes within
    `stretch_to_goal_within` days."""
    until = today + timedelta(days=days)
    pending = next((c for c in result.crossings if c.state == "expected"), None)
    if pending is not None and pending.date is not None and until < pending.date <= today + timedelta(
            days=stretch_to_goal_within):
        until = pending.date + timedelta(days=max(3, days // 10))
    return until
