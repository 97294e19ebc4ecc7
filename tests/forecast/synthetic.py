"""Synthetic KPI series with known truth, for calibration and crossing-date tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from aurum.forecast.series import Daily

START = datetime(2025, 1, 6, 9, tzinfo=UTC)  # a Monday, 09:00 UTC
KINDS = ("linear", "noisy_linear", "step", "flat", "weekly")
WEEKDAY_EFFECT = np.array([0.0, 0.0, 0.0, 0.0, 0.0, -30.0, -35.0])  # Monday first: quiet weekends


def values(kind: str, seed: int, days: int = 365) -> np.ndarray:
    """Daily values: latency-like series in ms (lower is better) unless noted."""
    rng = np.random.default_rng(seed)
    d = np.arange(days)
    if kind == "linear":  # a steady improvement with Gaussian noise
        return 350 - 0.4 * d + rng.normal(0, 8, days)
    if kind == "noisy_linear":  # the same trend under heavy-tailed noise (Student t, 3 degrees of freedom)
        return 350 - 0.4 * d + 25 * rng.standard_t(3, days)
    if kind == "step":  # a slow trend, then a release cuts 40 ms at 60 % of the way
        return 300 - 0.2 * d + np.where(d >= int(days * 0.6), -40.0, 0.0) + rng.normal(0, 6, days)
    if kind == "flat":  # a coverage-like percentage that does not move
        return 80 + rng.normal(0, 2, days)
    if kind == "weekly":  # a trend with quiet weekends
        return 300 - 0.3 * d + WEEKDAY_EFFECT[(d + START.weekday()) % 7] + rng.normal(0, 5, days)
    raise ValueError(kind)


def points(kind: str, seed: int, days: int = 365, end: datetime | None = None) -> list[tuple[datetime, float]]:
    """Daily points at 09:00 UTC from START, or ending on the day before `end`."""
    start = START
    if end is not None:
        start = datetime(end.year, end.month, end.day, 9, tzinfo=UTC) - timedelta(days=days)
    return [(start + timedelta(days=i), float(v)) for i, v in enumerate(values(kind, seed, days))]


def series(kind: str, seed: int, days: int = 365) -> Daily:
    return Daily.from_points(points(kind, seed, days))
