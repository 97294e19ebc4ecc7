"""Alert benchmarks: `python bench/bench_alerts.py` from the repository root.

1. Evaluating 200 rules on a new batch of snapshots (the listener inside the ingest transaction), against the
   cost of just storing the same batch, measured in the same run. Goal: evaluation ≤ 50 ms.
2. 1,000 alert transitions (500 firings + 500 resolutions over 50 rules in 50 channels) delivered through a fake
   Slack that allows one chat.postMessage per second per channel. Goal: nothing lost, nothing twice, < 60 s.
"""

from __future__ import annotations

import logging
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event  # noqa: E402

from aurum.alerts import evaluation  # noqa: E402
from aurum.config import parse_config  # noqa: E402
from aurum.core import ingest
from bot.compose import build_context, build_web  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage import snapshots  # noqa: E402
from storage.rollups import SnapshotBase  # noqa: E402

TEAM = "T0001"
RULES = 200
ROUNDS = 60
HISTORY_HOURS = 12


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:6.2f} ms, p95 {percentile(values, 95) * 1000:6.2f} ms"


@dataclass
class Timings:
    """Wall-clock and CPU seconds of one measured step, per batch, with the SQL statements it ran."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)

    @contextmanager
    def measure(self, counter: list[int]) -> Iterator[None]:
        counter[0] = 0
        wall, cpu = time.perf_counter(), time.process_time()
        yield
        self.wall.append(time.perf_counter() - wall)
        self.cpu.append(time.process_time() - cpu)
        self.statements.append(counter[0])

    def line(self, label: str) -> str:
        return (f"   {label:<34} wall {ms(self.wall)} | CPU {ms(self.cpu)} | "
                f"{statistics.median(self.statements):.0f} SQL statements (max {max(self.statements)})")


def bench_evaluation(folder: Path, flapping: float) -> tuple[Timings, Timings, Timings, float, int]:
    """`flapping`: the share of rules whose threshold sits right on their KPI's level (they change state often).

    Returns the timings of storing a batch (the baseline), of evaluating the rules on every batch, of evaluating on
    the batches that caused at least one transition, the mean transitions a batch and the batch size."""
    ctx = build_context(Settings(_env_file=None, database_url=f"sqlite:///{folder / f'eval-{flapping}.db'}"))
    statements = [0]
    event.listen(ctx.engine, "before_cursor_execute", lambda *_args: statements.__setitem__(0, statements[0] + 1))
    keys = [k.key for k in ctx.catalog if k.phase is None]
    rng = random.Random(7)
    level = {key: rng.uniform(10, 100) for key in keys}
    rules = {}
    for i in range(RULES):
        key = keys[i % len(keys)]
        near = rng.random() < flapping
        factor = rng.uniform(0.98, 1.02) if near else rng.choice([rng.uniform(1.2, 2.0), rng.uniform(0.3, 0.8)])
        rules[f"Bench{i:03d}"] = {"kpi": key, "op": ">" if near or factor > 1 else "<",
                                  "threshold": round(level[key] * factor, 2), "for": f"{rng.choice([0, 0, 5, 10])}m",
                                  "channels": ["#bench"], "chart": False, "max_age": "15m"}
    ctx.config = parse_config({"alerts": {"rules": {**{name: {"enabled": False} for name in ctx.config.alerts.rules},
                                                    **rules}}})
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    ctx.clock = lambda: now

    def batch(at: datetime) -> list[SnapshotBase]:
        return [SnapshotBase(kpi=k, value=level[k] * rng.uniform(0.95, 1.05), at=at, source="bench") for k in keys]

    history = [p for m in range(HISTORY_HOURS * 60, 0, -1) for p in batch(now - timedelta(minutes=m))]
    with ctx.transaction() as session:
        snapshots.add_many(session, TEAM, history)
    store, evaluate, with_transitions = Timings(), Timings(), Timings()
    transitions = 0
    for _ in range(ROUNDS):
        now += timedelta(minutes=1)
        points = batch(now)
        with store.measure(statements), ctx.transaction() as session:
            snapshots.add_many(session, "TBASELINE", points)
        with ctx.transaction() as session:
            snapshots.add_many(session, TEAM, points)
            session.flush()
            with evaluate.measure(statements):
                changes = evaluation.evaluate(ctx, session, TEAM, now, kpis={p.kpi for p in points})
                session.flush()  # the writes it caused (states, episodes, outbox rows) count too
        transitions += len(changes)
        if changes:
            with_transitions.wall.append(evaluate.wall[-1])
            with_transitions.cpu.append(evaluate.cpu[-1])
            with_transitions.statements.append(evaluate.statements[-1])
    ctx.engine.dispose()
    return store, evaluate, with_transitions, transitions / ROUNDS, len(keys)


def report_evaluation(folder: Path) -> None:
    store, quiet, _, _, size = bench_evaluation(folder, flapping=0.0)
    store_flapping, flapping, with_transitions, per_batch, _ = bench_evaluation(folder, flapping=0.05)
    baseline = statistics.median(store.cpu + store_flapping.cpu)
    print(f"1. {RULES} rules evaluated on each new batch of {size} snapshots ({ROUNDS} batches a "
          f"case, {HISTORY_HOURS} h of history), including the flush of what the evaluation writes. Goal <= 50 ms.")
    print(store.line("store the batch (baseline)"))
    print(quiet.line("evaluate, no transition"))
    print(flapping.line("evaluate, 5% of rules flapping"))
    print(with_transitions.line(f"  of which {len(with_transitions.cpu)} with transitions"))
    print(f"   ({per_batch:.1f} transitions a batch on average: pending, firing (episode + message), resolved "
          "(edit + thread reply), reset)")
    print(f"   CPU median / baseline CPU median: no transition {statistics.median(quiet.cpu) / baseline:.2f}x, "
          f"with transitions {statistics.median(with_transitions.cpu) / baseline:.2f}x")


def bench_delivery(folder: Path) -> None:
    from tests.fakes.slack_api import FakeSlack

    channels, cycles = 50, 10
    with FakeSlack() as fake:
        settings = Settings(_env_file=None, database_url=f"sqlite:///{folder / 'deliver.db'}",
                            slack_bot_token="xoxb-bench", slack_signing_secret="bench", slack_api_url=fake.base_url)
        runtime = build_web(settings, work_process=False)
        ctx = runtime.ctx
        kpis = {f"bench_kpi_{i:02d}": {"name": f"Bench KPI {i}", "category": "system", "unit": "count",
                                       "direction": "lower"} for i in range(channels)}
        from aurum.kpis.catalog import load_catalog

        ctx.catalog = load_catalog(kpis)
        rules = {f"Deliver{i:02d}": {"kpi": f"bench_kpi_{i:02d}", "op": ">", "threshold": 1, "chart": False,
                                     "channels": [f"#b-{i:02d}"], "max_age": "1d"} for i in range(channels)}
        ctx.config = parse_config({"alerts": {"rules": {**{n: {"enabled": False} for n in ctx.config.alerts.rules},
                                                        **rules}}})
        for i in range(channels):
            fake.add_channel(f"#b-{i:02d}")
        fake.rate_limit("chat.postMessage", per_channel_per_second=1)
        at = datetime.now(UTC) - timedelta(hours=1)
        transitions = 0
        for _cycle in range(cycles):
            for value in (5.0, 0.0):
                at += timedelta(seconds=30)
                ctx.clock = lambda at=at: at
                with ctx.transaction() as session:
                    ingest.store(ctx, session, TEAM, [SnapshotBase(kpi=k, value=value, at=at, source="bench")
                                                      for k in kpis])
                    transitions += channels
        ctx.clock = lambda: datetime.now(UTC)
        expected_posts = channels * cycles * 2  # each episode: its message and the resolution reply
        started = time.perf_counter()
        runtime.start_outbox(threads=4)
        deadline = started + 90
        while time.perf_counter() < deadline and len(fake.calls_to("chat.postMessage", failed=False)) < expected_posts:
            time.sleep(0.5)
        elapsed = time.perf_counter() - started
        time.sleep(1.0)  # anything arriving late would be a duplicate
        posts = fake.delivered_posts()
        keys = [(p.get("metadata") or {}).get("event_payload", {}).get("key") for p in posts]
        duplicates = len(keys) - len(set(keys))
        tops = [p for p in posts if not p.get("thread_ts")]
        resolved = sum(1 for p in tops if "resolved" in p["text"])
        rate_limited = len([c for c in fake.calls_to("chat.postMessage") if c.failed])
        runtime.shutdown()
    print(f"2. {transitions} transitions ({transitions // 2} firings + {transitions // 2} resolutions) over {channels}"
          " channels, fake Slack at 1 chat.postMessage/s per channel")
    print(f"   delivered {len(posts)}/{expected_posts} posts ({len(tops)} alert messages, {resolved} edited to "
          f"resolved, {len(posts) - len(tops)} thread replies) in {elapsed:.1f} s; duplicates = {duplicates};"
          f" 429s answered = {rate_limited}")
    print(f"   floor at 1 post/s/channel: {expected_posts / channels:.0f} s; achieved "
          f"{len(posts) / elapsed:.1f} posts/s ({len(posts) / elapsed / channels:.2f}/s per channel)")


def main() -> None:
    part = sys.argv[1] if len(sys.argv) > 1 else "all"
    if part not in ("all", "evaluation", "delivery"):
        raise SystemExit("usage: python bench/bench_alerts.py [evaluation|delivery]")
    logging.basicConfig(level=logging.ERROR)  # the 429 retries log warnings by design
    with tempfile.TemporaryDirectory() as folder:
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        if part in ("all", "evaluation"):
            report_evaluation(Path(folder))
        if part in ("all", "delivery"):
            bench_delivery(Path(folder))


if __name__ == "__main__":
    main()
