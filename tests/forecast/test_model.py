"""The trend model's parts against scipy's reference implementations and known series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from scipy import stats

from aurum.forecast.model import fit, kruskal_wallis, level_shift, theil_sen, weekday_effects
from aurum.forecast.series import Daily, weekday
from tests.forecast import synthetic


@pytest.mark.parametrize("seed", range(5))
def test_theil_sen_slope_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    u = np.sort(rng.choice(400, size=60, replace=False)).astype(float)
    y = 3.0 - 0.7 * u + rng.standard_t(2, 60) * 10
    assert theil_sen(u, y) == pytest.approx(stats.theilslopes(y, u).slope, rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_kruskal_wallis_matches_scipy_with_ties(seed):
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 12, 70).astype(float)  # many ties
    groups = np.arange(70) % 7
    counts = np.bincount(groups)
    expected = stats.kruskal(*(values[groups == g] for g in range(7))).pvalue
    assert kruskal_wallis(values, groups, counts) == pytest.approx(expected, rel=1e-9)


def test_weekday_pattern_is_found_where_it_exists_and_only_there():
    weekly = synthetic.series("weekly", 4, days=90)
    flat = synthetic.series("flat", 4, days=90)
    effects = weekday_effects(weekly.y - np.median(weekly.y) + 0.3 * (weekly.t - weekly.t[0]), weekly.t)
    assert effects is not None
    assert effects[5] < -20 and effects[6] < -20 and all(abs(e) < 12 for e in effects[:5])
    assert weekday_effects(flat.y - np.median(flat.y), flat.t) is None
    assert fit(weekly).season is not None and fit(flat).season is None


def test_weekday_counts_monday_first():
    monday = datetime(2026, 11, 23, 12, tzinfo=UTC).timestamp() / 86400
    assert list(weekday(np.array([monday + i for i in range(7)]))) == [0, 1, 2, 3, 4, 5, 6]


def test_level_shift_is_found_at_the_step_and_used_for_the_level():
    rng = np.random.default_rng(3)
    y = np.concatenate([300 + rng.normal(0, 5, 50), 250 + rng.normal(0, 5, 10)])
    assert level_shift(y - np.median(y)) == 50
    start = datetime(2026, 1, 1, 12, tzinfo=UTC)
    model = fit(Daily.from_points([(start + timedelta(days=i), float(v)) for i, v in enumerate(y)]))
    assert model.shift_at is not None and model.level == pytest.approx(250, abs=4)
    assert abs(model.slope) < 0.3


def test_no_level_shift_in_plain_noise():
    rng = np.random.default_rng(5)
    assert level_shift(rng.normal(0, 5, 90)) is None


def test_fit_uses_the_last_90_days_and_recovers_the_trend():
    model = fit(synthetic.series("linear", 1, days=200))
    assert model.points == 91 and model.origin - model.window_start == pytest.approx(90)
    assert model.slope == pytest.approx(-0.4, abs=0.05)
    assert model.time_of_day == pytest.approx(9 / 24)


def test_daily_buckets_sit_at_the_mean_time_of_their_points():
    start = datetime(2026, 5, 1, tzinfo=UTC)
    points = [(start + timedelta(minutes=5 * i), float(i)) for i in range(288 * 2)]
    series = Daily.from_points(points)
    assert list(series.n) == [288, 288]
    assert series.y[0] == pytest.approx(143.5) and series.y[1] == pytest.approx(288 + 143.5)
    assert series.t[0] % 1 == pytest.approx((143.5 * 5 * 60) / 86400)
