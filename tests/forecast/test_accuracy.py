"""Forecast accuracy is the seed's share of actuals inside the forecast interval (90 % intervals), with the MAPE
beside it: on the demo history and on a series with known noise, the job records the coverage the backtest finds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aurum import demo
from aurum.core.jobs import JobRunner
from aurum.forecast.accuracy import ACCURACY_KPI, JOB_MAX_ORIGINS, backtest_kpis, summary
from aurum.forecast.backtest import backtest
from aurum.kpis import blocks
from commands.kpi import parse
from storage import snapshots
from tests.forecast import synthetic
from tests.forecast.support import TEAM, store


def _recorded(ctx):
    """Run the weekly job; (its outcome, the stored KPI value, the backtest the job made)."""
    (outcome,) = JobRunner(ctx).run_now("forecast_accuracy", team_id=TEAM)
    with ctx.reading() as session:
        stored = snapshots.latest(session, TEAM, ACCURACY_KPI)
        report = backtest_kpis(ctx, session, TEAM, max_origins=JOB_MAX_ORIGINS)
    assert stored is not None and stored.source == "forecast backtest"
    return outcome.result, stored.value, report


def test_on_the_demo_history_the_job_records_the_share_of_actuals_inside_the_90_percent_intervals(ctx):
    with ctx.transaction() as session:
        demo.load(session, ctx.catalog, TEAM, ctx.now())
    result, value, report = _recorded(ctx)
    coverage = report.overall.coverage
    assert value == pytest.approx(round(coverage, 2)) and report.accuracy == coverage
    assert 85.0 < value < 95.0  # calibrated 90 % intervals: the seed's >85 % is met, and honestly so
    assert report.level == 0.90 and report.overall.pairs > 10_000
    assert result == summary(report) and f"MAPE {report.mape:.1f}%" in result
    assert 100.0 - report.mape > 97.0  # 100 − MAPE would read ~98 %: it is reported beside, not recorded


@pytest.mark.parametrize("kind", ["linear", "noisy_linear"])
def test_on_a_series_with_known_noise_the_job_records_its_interval_coverage(ctx, kind):
    store(ctx, "api_response_time_p95", [(ctx.now() - timedelta(days=200) + timedelta(days=i), float(v))
                                         for i, v in enumerate(synthetic.values(kind, 5, days=200))])
    result, value, report = _recorded(ctx)
    (kpi, score), = report.per_kpi.values()
    assert kpi.key == "api_response_time_p95" and score.origins == JOB_MAX_ORIGINS
    assert value == pytest.approx(round(score.coverage, 2))
    assert 85.0 <= value <= 95.0, f"{kind}: {value:.1f} % inside the 90 % intervals"
    assert result.startswith(f"forecast accuracy {value:.1f}% (actuals inside the 90% intervals, {score.pairs} pairs)")


def test_the_80_percent_intervals_would_miss_the_target_by_construction():
    """Why 90 %: the forecasts' own 80 % intervals, calibrated, hold about 80 % of actuals — below >85 %."""
    eighty, ninety = (backtest(synthetic.series("linear", 1), max_origins=60, level=level) for level in (0.8, 0.9))
    assert eighty.coverage < 85.0 <= ninety.coverage <= 95.0


def test_kpi_help_defines_forecast_accuracy_as_the_interval_coverage(ctx):
    request = parse(ctx, "forecast_accuracy help")
    text = "\n".join(b["text"]["text"] for b in blocks.kpi_help(ctx.catalog, request.kpi))
    assert "share of the later actual values that fell inside their 90 % interval" in text
    assert "The MAPE is reported beside it" in text and "*Target:* >85%" in text
