"""The forecasts' scheduled job: backtest every KPI's forecast weekly and record forecast accuracy."""

from __future__ import annotations

from aurum.core.jobs import Job
from aurum.forecast.accuracy import iso_week, record_accuracy


def jobs() -> list[Job]:
    return [Job("forecast_accuracy", "Backtests the forecasts and records forecast accuracy (Mondays 06:00)",
                "0 6 * * 1", record_accuracy, period=iso_week)]
