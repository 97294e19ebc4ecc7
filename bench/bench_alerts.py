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
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aurum import ingest  # noqa: E402
from aurum.alerts import evaluation  # noqa: E402
from aurum.config import parse_config  # noqa: E402
from bot.runtime import build_context, build_runtime  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage import snapshots  # noqa: E402
from storage.models import SnapshotBase  # noqa: E402

TEAM = "T0001"
RULES = 200
ROUNDS = 60
HISTORY_HOURS = 12


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:6.2f} ms, p95 {percentile(values, 95) * 1000:6.2f} ms"


def bench_evaluation(folder: Path, flapping: float) -> None:
    """`flapping`: the share of rules whose threshold sits right on their KPI's level (they change state often)."""
    ctx = build_context(Settings(_env_file=None, database_url=f"sqlite:///{folder / f'eval-{flapping}.db'}"))
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
    store_only, evaluate_only, store_and_evaluate = [], [], []
    transitions = 0
    for _ in range(ROUNDS):
        now += timedelta(minutes=1)
        points = batch(now)
        started = time.perf_counter()
        with ctx.transaction() as session:
            snapshots.add_many(session, "TBASELINE", points)
        store_only.append(time.perf_counter() - started)

        started = time.perf_counter()
        with ctx.transaction() as session:
            snapshots.add_many(session, TEAM, points)
            before = time.perf_counter()
            transitions += len(evaluation.evaluate(ctx, session, TEAM, now, kpis={p.kpi for p in points}))
            evaluate_only.append(time.perf_counter() - before)
        store_and_evaluate.append(time.perf_counter() - started)
    ctx.engine.dispose()
    ratio = statistics.median(evaluate_only) / statistics.median(store_only)
    print(f"1. {RULES} rules on a batch of {len(keys)} snapshots, {flapping:.0%} of the rules on their threshold "
          f"({ROUNDS} rounds, {len(history):,} rows of history, {transitions / ROUNDS:.1f} transitions a batch)")
    print(f"   store the batch only (baseline):   {ms(store_only)}")
    print(f"   evaluate {RULES} rules:              {ms(evaluate_only)}   (goal <= 50 ms)")
    print(f"   store + evaluate in one commit:    {ms(store_and_evaluate)}")
    print(f"   evaluation / storing the batch:    {ratio:.2f}x")


def bench_delivery(folder: Path) -> None:
    from tests.fakes.slack_api import FakeSlack

    channels, cycles = 50, 10
    with FakeSlack() as fake:
        settings = Settings(_env_file=None, database_url=f"sqlite:///{folder / 'deliver.db'}",
                            slack_bot_token="xoxb-bench", slack_signing_secret="bench", slack_api_url=fake.base_url)
        runtime = build_runtime(settings)
        ctx = runtime.ctx
        kpis = {f"bench_kpi_{i:02d}": {"name": f"Bench KPI {i}", "category": "system", "unit": "count",
                                       "direction": "lower"} for i in range(channels)}
        from aurum.catalog import load_catalog

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
    logging.basicConfig(level=logging.ERROR)  # the 429 retries log warnings by design
    with tempfile.TemporaryDirectory() as folder:
        print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        bench_evaluation(Path(folder), flapping=0.0)
        bench_evaluation(Path(folder), flapping=0.05)
        bench_delivery(Path(folder))


if __name__ == "__main__":
    main()
