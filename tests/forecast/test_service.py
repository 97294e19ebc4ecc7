"""Forecasts from the database: rollups, the demo history, too little data, outlook and phases, the weekly job."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from aurum import demo
from aurum.config import AurumConfig
from aurum.core.jobs import JobRunner
from aurum.forecast import service, text
from aurum.forecast.accuracy import ACCURACY_KPI, JOB_MAX_ORIGINS, backtest_kpis
from aurum.forecast.series import Daily
from bot.jobs import compose_jobs
from storage import snapshots
from tests.forecast import synthetic
from tests.forecast.support import TEAM, store


def _days_before(ctx, days: int, hour: int = 9) -> datetime:
    now = ctx.now()
    return datetime(now.year, now.month, now.day, hour, tzinfo=UTC) - timedelta(days=days)


def test_rollups_read_back_the_same_series_as_the_raw_points(ctx):
    start = _days_before(ctx, 30, hour=0)
    dense = [(start + timedelta(minutes=5 * i), 300.0 + (i % 17) - 0.01 * i) for i in range(288 * 30)]
    store(ctx, "api_response_time_p95", dense)
    store(ctx, "api_response_time_p95", dense[:10], source="other")  # a second source on the same days
    with ctx.reading() as session:
        series = service.load_series(session, TEAM, "api_response_time_p95", since_day=0)
    expected = Daily.from_points(sorted(dense + dense[:10]))
    assert np.array_equal(series.day, expected.day) and np.array_equal(series.n, expected.n)
    assert np.allclose(series.y, expected.y) and np.allclose(series.t, expected.t)


def test_a_rewritten_value_updates_the_rollup(ctx):
    at = _days_before(ctx, 1)
    store(ctx, "test_coverage_percentage", [(at, 70.0), (at + timedelta(hours=1), 72.0)])
    store(ctx, "test_coverage_percentage", [(at, 80.0)])  # same KPI, source and time: replaced
    with ctx.reading() as session:
        series = service.load_series(session, TEAM, "test_coverage_percentage", since_day=0)
    assert list(series.n) == [2] and series.y[0] == pytest.approx(76.0)


def test_demo_history_gives_sensible_forecasts(ctx):
    with ctx.transaction() as session:
        demo.load(session, ctx.catalog, TEAM, ctx.now())
    with ctx.reading() as session:
        results = service.forecast_all(ctx, session, TEAM)
    assert all(r.available for r in results.values())  # 26 weeks of every KPI
    latency = results["api_response_time_p95"]
    target = service.target_crossing(latency)
    today = ctx.now().date()
    # 350 → 285 ms in 26 weeks is 2.5 ms a week: 85 ms more take about 34 weeks
    assert target.state == "expected" and today + timedelta(weeks=22) < target.date < today + timedelta(weeks=46)
    assert target.earliest <= target.date <= target.latest
    assert [c.goal.label for c in latency.crossings] == ["target", "phase 1 target", "final target"]
    phase1 = latency.crossings[1]
    assert phase1.goal.value == 250 and phase1.date < target.date
    assert text.card_line(latency).startswith(f"🔮 At this pace: 200 ms (target) around {text.day(target.date)}")
    velocity = results["story_points_completed_per_sprint"]  # one value per sprint: 14 values
    assert velocity.forecast.fit.points == 12 and velocity.forecast.fit.season is None
    for result in results.values():
        assert result.forecast.fit.season is None  # the demo has no weekday pattern: none is claimed
        lines = text.forecast_lines(result, ctx.tz)
        assert lines[0].startswith("*Trend:*") and lines[-1].startswith("80 % intervals from")


def test_too_little_data_says_what_is_missing(ctx):
    store(ctx, "api_response_time_p95", [(_days_before(ctx, d), 300.0 - d) for d in (3, 2, 1)])
    with ctx.reading() as session:
        result = service.forecast_kpi(ctx, session, TEAM, ctx.catalog.get("api_response_time_p95"))
        nothing = service.forecast_kpi(ctx, session, TEAM, ctx.catalog.get("ci_build_time_minutes"))
    assert not result.available and result.shortage.more_points == 5 and result.shortage.more_days == 12
    assert text.card_line(result) == ("🔮 Forecast: too little data yet — need values on 5 more days and 12 more "
                                      "days of history.")
    assert text.forecast_lines(result, ctx.tz)[0].startswith("Too little data to forecast: 3 days with data")
    assert not nothing.available and nothing.shortage is None and text.card_line(nothing) is None
    assert text.forecast_lines(nothing, ctx.tz) == [
        "No data yet, so nothing to forecast. Record values with `/kpi record build <value>`."]


def test_data_older_than_the_history_window_is_not_forecast(ctx):
    store(ctx, "ci_build_time_minutes", [(_days_before(ctx, 500 + d), 12.0) for d in range(30)])
    with ctx.reading() as session:
        result = service.forecast_kpi(ctx, session, TEAM, ctx.catalog.get("ci_build_time_minutes"))
    assert not result.available and result.latest == 12.0
    assert text.forecast_lines(result, ctx.tz) == ["No values in the last 400 days, so nothing recent to forecast."]


def test_estimate_on_a_date_and_percentages_stay_within_100(ctx):
    store(ctx, "api_documentation_coverage_percentage", [(_days_before(ctx, 60 - d), 75 + 0.4 * d) for d in range(60)])
    on = ctx.now().date() + timedelta(days=300)
    with ctx.reading() as session:
        result = service.forecast_kpi(ctx, session, TEAM, ctx.catalog.get("api_documentation_coverage_percentage"),
                                      on=on)
    assert result.on.on == on and result.on.value == 100.0 and result.on.high == 100.0
    assert service.target_crossing(result).state == "expected"  # >=100 % is reached, not overshot


def _linear(ctx, key: str, start: float, slope: float, days: int = 60, noise: float = 0.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    store(ctx, key, [(_days_before(ctx, days - d), start + slope * d + rng.normal(0, noise)) for d in range(days)])


def test_outlook_sorts_kpis_into_on_track_at_risk_and_off_track(ctx):
    _linear(ctx, "api_response_time_p95", 190, 0.0, noise=3)  # meets <200 and stays there
    _linear(ctx, "test_coverage_percentage", 70, 0.1, noise=1)  # about 79.7 % of >80 % by the deadline
    _linear(ctx, "incident_recovery_time_minutes", 45, 0.0, noise=1)  # flat at 45 min, target <30
    deadline = ctx.now().date() + timedelta(days=30)
    keys = ["api_response_time_p95", "test_coverage_percentage", "incident_recovery_time_minutes",
            "ci_build_time_minutes"]
    with ctx.reading() as session:
        found = service.outlook(ctx, session, TEAM, deadline=deadline, kpis=[ctx.catalog.get(k) for k in keys])
    assert [o.state for o in found] == ["on_track", "at_risk", "off_track", "unknown"]
    assert found[1].at_deadline.value < 80 < found[1].at_deadline.high
    label = service.quarter_label(deadline)
    assert text.outlook_summary(found) == (
        f"On track for the {label} target: 1 of 4 KPIs; at risk: Code coverage; off track: Mean time to recovery; "
        "no forecast yet: CI build time")


@pytest.mark.parametrize(("today", "end"), [
    (date(2026, 11, 28), date(2026, 12, 31)), (date(2027, 1, 1), date(2027, 3, 31)),
    (date(2027, 6, 30), date(2027, 6, 30)), (date(2027, 8, 2), date(2027, 9, 30)),
])
def test_quarter_end(today, end):
    assert service.quarter_end(today) == end


PHASE1 = {  # key: (start, slope per day); every metric meets its target by the end of 60 days except migration
    "dependency_conflicts": (0, 0.0), "dev_environment_setup_minutes": (1.5, 0.0),
    "monolithic_service_loc": (450, 0.0), "domain_services_count": (9, 0.0),
    "service_test_coverage_percentage": (90, 0.0), "dao_implementation_count": (10, 0.0),
    "api_migration_completion_percentage": (30.5, 1.0),  # 89.5 % yesterday: 100.5 % in 10 days
}


def test_phase_completes_when_its_last_metric_reaches_target(ctx):
    for key, (start, slope) in PHASE1.items():
        _linear(ctx, key, start, slope)
    with ctx.reading() as session:
        phases = {p.number: p for p in service.phase_outlook(ctx, session, TEAM)}
    phase = phases[1]
    migration = next(m for m in phase.metrics if m.kpi.key == "api_migration_completion_percentage")
    assert phase.state == "expected" and phase.date == service.target_crossing(migration).date
    assert phase.date == ctx.now().date() + timedelta(days=10) and phase.earliest == phase.latest == phase.date
    when = text.day(phase.date)  # noiseless data: a zero-width interval
    assert text.phase_line(phase) == f"*Phase 1: Foundation stabilization* — expected around {when}, 80 %: {when}"
    assert phases[2].state == "unknown" and "no completion date yet" in text.phase_line(phases[2])


def test_phase_is_done_when_every_metric_meets_target_and_unknown_without_data(ctx):
    for key, (start, _) in PHASE1.items():
        _linear(ctx, key, 100 if key == "api_migration_completion_percentage" else start, 0.0)
    with ctx.reading() as session:
        done = service.phase_outlook(ctx, session, TEAM)[0]
        with_gap = service.phase_outlook(ctx, session, "T0OTHER")[0]
    assert done.state == "done" and text.phase_line(done).endswith("every metric meets its target")
    assert with_gap.state == "unknown" and len(with_gap.waiting_for) == 7


def test_weekly_job_records_forecast_accuracy_as_a_kpi(ctx):
    for kind, key in (("linear", "api_response_time_p95"), ("flat", "test_coverage_percentage")):
        store(ctx, key, [(ctx.now() - timedelta(days=120) + timedelta(days=i), float(v))
                         for i, v in enumerate(synthetic.values(kind, 7, days=120))])
    assert "forecast_accuracy" in compose_jobs(AurumConfig())
    (outcome,) = JobRunner(ctx).run_now("forecast_accuracy", team_id=TEAM)
    with ctx.reading() as session:
        stored = snapshots.latest(session, TEAM, ACCURACY_KPI)
        report = backtest_kpis(ctx, session, TEAM, max_origins=JOB_MAX_ORIGINS)
    assert stored is not None and stored.source == "forecast backtest"
    assert stored.value == pytest.approx(round(report.overall.coverage, 2))
    assert outcome.result.startswith(f"forecast accuracy {report.accuracy:.1f}% (actuals inside the 90% intervals")
    assert outcome.result.endswith(f"over 2 KPIs; MAPE {report.mape:.1f}%")
    (again,) = JobRunner(ctx).run_now("forecast_accuracy", team_id=TEAM)
    assert again.result == "already ran"


def test_weekly_job_with_no_data(ctx):
    (outcome,) = JobRunner(ctx).run_now("forecast_accuracy", team_id=TEAM)
    assert outcome.result == "too little data to backtest yet"


def test_a_series_is_forecast_once_and_afresh_after_a_new_value(ctx):
    start = _days_before(ctx, 60)
    store(ctx, "test_coverage_percentage", [(start + timedelta(days=i), 60.0 + 0.2 * i) for i in range(59)])
    kpi = ctx.catalog.resolve("coverage")
    with ctx.reading() as session:
        first = service.forecast_kpi(ctx, session, TEAM, kpi)
        again = service.forecast_kpi(ctx, session, TEAM, kpi)
    assert first.forecast is not None
    assert again.forecast is first.forecast  # the same series: the memoised forecast, not a second replay
    store(ctx, "test_coverage_percentage", [(_days_before(ctx, 0, hour=0), 90.0)])
    with ctx.reading() as session:
        changed = service.forecast_kpi(ctx, session, TEAM, kpi)
    assert changed.forecast is not first.forecast
    assert changed.forecast.origin_day > first.forecast.origin_day  # made from the series with the new day
