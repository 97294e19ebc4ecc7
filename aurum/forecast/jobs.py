"""The forecasts' scheduled job: backtest every KPI's forecast weekly and record forecast accuracy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aurum.core.jobs import Job
from aurum.core.periods import week_key

if TYPE_CHECKING:
    from sqlmodel import Session

    from aurum.core.context import Context


def record_accuracy(ctx: Context, session: Session, team_id: str, period: str) -> str:
    # Imported when the job runs: the backtest's NumPy stays out of processes that only list the jobs (a web
    # process checks the configured schedules against their names).
    from aurum.forecast import accuracy

    return accuracy.record_accuracy(ctx, session, team_id, period)


def jobs() -> list[Job]:
    return [Job("forecast_accuracy", "Backtests the forecasts and records forecast accuracy (Mondays 06:00)",
                "0 6 * * 1", record_accuracy, period=week_key)]
