"""`/kpi latency 1y` over a year of 5-minute snapshots (~105,000 points): query, downsampling and chart, as
commands.kpi.show does them (without the outbox write). Prints p50/p95 against the 300 ms target, and the same
path over 30 days of the same data as the in-run baseline.

    python bench/bench_kpi_year.py [--runs 20] [--database sqlite:///...]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aurum import blocks, charts, kpis  # noqa: E402
from bot.runtime import build_context  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage import snapshots  # noqa: E402
from storage.models import SnapshotBase  # noqa: E402

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


def card(ctx, period: str) -> tuple[float, float]:
    """The work of `/kpi latency <period>` up to the outbox: one read transaction, the chart PNG, the card.
    Returns (wall ms, this process's CPU ms): the machine may be shared, and CPU time shows the code's own cost."""
    kpi = ctx.catalog.resolve("latency")
    started, cpu = time.perf_counter(), time.process_time()
    with ctx.reading() as session:
        view = kpis.view(ctx, session, TEAM, kpi, period)
    png = charts.kpi_chart(kpi, view.points, ctx.tz, f"{kpi.name}, last {period}")
    blocks.kpi_card(view.status, period, ctx.now(), ctx.tz, chart_note="📈 Chart in the thread")
    assert png.startswith(b"\x89PNG")
    return (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="aurum-bench-")
    url = args.database or f"sqlite:///{folder}/bench.db"
    ctx = build_context(Settings(_env_file=None, database_url=url))
    started = time.perf_counter()
    count = fill(ctx)
    print(f"stored {count:,} points (a year of 5-minute snapshots) in {time.perf_counter() - started:.1f} s")
    card(ctx, "1y")  # warm-up: imports matplotlib, fills caches
    with ctx.reading() as session:
        points = len(kpis.view(ctx, session, TEAM, ctx.catalog.resolve("latency"), "1y").points)
    year = [card(ctx, "1y") for _ in range(args.runs)]
    month = [card(ctx, "30d") for _ in range(args.runs)]
    for label, runs in (("1y", year), ("30d (baseline)", month)):
        wall, cpu = [w for w, _ in runs], [c for _, c in runs]
        print(f"/kpi latency {label}: wall p50 {statistics.median(wall):.0f} ms, p95 {percentile(wall, 0.95):.0f} ms; "
              f"CPU p50 {statistics.median(cpu):.0f} ms, p95 {percentile(cpu, 0.95):.0f} ms ({args.runs} runs)")
    p95 = percentile([w for w, _ in year], 0.95)
    ratio = p95 / percentile([w for w, _ in month], 0.95)
    print(f"1y chart from {points:,} bucket means; 1y/30d wall p95 ratio {ratio:.2f}; "
          f"target wall p95 ≤ {TARGET_MS:.0f} ms: {'met' if p95 <= TARGET_MS else 'MISSED'}; "
          f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    ctx.engine.dispose()


if __name__ == "__main__":
    main()
