"""`/kpi latency 1y` over a year of 5-minute snapshots (~105,000 points): query, downsampling and chart, as
commands.kpi.show does them (without the outbox write). Prints wall and CPU p50/p95 of the whole answer against the
300 ms target, next to baselines measured in the same run on the same data:

- raw year: the year's 105,120 snapshots read and averaged into the chart's points in Python, then the same chart
  (what the answer costs without the hourly rollups);
- 30d: the same path over 30 days;
- with forecast: the 1y answer plus what /kpi also shows, the forecast line and its projection in the chart.

    python bench/bench_kpi_year.py [--runs 15] [--database sqlite:///...]
"""

from __future__ import annotations

import argparse
import atexit
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aurum.forecast import service as forecasting  # noqa: E402
from aurum.kpis import blocks, charts
from aurum.kpis import service as kpis
from bot.compose import build_context  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage import snapshots  # noqa: E402
from storage.rollups import SnapshotBase  # noqa: E402

TEAM = "T0BENCH"
TARGET_MS = 300.0


def fill(ctx, days: int = 365, step_minutes: int = 5) -> int:
    now = ctx.now().replace(second=0, microsecond=0)
    count = days * 24 * 60 // step_minutes
    points = [SnapshotBase(kpi="api_response_time_p95", source="prometheus",
                           at=now - timedelta(minutes=step_minutes * i),
                           value=250 + 60 * math.sin(i / 288 * 2 * math.pi) + (i % 17))
              for i in range(count)]
    with ctx.transaction() as session:
        for start in range(0, len(points), 10_000):
            snapshots.add_many(session, TEAM, points[start:start + 10_000])
    if ctx.engine.dialect.name == "sqlite":  # a year-old database has long been checkpointed
        raw = ctx.engine.raw_connection()
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw.close()
    return count


def card(ctx, period: str, raw: bool = False, forecast: bool = False) -> tuple[float, float]:
    """The work of `/kpi latency <period>` up to the outbox: one read transaction, the chart PNG, the card.
    Returns (wall ms, this process's CPU ms): the machine may be shared, and CPU time shows the code's own cost."""
    kpi = ctx.catalog.resolve("latency")
    started, cpu = time.perf_counter(), time.process_time()
    projection = None
    with ctx.reading() as session:
        view = kpis.view(ctx, session, TEAM, kpi, period)
        if raw:  # the baseline: every snapshot of the period, averaged in Python
            points = snapshots.series(session, TEAM, kpi.key, since=ctx.now() - kpis.PERIODS[period])
            times, values = charts.downsample(points)
            view = kpis.KpiView(view.status, period, [(datetime.fromtimestamp(t, UTC), v)
                                                      for t, v in zip(times, values, strict=True)], view.since)
        if forecast:
            result = forecasting.forecast_kpi(ctx, session, TEAM, kpi)
    if forecast:
        days = kpis.PERIODS[period].days
        until = forecasting.chart_until(result, ctx.now().date(), max(days // 2, 7), days)
        projection = forecasting.projection(result, until, ctx.tz)
    png = charts.kpi_chart(kpi, view.points, ctx.tz, f"{kpi.name}, last {period}", forecast=projection)
    blocks.kpi_card(view.status, period, ctx.now(), ctx.tz, chart_note="📈 Chart in the thread")
    assert png.startswith(b"\x89PNG")
    return (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="aurum-bench-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # nothing left behind in the temp folder
    url = args.database or f"sqlite:///{folder}/bench.db"
    ctx = build_context(Settings(_env_file=None, database_url=url))
    started = time.perf_counter()
    count = fill(ctx)
    print(f"stored {count:,} points (a year of 5-minute snapshots) in {time.perf_counter() - started:.1f} s")
    card(ctx, "1y", forecast=True)  # warm-up: imports matplotlib, fills caches
    with ctx.reading() as session:
        points = len(kpis.view(ctx, session, TEAM, ctx.catalog.resolve("latency"), "1y").points)
    variants = {"1y": {"period": "1y"}, "1y raw year (baseline)": {"period": "1y", "raw": True},
                "30d": {"period": "30d"}, "1y with forecast": {"period": "1y", "forecast": True}}
    results: dict[str, list[tuple[float, float]]] = {label: [] for label in variants}
    for _ in range(args.runs):  # interleaved, so that a burst of load on a shared machine hits every variant
        for label, options in variants.items():
            results[label].append(card(ctx, **options))
    p95 = {}
    for label, runs in results.items():
        wall, cpu = [w for w, _ in runs], [c for _, c in runs]
        p95[label] = percentile(wall, 0.95), percentile(cpu, 0.95)
        print(f"/kpi latency {label}: wall p50 {statistics.median(wall):.0f} ms, p95 {p95[label][0]:.0f} ms; "
              f"CPU p50 {statistics.median(cpu):.0f} ms, p95 {p95[label][1]:.0f} ms ({args.runs} runs)")
    base = p95["1y raw year (baseline)"]
    print(f"1y chart from {points:,} points (whole hours from kpi_hour); 1y / raw-year baseline p95: "
          f"wall {p95['1y'][0] / base[0]:.2f}, CPU {p95['1y'][1] / base[1]:.2f}; "
          f"target wall p95 ≤ {TARGET_MS:.0f} ms: {'met' if p95['1y'][0] <= TARGET_MS else 'MISSED'} "
          f"(CPU p95 {p95['1y'][1]:.0f} ms); load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    ctx.engine.dispose()


if __name__ == "__main__":
    main()
