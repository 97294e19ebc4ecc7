"""Rolling-origin backtest: forecast from each past bucket with only the data known then, compare with what came.

Reports the share of actuals inside the interval (coverage; 80 % intervals unless another level is asked for)
and the mean absolute percentage error (MAPE).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aurum.forecast.intervals import LEVEL, Forecast, Replay
from aurum.forecast.series import Daily

HORIZON_DAYS = 30
HORIZON_BANDS = ((0.0, 7.0, "1–7 days"), (7.0, 30.0, "8–30 days"), (30.0, 91.0, "31–91 days"),
                 (91.0, np.inf, "92+ days"))


@dataclass
class Score:
    """Counts that add up across KPIs: pairs (forecast, actual), inside the interval, absolute % errors."""

    origins: int = 0
    pairs: int = 0
    inside: int = 0
    ape_sum: float = 0.0
    ape_pairs: int = 0
    bands: dict[str, list[int]] = field(default_factory=dict)

    @property
    def coverage(self) -> float | None:
        return 100.0 * self.inside / self.pairs if self.pairs else None

    @property
    def mape(self) -> float | None:
        return 100.0 * self.ape_sum / self.ape_pairs if self.ape_pairs else None

    def add(self, other: Score) -> None:
        self.origins += other.origins
        self.pairs += other.pairs
        self.inside += other.inside
        self.ape_sum += other.ape_sum
        self.ape_pairs += other.ape_pairs
        for label, (inside, pairs) in other.bands.items():
            band = self.bands.setdefault(label, [0, 0])
            band[0] += inside
            band[1] += pairs


def eligible_origins(replay: Replay, horizon_days: float) -> list[int]:
    t = replay.series.t
    return [o for o in range(len(t) - 1) if replay.sufficient(o) and t[o + 1] - t[o] <= horizon_days]


def backtest(series: Daily, bounds: tuple[float | None, float | None] = (None, None),
             horizon_days: float = HORIZON_DAYS, max_origins: int | None = None, level: float = LEVEL) -> Score:
    replay = Replay(series, bounds, level)
    origins = eligible_origins(replay, horizon_days)
    if max_origins is not None and len(origins) > max_origins:
        picks = np.unique(np.linspace(0, len(origins) - 1, max_origins).round().astype(int))
        origins = [origins[i] for i in picks]
    score = Score()
    t, y = series.t, series.y
    for origin in origins:
        forecast = replay.forecast(origin)
        assert isinstance(forecast, Forecast)
        stop = int(np.searchsorted(t, t[origin] + horizon_days, side="right"))
        later = np.arange(origin + 1, stop)
        mean, low, high = forecast.predict(t[later])
        actual = y[later]
        tolerance = 1e-9 * np.maximum(1.0, np.abs(actual))
        inside = (actual >= low - tolerance) & (actual <= high + tolerance)
        score.origins += 1
        score.pairs += len(later)
        score.inside += int(inside.sum())
        nonzero = actual != 0
        score.ape_sum += float(np.sum(np.abs(actual[nonzero] - mean[nonzero]) / np.abs(actual[nonzero])))
        score.ape_pairs += int(nonzero.sum())
        horizon = t[later] - t[origin]
        for lo, hi, label in HORIZON_BANDS:
            chosen = (horizon > lo) & (horizon <= hi)
            if chosen.any():
                band = score.bands.setdefault(label, [0, 0])
                band[0] += int(inside[chosen].sum())
                band[1] += int(chosen.sum())
    return score
