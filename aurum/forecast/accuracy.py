"""Forecast accuracy, checked by replaying history: per KPI and overall, the share of actuals inside the forecast
interval and the MAPE; weekly, the overall share becomes the `forecast_accuracy_percentage` KPI (phase 3).

Forecast accuracy is the seed's "> 85 % within confidence intervals": the share of all (forecast, actual) pairs of
the backtest whose actual fell inside the forecast's 90 % interval. A 90 % interval is used because a calibrated
one covers about 90 % (85–95 % in the backtests of the demo data and of series with known noise), so the > 85 %
target is met by calibrated intervals and missed by overconfident ones; the 80 % intervals shown with forecasts
would cover about 80 % and miss it by construction. The MAPE (each KPI's capped at 100 %, averaged over the KPIs)
is reported beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from aurum.core import ingest
from aurum.core.context import Context
from aurum.forecast.backtest import HORIZON_DAYS, Score, backtest
from aurum.forecast.service import bounds, load_all
from aurum.kpis.catalog import Kpi
from storage.rollups import SnapshotBase

ACCURACY_KPI = "forecast_accuracy_percentage"
SOURCE = "forecast backtest"
ACCURACY_LEVEL = 0.90  # the interval whose coverage is the forecast accuracy (see above)
JOB_MAX_ORIGINS = 20  # the weekly job replays this many origins per KPI at most (it runs inside its claim's
# write transaction, so it must stay short); the CLI replays every one


@dataclass
class Report:
    horizon_days: float
    level: float = ACCURACY_LEVEL
    per_kpi: dict[str, tuple[Kpi, Score]] = field(default_factory=dict)
    overall: Score = field(default_factory=Score)

    @property
    def accuracy(self) -> float | None:
        """Forecast accuracy: the share of actuals inside the interval, pooled over every KPI's pairs."""
        return self.overall.coverage

    @property
    def mape(self) -> float | None:
        mapes = [min(score.mape, 100.0) for _, score in self.per_kpi.values() if score.mape is not None]
        return sum(mapes) / len(mapes) if mapes else None


def backtest_kpis(ctx: Context, session: Session, team_id: str, kpis: list[Kpi] | None = None,
                  horizon_days: float = HORIZON_DAYS, max_origins: int | None = None,
                  level: float = ACCURACY_LEVEL) -> Report:
    """Replay each KPI's whole history with `level` intervals (KPIs with too little data are left out)."""
    series = load_all(session, team_id, since_day=0)
    chosen = kpis if kpis is not None else [k for k in ctx.catalog if k.key != ACCURACY_KPI]
    report = Report(horizon_days, level)
    for kpi in chosen:
        if kpi.key not in series:
            continue
        score = backtest(series[kpi.key], bounds(kpi), horizon_days, max_origins, level)
        if score.pairs:
            report.per_kpi[kpi.key] = (kpi, score)
            report.overall.add(score)
    return report


def iso_week(local: datetime) -> str:
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def record_accuracy(ctx: Context, session: Session, team_id: str, period: str) -> str:
    """Weekly job: backtest every KPI and store the forecast accuracy as a snapshot."""
    report = backtest_kpis(ctx, session, team_id, max_origins=JOB_MAX_ORIGINS)
    accuracy = report.accuracy
    if accuracy is None:
        return "too little data to backtest yet"
    point = SnapshotBase(kpi=ACCURACY_KPI, value=round(accuracy, 2), at=ctx.now(), source=SOURCE)
    ingest.store(ctx, session, team_id, [point])
    return summary(report)


def summary(report: Report) -> str:
    """`forecast accuracy 90.6% (actuals inside the 90% intervals, 30144 pairs) over 58 KPIs; MAPE 2.2%`."""
    mape = f"{report.mape:.1f}%" if report.mape is not None else "—"
    return (f"forecast accuracy {report.accuracy:.1f}% (actuals inside the {report.level:.0%} intervals, "
            f"{report.overall.pairs} pairs) over {len(report.per_kpi)} KPIs; MAPE {mape}")
