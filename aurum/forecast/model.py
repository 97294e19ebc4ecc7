"""The trend model of one KPI: Theil–Sen on the recent daily buckets, a level shift if the data shows one, and a
weekday pattern only where a Kruskal–Wallis test finds it.

Pure NumPy, no database: `fit(series)` gives a Fit whose `mean(t)` is the expected daily mean at time t
(days since the epoch), whose `sigma` is the robust spread of the residuals and whose `growth(u)` is the classical
shape of the prediction error's growth with the horizon (used beyond the horizons past errors can calibrate).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from aurum.forecast.distributions import chi2_survival
from aurum.forecast.series import Daily, weekday

WINDOW_DAYS = 90  # the "current trend": the last 90 days ...
MIN_WINDOW_POINTS = 12  # ... or the last 12 buckets when those span longer
MIN_SEGMENT = 3  # points on each side of a level shift
SHIFT_SIGMAS = 4.0  # a level shift must exceed this many SDs of the day-to-day noise
SEASON_P = 0.001  # Kruskal–Wallis p-value below which weekdays count as different
SEASON_MIN_POINTS = 21
SEASON_MIN_PER_DAY = 3
MAD_SD = 1.4826  # MAD → SD for normal data


@dataclass(frozen=True)
class Fit:
    origin: float  # time of the last bucket (days since the epoch)
    level: float  # trend value at the origin, without the weekday effect
    slope: float  # per day
    season: tuple[float, ...] | None  # effect per weekday (Monday first), mean zero
    sigma: float  # robust SD of the residuals
    n_level: int  # points that fix the level (after a level shift: those after it)
    u_mean: float  # mean time of the fitted buckets relative to the origin (days)
    sxx: float  # their sum of squares about u_mean
    window_start: float
    points: int
    shift_at: float | None  # time of the first bucket after a detected level shift
    time_of_day: float  # fraction of a day at which future buckets are expected (median of the window)

    def mean(self, t: np.ndarray | float) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        value = self.level + self.slope * (t - self.origin)
        if self.season is not None:
            value = value + np.asarray(self.season)[weekday(t)]
        return value

    def growth(self, u: np.ndarray | float) -> np.ndarray:
        """sqrt(1 + 1/n + (u − ū)²/Sxx): how the error of a linear extrapolation grows with the horizon u."""
        u = np.asarray(u, dtype=float)
        return np.sqrt(1.0 + 1.0 / self.n_level + (u - self.u_mean) ** 2 / self.sxx)


@lru_cache(maxsize=256)
def _pairs(n: int, split: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.triu_indices(n, 1)
    if split is not None:
        same = (j < split) | (i >= split)
        i, j = i[same], j[same]
    return i, j


def median(values: np.ndarray) -> float:
    """np.median without its per-call overhead (this runs thousands of times per backtest)."""
    n = len(values)
    half = n // 2
    if n % 2:
        return float(np.partition(values, half)[half])
    part = np.partition(values, (half - 1, half))
    return float(part[half - 1] + part[half]) / 2.0


def theil_sen(u: np.ndarray, y: np.ndarray, split: int | None = None) -> float:
    """Median of the pairwise slopes (u strictly increasing); with `split`, only pairs on one side of it."""
    i, j = _pairs(len(u), split)
    if not len(i):
        return 0.0
    slopes = y[j] - y[i]
    slopes /= u[j] - u[i]
    return median(slopes)


def _mad(values: np.ndarray) -> float:
    return median(np.abs(values - median(values)))


def _ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ranks from 1 with ties averaged, and the lengths of the runs of equal values (for the tie correction)."""
    n = len(values)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    lengths = np.diff(np.append(starts, n))
    ranks = np.empty(n)
    ranks[order] = np.repeat(starts + (lengths + 1) / 2.0, lengths)
    return ranks, lengths


def kruskal_wallis(values: np.ndarray, groups: np.ndarray, counts: np.ndarray) -> float:
    """p-value of the Kruskal–Wallis H test that `values` come from one distribution across the groups."""
    n = len(values)
    ranks, ties = _ranks(values)
    rank_sums = np.bincount(groups, weights=ranks, minlength=len(counts))
    h = 12.0 / (n * (n + 1)) * float(np.sum(rank_sums**2 / counts)) - 3.0 * (n + 1)
    correction = 1.0 - float(np.sum(ties**3 - ties)) / (n**3 - n)
    return chi2_survival(len(counts) - 1, h / correction) if correction > 0 else 1.0


