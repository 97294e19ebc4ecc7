"""Prediction intervals from the errors of past forecasts (rolling origin, split-conformal style).

For a forecast made at bucket `o`, the model is refitted at earlier origins (the last bucket of each of the
previous CAL_ORIGINS fortnights); each later bucket up to `o` that those fits predicted gives an error in units of
that fit's own prediction-error scale, z = (actual − predicted) / (sigma · growth(horizon)) — normalised conformal
prediction. The 80 % quantile of |z| per horizon band, made never to shrink further ahead (weighted isotonic
regression) and interpolated between bands, times the forecast's own sigma · growth(horizon), is the half-width of
the 80 % interval around the expected value (the forecast accuracy's backtest asks for 90 %: `level`); beyond the
horizons the past errors cover, growth(horizon) keeps widening it. Only data up to `o` is used, so a backtest
replays exactly what the bot would have said then.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aurum.forecast.distributions import t_quantile
from aurum.forecast.model import Fit, fit
from aurum.forecast.series import Daily

LEVEL = 0.80
MIN_POINTS = 8  # buckets needed before any forecast ...
MIN_SPAN_DAYS = 14  # ... spanning at least two weeks
CAL_ORIGINS = 13  # past origins whose errors calibrate the interval, ...
CAL_STEP_DAYS = 14  # ... one every two weeks (the last bucket of each 14-day block)
CAL_HORIZON_DAYS = 182
BAND_EDGES = np.array([0.0, 2, 4, 8, 16, 32, 64, 128, np.inf])
MIN_BAND_SCORES = 20
MIN_SCORES = 12  # fewer past errors than this: a widened Student-t interval instead
FALLBACK_WIDEN = 1.5


@dataclass(frozen=True)
class Shortage:
    """Too little history: how many more buckets and days are needed."""

    points: int
    span_days: float
    more_points: int
    more_days: int


@dataclass(frozen=True)
class Calibration:
    horizons: np.ndarray  # band centres (days)
    low: np.ndarray  # lower end of the interval per band, in units of sigma
    high: np.ndarray  # upper end
    scores: int  # past forecast errors used
    fallback: bool  # True: too few past errors, Student-t widened by FALLBACK_WIDEN

    def quantiles(self, horizon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.log2(np.maximum(horizon, 0.5))
        centres = np.log2(np.maximum(self.horizons, 0.5))
        return np.interp(x, centres, self.low), np.interp(x, centres, self.high)


@dataclass(frozen=True)
class Forecast:
    fit: Fit
    calibration: Calibration
    origin_day: int
    bounds: tuple[float | None, float | None] = (None, None)

    def predict(self, t: np.ndarray | float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Expected daily mean and its interval (80 % unless the replay asked for another level) at times t (days
        since the epoch)."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        mean = self.fit.mean(t)
        horizon = t - self.fit.origin
        scale = self.fit.sigma * self.fit.growth(horizon)
        q_low, q_high = self.calibration.quantiles(horizon)
        low, high = mean + q_low * scale, mean + q_high * scale
        lo_bound, hi_bound = self.bounds
        if lo_bound is not None or hi_bound is not None:
            mean, low, high = (np.clip(a, lo_bound, hi_bound) for a in (mean, low, high))
        return mean, low, high

    def day_time(self, day: np.ndarray | int) -> np.ndarray:
        """When in a future UTC day its bucket is expected (the usual time of day of the data)."""
        return np.asarray(day, dtype=float) + self.fit.time_of_day


def shortage(series: Daily) -> Shortage | None:
    count = len(series)
    span = float(series.t[-1] - series.t[0]) if count else 0.0
    if count >= MIN_POINTS and span >= MIN_SPAN_DAYS:
        return None
    return Shortage(points=count, span_days=span, more_points=max(0, MIN_POINTS - count),
                    more_days=int(np.ceil(max(0.0, MIN_SPAN_DAYS - span))))


@dataclass
class Replay:
    """Fits and past-error scores of one series at any origin, memoised (a backtest reuses them)."""

    series: Daily
    bounds: tuple[float | None, float | None] = (None, None)
    level: float = LEVEL
    _fits: dict[int, Fit] = field(default_factory=dict)
    _scores: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)

    def sufficient(self, index: int) -> bool:
        return index + 1 >= MIN_POINTS and self.series.t[index] - self.series.t[0] >= MIN_SPAN_DAYS

    def fit_at(self, index: int) -> Fit:
        if index not in self._fits:
            self._fits[index] = fit(self.series.head(index))
        return self._fits[index]

    def _errors(self, origin: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(bucket index, horizon, normalised error) of every later bucket the fit at `origin` predicted."""
        if origin not in self._scores:
            model = self.fit_at(origin)
            t = self.series.t
            stop = int(np.searchsorted(t, t[origin] + CAL_HORIZON_DAYS, side="right"))
            later = np.arange(origin + 1, stop)
            tt = t[later]
            predicted = model.mean(tt)
            lo, hi = self.bounds
            if lo is not None or hi is not None:
                predicted = np.clip(predicted, lo, hi)
            z = (self.series.y[later] - predicted) / (model.sigma * model.growth(tt - t[origin]))
            self._scores[origin] = (later, tt - t[origin], z)
        return self._scores[origin]

    def calibration_origins(self, origin: int) -> list[int]:
        """The last bucket of each earlier 14-day block with enough history, newest CAL_ORIGINS of them."""
        block = self.series.day[: origin + 1] // CAL_STEP_DAYS
        ends = np.flatnonzero(block[:-1] != block[1:])
        return [int(i) for i in ends if self.sufficient(int(i))][-CAL_ORIGINS:]

    def calibrate(self, origin: int) -> Calibration:
        horizons, scores = [], []
        for past in self.calibration_origins(origin):
            index, h, z = self._errors(past)
            seen = int(np.searchsorted(index, origin, side="right"))
            horizons.append(h[:seen])
            scores.append(z[:seen])
        h = np.concatenate(horizons) if horizons else np.zeros(0)
        z = np.concatenate(scores) if scores else np.zeros(0)
        if len(z) < MIN_SCORES:
            return _student(self.fit_at(origin).points, len(z), self.level)
        return _banded(h, z, self.level)

    def forecast(self, origin: int | None = None) -> Forecast | Shortage:
        """The forecast made at bucket `origin` (default: the last one), or how much data it lacks."""
        origin = len(self.series) - 1 if origin is None else origin
        lacking = shortage(self.series.head(origin))
        if lacking is not None:
            return lacking
        return Forecast(fit=self.fit_at(origin), calibration=self.calibrate(origin),
                        origin_day=int(self.series.day[origin]), bounds=self.bounds)


