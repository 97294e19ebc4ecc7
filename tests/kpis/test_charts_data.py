"""A chart ends on the value its card shows, whatever wrote the value; its title and its forecast say how much data
there is."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aurum.core import ingest
from aurum.forecast import charts as forecast_charts
from aurum.forecast import service as forecasting
from aurum.kpis import service as kpis
from aurum.reports.sprints import VELOCITY
from storage.rollups import SnapshotBase
from tests.kpis.chart_data import NOW, SPRINT_END, TEAM, demo_workspace


def _views(ctx, key: str):
    with ctx.reading() as session:
        return [kpis.view(ctx, session, TEAM, ctx.catalog.get(key), period) for period in kpis.PERIODS]


def _ends(views) -> list[tuple[str, float, float]]:
    return [(v.period, v.points[-1][1], v.status.latest.value) for v in views]  # type: ignore[union-attr]


def test_after_sprint_end_the_velocity_chart_ends_on_the_cards_value_not_on_a_blend(ctx):
    demo_workspace(ctx)  # the demo closed a sprint with 52 points a minute before /sprint end 38
    views = _views(ctx, VELOCITY)
    assert _ends(views) == [(period, SPRINT_END, SPRINT_END) for period in kpis.PERIODS]
    assert [value for _, value in views[-1].points[-2:]] == [52.0, SPRINT_END]  # both sprints, neither averaged


def _write(ctx, value: float, at, source: str):
    return lambda session: ingest.store(ctx, session, TEAM, [SnapshotBase(kpi=VELOCITY, value=value, at=at,
                                                                          source=source)])


@pytest.mark.parametrize("name, write, shown", [
    ("/kpi record", lambda ctx: lambda s: kpis.record(ctx, s, TEAM, ctx.catalog.get(VELOCITY), 41.0), 41.0),
    ("a collector, at the same second", lambda ctx: _write(ctx, 47.0, NOW, "jira"), 47.0),
    ("a late value of an earlier sprint", lambda ctx: _write(ctx, 30.0, NOW - timedelta(days=9), "jira"),
     SPRINT_END),
    ("an earlier value re-pushed with a correction", lambda ctx: _write(ctx, 55.0, NOW - timedelta(minutes=1), "demo"),
     SPRINT_END),
])
def test_after_every_kind_of_write_the_chart_ends_on_the_cards_value(ctx, name, write, shown):
    demo_workspace(ctx)
    with ctx.transaction() as session:
        write(ctx)(session)
    assert _ends(_views(ctx, VELOCITY)) == [(period, shown, shown) for period in kpis.PERIODS], name


def test_up_to_400_points_come_as_stored_and_more_as_at_most_400_bucket_means(ctx):
    demo_workspace(ctx)  # latency every 6 hours: 28 points in 7d, 729 in the 26 weeks of 1y
    by_period = {v.period: v for v in _views(ctx, "api_response_time_p95")}
    with ctx.reading() as session:
        stored = kpis.series_since(session, TEAM, "api_response_time_p95", by_period["7d"].since)
    assert by_period["7d"].points == stored and len(stored) == 28
    assert 100 < len(by_period["1y"].points) <= 400  # 22-hour means over the half year with data


def test_a_year_of_half_a_year_of_data_says_so_and_projects_a_quarter(ctx):
    demo_workspace(ctx)
    (*_, year) = _views(ctx, "api_response_time_p95")
    with ctx.reading() as session:
        result = forecasting.forecast_kpi(ctx, session, TEAM, year.status.kpi)
    chart = forecast_charts.period_chart(ctx, year, result)
    assert chart.title == "API p95 response time, last 1y — data since 07 Jun 2026"
    data_days = (NOW - year.points[0][0]).days
    assert (chart.until - NOW.date()).days == data_days // 2  # the goal (July 2027) lies beyond that
    assert chart.title in chart.alt_text()
    assert year.points[-1][1] != 285 and "latest 285 ms on 06 Dec 2026" in chart.alt_text()  # the card's, not a mean
