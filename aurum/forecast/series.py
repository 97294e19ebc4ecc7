"""A KPI's history as daily buckets (UTC days): the resolution forecasts work at.

Dense data (5-minute Prometheus samples) becomes one mean per day; sparse data (a value per sprint) keeps one
bucket per recorded day. Each bucket sits at the mean time of its points, so a linear series stays exactly linear.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

DAY_SECONDS = 86400
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, eq=False)
class Daily:
    day: np.ndarray  # int64 UTC day numbers (days since 1970-01-01), increasing
    t: np.ndarray  # float days since the epoch: the mean time of the bucket's points
    y: np.ndarray  # mean value of the bucket
    n: np.ndarray  # number of points in the bucket

    def __len__(self) -> int:
        return len(self.day)

    def fingerprint(self) -> bytes:
        """A digest of the whole series: equal series, equal fingerprints (memoised forecasts are keyed by it)."""
        digest = hashlib.blake2b(digest_size=16)
        for column in (self.day, self.t, self.y, self.n):
            digest.update(np.ascontiguousarray(column).tobytes())
        return digest.digest()

    @classmethod
    def empty(cls) -> Daily:
        return cls(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0, np.int64))

    @classmethod
    def from_points(cls, points: Sequence[tuple[datetime, float]]) -> Daily:
        """Bucket raw (time, value) points the way storage.rollups rolls them up (whole seconds, UTC days)."""
        if not points:
            return cls.empty()
        epoch = np.fromiter((int(at.timestamp() // 1) for at, _ in points), dtype=np.int64, count=len(points))
        values = np.fromiter((v for _, v in points), dtype=float, count=len(points))
        days, index = np.unique(epoch // DAY_SECONDS, return_inverse=True)
        count = np.bincount(index)
        total = np.bincount(index, weights=values)
        seconds = np.bincount(index, weights=(epoch % DAY_SECONDS).astype(float))
        return cls._make(days, count, total, seconds)

    @classmethod
    def from_rollups(cls, rows: Iterable[tuple[int, int, float, float]]) -> Daily:
        """From (day, count, total, seconds) rows of the kpi_day table, in day order."""
        table = np.array(list(rows), dtype=float).reshape(-1, 4)
        if not len(table):
            return cls.empty()
        return cls._make(table[:, 0].astype(np.int64), table[:, 1].astype(np.int64), table[:, 2], table[:, 3])

    @classmethod
    def _make(cls, days: np.ndarray, count: np.ndarray, total: np.ndarray, seconds: np.ndarray) -> Daily:
        return cls(day=days, t=days + seconds / count / DAY_SECONDS, y=total / count, n=count)

    def head(self, last: int) -> Daily:
        """The buckets up to and including index `last`."""
        stop = last + 1
        return Daily(self.day[:stop], self.t[:stop], self.y[:stop], self.n[:stop])


def to_datetime(t: float) -> datetime:
    return EPOCH + timedelta(days=float(t))


def to_days(at: datetime) -> float:
    return at.timestamp() / DAY_SECONDS


def weekday(t: np.ndarray | float) -> np.ndarray:
    """Monday = 0 for days since 1970-01-01 (a Thursday)."""
    return ((np.floor(t).astype(np.int64) + 3) % 7)
