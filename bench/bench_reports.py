"""Weekly summary and executive dashboard from a year of data, chart included (target ≤ 2 s each).

A year of history: every KPI at its demo cadence (6-hourly for fast metrics, daily or per sprint for the rest), the
p95 latency every 5 minutes (~105,000 points), and the sprints behind the velocity. Each report is built cold (the
chart cache emptied first) RUNS times, interleaved with the baselines so that load on a shared machine hits all
alike; prints median and p95 of wall-clock and CPU time, and the ratio to baselines measured in the same run:
a plain matplotlib line chart to PNG (code the bot does not own: the machine's speed) and the KPI statuses query.

    python bench/bench_reports.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aurum import demo
from aurum.config import AurumConfig  # noqa: E402
from aurum.core.context import Context
from aurum.core.recent import Recent
from aurum.kpis import service as kpis
from aurum.kpis.catalog import load_catalog
from aurum.reports import charts as report_charts  # noqa: E402
from aurum.reports import executive, weekly  # noqa: E402
from storage import snapshots  # noqa: E402
from storage.db import make_engine  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.rollups import SnapshotBase  # noqa: E402
from storage.workspaces import ensure  # noqa: E402

TEAM = "TBENCH"
NOW = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
RUNS = 7


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


def reference_chart() -> bytes:
    """The machine's speed: a 1-axes line chart of 200 points to PNG, on matplotlib alone."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3.6), dpi=100)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.plot(range(200), [(i * 37) % 101 for i in range(200)], label="reference")
    ax.set_title("reference", loc="left")
    ax.legend(loc="upper left")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def measure(works: dict[str, Callable[[], object]], runs: int = RUNS) -> dict[str, tuple[list[float], list[float]]]:
    """Wall and CPU seconds of each work, `runs` rounds of all of them in turn, after one warm-up round."""
    for work in works.values():
        work()  # warm-up: imports, caches, the database's pages
    found: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in works}
    for _ in range(runs):
        for name, work in works.items():
            report_charts.CHARTS = Recent()  # cold: no chart drawn before
            wall, cpu = time.perf_counter(), time.process_time()
            work()
            found[name][0].append(time.perf_counter() - wall)
            found[name][1].append(time.process_time() - cpu)
    return found


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/bench.db")
        upgrade(engine)
        ctx = Context(engine=engine, seed_catalog=load_catalog(), seed_config=AurumConfig(), tz=UTC, clock=lambda: NOW)
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

        def statuses_only():
            with ctx.reading() as session:
                kpis.statuses(ctx, session, TEAM)

        found = measure({"weekly summary (with chart)": run_weekly, "executive dashboard (with chart)": run_exec,
                         "baseline: plain matplotlib chart": reference_chart,
                         "baseline: KPI statuses query": statuses_only})
        reference = statistics.median(found.pop("baseline: plain matplotlib chart")[1])
        query = statistics.median(found["baseline: KPI statuses query"][1])
        print(f"{'':34} {'wall median':>11} {'wall p95':>9} {'CPU median':>11} {'CPU p95':>9}   (ms, {RUNS} runs)")
        print(f"{'baseline: plain matplotlib chart':<34} {'':>11} {'':>9} {reference * 1000:11.0f}")
        for name, (walls, cpus) in found.items():
            cpu = statistics.median(cpus)
            ratios = f"= {cpu / reference:4.1f}× the plain chart"
            if not name.startswith("baseline"):
                ratios += f", {cpu / query:4.1f}× the statuses query"
                ratios += " — ok" if statistics.median(walls) <= 2.0 else " — OVER the 2 s budget"
            print(f"{name:<34} {statistics.median(walls) * 1000:11.0f} {p95(walls) * 1000:9.0f} "
                  f"{cpu * 1000:11.0f} {p95(cpus) * 1000:9.0f}   CPU {ratios}")
        engine.dispose()


if __name__ == "__main__":
    main()