def _group_medians(values: np.ndarray, groups: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Median of `values` per group 0..len(counts)-1 (every group non-empty)."""
    ordered = values[np.lexsort((values, groups))]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return (ordered[starts + (counts - 1) // 2] + ordered[starts + counts // 2]) / 2.0


def weekday_effects(residuals: np.ndarray, t: np.ndarray) -> tuple[float, ...] | None:
    """Weekday effects if the residuals differ by weekday (Kruskal–Wallis, p < SEASON_P), else None."""
    if len(residuals) < SEASON_MIN_POINTS:
        return None
    wd = weekday(t)
    counts = np.bincount(wd, minlength=7)
    if counts.min() < SEASON_MIN_PER_DAY or kruskal_wallis(residuals, wd, counts) >= SEASON_P:
        return None
    medians = _group_medians(residuals, wd, counts)
    return tuple(float(v) for v in medians - medians.mean())


def level_shift(residuals: np.ndarray) -> int | None:
    """Index of the first point after the largest level shift (CUSUM), if it stands out of the day-to-day noise."""
    n = len(residuals)
    if n < 2 * MIN_SEGMENT + 1:
        return None
    noise = MAD_SD * _mad(np.diff(residuals)) / np.sqrt(2.0)
    cusum = np.cumsum(residuals - residuals.mean())[MIN_SEGMENT - 1:n - MIN_SEGMENT]
    split = MIN_SEGMENT + int(np.argmax(np.abs(cusum)))
    jump = median(residuals[split:]) - median(residuals[:split])
    tiny = 1e-9 * max(1.0, float(np.abs(residuals).max()))
    return split if abs(jump) > SHIFT_SIGMAS * max(noise, tiny) else None


def window_start_index(series: Daily) -> int:
    start = int(np.searchsorted(series.t, series.t[-1] - WINDOW_DAYS))
    return max(0, min(start, len(series) - MIN_WINDOW_POINTS))


def fit(series: Daily) -> Fit:
    """Fit the trend to the recent buckets of a series (at least 3 of them, on distinct days)."""
    start = window_start_index(series)
    t, y = series.t[start:], series.y[start:]
    origin = float(t[-1])
    u = t - origin
    slope = theil_sen(u, y)
    level = median(y - slope * u)
    season = weekday_effects(y - level - slope * u, t)
    flat = y
    if season is not None:
        flat = y - np.asarray(season)[weekday(t)]
        slope = theil_sen(u, flat)
        level = median(flat - slope * u)
    shift = level_shift(flat - level - slope * u)
    if shift is None:
        residuals = flat - level - slope * u
        n_level, u_mean = len(u), float(u.mean())
        sxx = float(np.sum((u - u_mean) ** 2))
    else:
        slope = theil_sen(u, flat, split=shift)
        before, after = flat[:shift] - slope * u[:shift], flat[shift:] - slope * u[shift:]
        level = median(after)
        residuals = np.concatenate([before - median(before), after - level])
        n_level, u_mean = len(after), float(u[shift:].mean())
        sxx = float(np.sum((u[:shift] - u[:shift].mean()) ** 2) + np.sum((u[shift:] - u_mean) ** 2))
    parameters = 2 + (6 if season is not None else 0) + (1 if shift is not None else 0)
    sigma = MAD_SD * _mad(residuals)
    if sigma <= 0:  # more than half the residuals equal: fall back on the mean absolute deviation
        sigma = 1.2533 * float(np.mean(np.abs(residuals)))
    sigma = max(sigma * np.sqrt(len(u) / max(len(u) - parameters, 1)), 1e-9 * max(1.0, abs(level)))
    return Fit(
        origin=origin, level=level, slope=slope, season=season, sigma=float(sigma), n_level=n_level,
        u_mean=u_mean, sxx=max(sxx, 1e-12), window_start=float(t[0]), points=len(u),
        shift_at=float(t[shift]) if shift is not None else None, time_of_day=median(t - np.floor(t)),
    )