def _quantile(size: np.ndarray, level: float = LEVEL) -> float:
    """Conformal order statistic: the ceil((m+1)·level)-th smallest of m sizes, so small samples do not
    under-cover."""
    m = len(size)
    rank = min(int(np.ceil((m + 1) * level)), m) - 1
    return float(np.partition(size, rank)[rank])


def _isotonic(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted least-squares non-decreasing fit (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [mean, weight, length]
    for value, weight in zip(values.tolist(), weights.tolist(), strict=True):
        blocks.append([value, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, n2 = blocks.pop()
            v1, w1, n1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    return np.repeat([b[0] for b in blocks], [int(b[2]) for b in blocks])


def _banded(h: np.ndarray, z: np.ndarray, level: float = LEVEL) -> Calibration:
    """The `level` (80 %) quantile of |z| per horizon band (a band with too few errors borrows its neighbours'), made to
    grow with the horizon by weighted isotonic regression, so noise in a small band is averaged with its
    neighbours rather than narrowing the interval further ahead."""
    band = np.searchsorted(BAND_EDGES, h, side="right") - 1
    bands = len(BAND_EDGES) - 1
    counts = np.bincount(band, minlength=bands)
    mean_h = np.bincount(band, weights=h, minlength=bands) / np.maximum(counts, 1)
    size = np.abs(z)[np.argsort(band, kind="stable")]
    starts = np.concatenate([[0], np.cumsum(counts)])
    present = np.flatnonzero(counts)
    widths = []
    for b in present:
        lo_b, hi_b = int(b), int(b)
        while starts[hi_b + 1] - starts[lo_b] < MIN_BAND_SCORES and (lo_b > 0 or hi_b < bands - 1):
            lo_b, hi_b = max(lo_b - 1, 0), min(hi_b + 1, bands - 1)
        widths.append(_quantile(size[starts[lo_b]:starts[hi_b + 1]], level))
    width = _isotonic(np.array(widths), counts[present].astype(float))
    return Calibration(horizons=mean_h[present], low=-width, high=width, scores=len(z), fallback=False)


def _student(points: int, scores: int, level: float = LEVEL) -> Calibration:
    q = t_quantile(max(points - 2, 1), (1 + level) / 2) * FALLBACK_WIDEN
    return Calibration(horizons=np.array([1.0]), low=np.array([-q]), high=np.array([q]), scores=scores,
                       fallback=True)
