"""Benchmark: forecasting every KPI of a workspace that holds a year of 5-minute data, and one KPI's backtest.

    python bench/bench_forecast.py [--kpis N] [--rebuild]

Builds (once, cached in the temp folder) a real SQLite database through the migrations: every catalogue KPI with a
5-minute sample for 365 days (105,120 rows per KPI), generated inside SQLite, with the hourly and daily rollups
computed by storage.rollups.rebuild. Then, in one run, it times:

- baseline: reading one KPI's raw year of snapshots (storage.snapshots.series), what forecasting would cost per KPI
  without the rollups;
- forecast_all: every KPI's forecast with its goals' crossing dates (the budget: 1 s in total);
- outlook: the same plus on-track/at-risk for the end of the quarter;
- one KPI's rolling-origin backtest over its whole year (the budget: 5 s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from aurum.forecast import service  # noqa: E402
from aurum.forecast.backtest import backtest  # noqa: E402
from aurum.kpis.catalog import Kpi, load_catalog
from bot.compose import build_context  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage import rollups, snapshots  # noqa: E402
from storage.db import session_scope  # noqa: E402

TEAM = "T0BENCH"
DAYS = 365
STEP_SECONDS = 300
PER_KPI = DAYS * 86400 // STEP_SECONDS
FRESH_FOR = timedelta(days=7)  # rebuild the cached database when its data is older than this
GENERATE = text("""
WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < :n - 1)
INSERT INTO kpi_snapshot (team_id, kpi, value, at, source, created_at)
SELECT :team, :kpi,
       MIN(:cap, MAX(0.0, :start + :slope * i
                          + :daily * (((i / 12) % 24) >= 9 AND ((i / 12) % 24) < 18)
                          + :noise * ((random() % 10000) / 10000.0))),
       strftime('%Y-%m-%d %H:%M:%S.000000', :t0 + i * :step, 'unixepoch'), 'prometheus',
       strftime('%Y-%m-%d %H:%M:%S.000000', :t0 + i * :step, 'unixepoch')
FROM seq
""")


def _shape(kpi: Kpi) -> tuple[float, float, float]:
    """Start value, end value and noise of a year that moves from the baseline most of the way to the goal."""
    goal = kpi.goal if kpi.goal is not None else (kpi.target.nearest(0) if kpi.target else None)
    if goal is None:
        return 50.0, 55.0, 5.0
    start = kpi.baseline if kpi.baseline is not None else goal * (1.3 if kpi.direction == "lower" else 0.7) or 1.0
    end = start + (goal - start) * 0.8
    return start, end, max(abs(end - start) * 0.1, abs(end) * 0.02, 0.01)


def build(path: Path, kpis: list[Kpi], now: datetime) -> float:
    began = time.perf_counter()
    path.unlink(missing_ok=True)
    ctx = build_context(Settings(_env_file=None, database_url=f"sqlite:///{path}"))  # the real migrations
    t0 = int((now - timedelta(days=DAYS)).timestamp()) // STEP_SECONDS * STEP_SECONDS
    with session_scope(ctx.engine) as session:
        session.execute(text("PRAGMA cache_size = -262144"))  # 256 MB: index upkeep stays in memory
        for kpi in kpis:
            start, end, noise = _shape(kpi)
            session.execute(GENERATE, {
                "n": PER_KPI, "team": TEAM, "kpi": kpi.key, "start": start, "slope": (end - start) / PER_KPI,
                "daily": noise, "noise": noise, "cap": 100.0 if kpi.unit == "percent" else 1e12, "t0": t0,
                "step": STEP_SECONDS,
            })
        rollups.rebuild(session, TEAM)
    ctx.engine.dispose()
    return time.perf_counter() - began


class Timing:
    """Wall-clock and CPU seconds of repeated runs (CPU time shows the work when the machine is shared)."""

    def __init__(self, work, repeat: int):
        self.wall, self.cpu, self.result = [], [], None
        for _ in range(repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            self.result = work()
            self.wall.append(time.perf_counter() - wall)
            self.cpu.append(time.process_time() - cpu)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    def __str__(self) -> str:
        return (f"wall best {min(self.wall):6.3f} s, median {self.median:6.3f} s; "
                f"CPU median {statistics.median(self.cpu):6.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kpis", type=int, default=0, help="only the first N catalogue KPIs (default: all)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached database")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    catalog = load_catalog()
    kpis = list(catalog)[: args.kpis or None]
    now = datetime.now(UTC)
    path = Path(tempfile.gettempdir()) / f"aurum-bench-forecast-{len(kpis)}.db"
    ctx = None
    if path.exists() and not args.rebuild:
        ctx = build_context(Settings(_env_file=None, database_url=f"sqlite:///{path}"))
        with ctx.reading() as session:
            newest = snapshots.latest(session, TEAM, kpis[0].key)
        if newest is None or now - newest.at > FRESH_FOR:
            ctx.engine.dispose()
            ctx = None
    if ctx is None:
        print(f"building {path}: {len(kpis)} KPIs × {PER_KPI:,} five-minute samples …", flush=True)
        print(f"  built in {build(path, kpis, now):.1f} s (not part of the figures below)")
        ctx = build_context(Settings(_env_file=None, database_url=f"sqlite:///{path}"))

    with ctx.reading() as session:
        rows = session.execute(text("SELECT COUNT(*) FROM kpi_snapshot")).scalar_one()
        days = session.execute(text("SELECT COUNT(*) FROM kpi_day")).scalar_one()
    print(f"workspace: {len(kpis)} KPIs, {rows:,} snapshots (a year of 5-minute data each), {days:,} daily rollups")

    latency = catalog.get("api_response_time_p95")
    since = now - timedelta(days=DAYS + 1)

    def read_raw():
        with ctx.reading() as session:
            return snapshots.series(session, TEAM, latency.key, since)

    def read_rollups():
        with ctx.reading() as session:
            return service.load_all(session, TEAM, service.first_day(ctx))

    def forecast_all():
        with ctx.reading() as session:
            return service.forecast_all(ctx, session, TEAM, kpis)

    def outlook():
        with ctx.reading() as session:
            return service.outlook(ctx, session, TEAM, kpis=kpis)

    def backtest_one():
        with ctx.reading() as session:
            series = service.load_series(session, TEAM, latency.key, since_day=0)
        return backtest(series, service.bounds(latency))

    forecast_all()  # imports and first-use costs out of the way
    raw = Timing(read_raw, 3)
    daily = Timing(read_rollups, args.repeat)
    forecasts = Timing(forecast_all, args.repeat)
    outlooks = Timing(outlook, args.repeat)
    backtests = Timing(backtest_one, 3)
    available = sum(r.available for r in forecasts.result.values())
    score = backtests.result

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall times grow with it)")
    print(f"baseline  read one KPI's raw year ({len(raw.result):,} rows): {raw}")
    print(f"          read every KPI's daily rollups: {daily}")
    print(f"forecast  all {len(kpis)} KPIs ({available} with a forecast), goals and dates: {forecasts}")
    print(f"          = {forecasts.median / raw.median:.2f}× the time to read one KPI's raw series (budget: 1 s)")
    print(f"outlook   all {len(kpis)} KPIs for the end of the quarter: {outlooks}")
    print(f"backtest  {latency.name}, {score.origins} origins, {score.pairs:,} pairs: {backtests}")
    print(f"          coverage {score.coverage:.1f} %, MAPE {score.mape:.2f} % (budget: 5 s)")
    ctx.engine.dispose()


if __name__ == "__main__":
    main()
