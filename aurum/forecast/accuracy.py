"""Forecast accuracy, checked by replaying history: per KPI and overall, the share of actuals inside the 80 %
interval and the MAPE; weekly, the overall accuracy becomes the `forecast_accuracy_percentage` KPI (phase 3).

Forecast accuracy = 100 − MAPE, the MAPE of each KPI capped at 100 % and averaged over the KPIs (each KPI counts
once, however dense its data). Coverage is pooled over all (forecast, actual) pairs; 80 % means calibrated.
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
JOB_MAX_ORIGINS = 20  # the weekly job replays this many origins per KPI at most (it runs inside its claim's
# write transaction, so it must stay short); the CLI replays every one


@dataclass
class Report:
    horizon_days: float
    per_kpi: dict[str, tuple[Kpi, Score]] = field(default_factory=dict)
    overall: Score = field(default_factory=Score)

    @property
    def accuracy(self) -> float | None:
        mapes = [min(score.mape, 100.0) for _, score in self.per_kpi.values() if score.mape is not None]
        return 100.0 - sum(mapes) / len(mapes) if mapes else None


def backtest_kpis(ctx: Context, session: Session, team_id: str, kpis: list[Kpi] | None = None,
                  horizon_days: float = HORIZON_DAYS, max_origins: int | None = None) -> Report:
    """Replay each KPI's whole history (KPIs with too little data are left out)."""
    series = load_all(session, team_id, since_day=0)
    chosen = kpis if kpis is not None else [k for k in ctx.catalog if k.key != ACCURACY_KPI]
    report = Report(horizon_days)
    for kpi in chosen:
        if kpi.key not in series:
            continue
        score = backtest(series[kpi.key], bounds(kpi), horizon_days, max_origins)
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
    coverage = report.overall.coverage
    return (f"forecast accuracy {accuracy:.1f}% over {len(report.per_kpi)} KPIs; "
            f"{coverage:.1f}% of actuals inside the 80% intervals")
