"""Weekly summary and executive dashboard from a year of data, chart included (target ≤ 2 s each).

A year of history: every KPI at its demo cadence (6-hourly for fast metrics, daily or per sprint for the rest), the
p95 latency every 5 minutes (~105,000 points), and the sprints behind the velocity. Prints the median of 5 runs next
to baselines measured in the same run: the chart alone and the KPI statuses query alone.

    python bench/bench_reports.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aurum import demo, kpis  # noqa: E402
from aurum.catalog import load_catalog  # noqa: E402
from aurum.config import AurumConfig  # noqa: E402
from aurum.context import Context  # noqa: E402
from aurum.reports import executive, weekly  # noqa: E402
from storage import snapshots  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import SnapshotBase  # noqa: E402
from storage.workspaces import ensure  # noqa: E402

TEAM = "TBENCH"
NOW = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
RUNS = 5


def year_of_data(ctx: Context) -> int:
    demo.WEEKS = 52
    points = demo.history(ctx.catalog, NOW)
    start = NOW - timedelta(days=365)
    dense = [SnapshotBase(kpi="api_response_time_p95", value=285 + (i % 97) * 0.7, at=start + timedelta(minutes=5 * i),
                          source="prometheus") for i in range(365 * 288)]
    with ctx.transaction() as session:
        ensure(session, TEAM)
        for sprint in demo.sprints(points, NOW):
            sprint.team_id = TEAM
            session.add(sprint)
        for i in range(0, len(points), 20_000):
            snapshots.add_many(session, TEAM, points[i:i + 20_000])
        for i in range(0, len(dense), 20_000):
            snapshots.add_many(session, TEAM, dense[i:i + 20_000])
    return len(points) + len(dense)


def median_seconds(work, runs: int = RUNS) -> float:
    work()  # warm-up: imports, caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/bench.db")
        upgrade(engine)
        ctx = Context(engine=engine, catalog=load_catalog(), config=AurumConfig(), tz=UTC, clock=lambda: NOW)
        started = time.perf_counter()
        rows = year_of_data(ctx)
        print(f"loaded {rows:,} snapshots (a year) in {time.perf_counter() - started:.1f} s")

        def run_weekly():
            with ctx.reading() as session:
                report = weekly.build(ctx, session, TEAM)
            assert report.files[0].content.startswith(b"\x89PNG")

        def run_exec():
            with ctx.reading() as session:
                report = executive.build(ctx, session, TEAM)
            assert report.files[0].content.startswith(b"\x89PNG")

        def chart_only():
            with ctx.reading() as session:
                weekly.chart(ctx, session, TEAM, NOW)

        def statuses_only():
            with ctx.reading() as session:
                kpis.statuses(ctx, session, TEAM)

        results = {"weekly summary (with chart)": median_seconds(run_weekly),
                   "executive dashboard (with chart)": median_seconds(run_exec)}
        chart = median_seconds(chart_only)
        query = median_seconds(statuses_only)
        print(f"baseline: weekly chart alone        {chart * 1000:7.0f} ms (median of {RUNS})")
        print(f"baseline: KPI statuses query alone  {query * 1000:7.0f} ms (median of {RUNS})")
        for name, seconds in results.items():
            verdict = "ok" if seconds <= 2.0 else "OVER the 2 s budget"
            print(f"{name:<34} {seconds * 1000:7.0f} ms (median of {RUNS}) = {seconds / chart:.1f}× the chart alone,"
                  f" {seconds / query:.1f}× the statuses query — {verdict}")
        engine.dispose()


if __name__ == "__main__":
    main()
