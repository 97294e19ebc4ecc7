"""Survey benchmarks: `python bench/bench_survey.py [--database URL]` from the repository root.

1. Ack latency of `aurum serve` (real HTTP, signed requests sent by tests.loadgen from another process) under
   200 concurrent valid view submissions, each stored in its own transaction before the ack; baseline in the
   same run: 200 concurrent submissions that fail validation (the bare ack path: Bolt, no database). Measured
   at the client (end to end, what Slack waits for) and inside the bot (Bolt's dispatch until the ack).
2. Results of a run with 52 weeks × 200 people in the database (52 closed runs, 52,000 answer rows): compute the
   latest run's results (aggregates, change, 12-run trend, comments, themes). Goal: ≤ 500 ms. Baseline: reading
   that run's answer rows alone. The trend chart is timed separately.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select, update  # noqa: E402

from aurum.surveys import results, runs  # noqa: E402
from aurum.surveys.blocks import results_message  # noqa: E402
from bot.compose import build_context, build_web  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.web import create_web_app  # noqa: E402
from storage import surveys as repo  # noqa: E402
from storage.surveys import (
    SurveyAnswer,
    SurveyRespondent,
    SurveyRun,  # noqa: E402
)
from tests.fakes.slack_api import FakeSlack  # noqa: E402
from tests.support import BOT_TOKEN, SIGNING_SECRET, running  # noqa: E402
from tests.surveys.support import TEAM_ANSWERS, seed_run, send_concurrently, view_submission  # noqa: E402

TEAM = "T0001"
CONCURRENT = 200
WEEKS, PEOPLE = 52, 200
GOAL_MS = 500
BLOCKERS = ["flaky CI", "slow code review", "unclear requirements", "too many meetings", "waiting for review",
            "flaky tests in CI", "", "", "", "dependency conflicts"]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def line(label: str, seconds: list[float]) -> str:
    return (f"  {label:<36} p50 {pct(seconds, 50) * 1000:7.1f} ms   p99 {pct(seconds, 99) * 1000:7.1f} ms   "
            f"max {max(seconds) * 1000:7.1f} ms")


def timed_dispatch(runtime) -> list[float]:
    """Record how long Bolt takes from dispatch to ack (Bolt answers 404 when that passes 3 s)."""
    durations: list[float] = []
    lock = threading.Lock()
    dispatch = runtime.app.dispatch

    def timed(request):
        started = time.perf_counter()
        try:
            return dispatch(request)
        finally:
            with lock:
                durations.append(time.perf_counter() - started)

    runtime.app.dispatch = timed
    return durations


def bench_ack(database_url: str, folder: Path) -> None:
    with FakeSlack() as fake:
        settings = Settings(_env_file=None, database_url=database_url, slack_bot_token=BOT_TOKEN,
                            slack_signing_secret=SIGNING_SECRET, slack_api_url=fake.base_url,
                            aurum_chart_dir=folder / "charts")
        runtime = build_web(settings, work_process=False)
        dispatched = timed_dispatch(runtime)
        with running(create_web_app(runtime)) as server:
            people = [f"U{i:04d}" for i in range(3 * CONCURRENT)]
            run = seed_run(runtime.ctx, TEAM, people)
            survey = runtime.ctx.config.surveys.survey("team")
            bad = [view_submission(survey, run.id, {**TEAM_ANSWERS, "q_velocity": "11"}, user=people[i])
                   for i in range(CONCURRENT)]
            good = [view_submission(survey, run.id, {**TEAM_ANSWERS, "q_blockers": f"blocker {i}"}, user=people[i])
                    for i in range(CONCURRENT, 2 * CONCURRENT)]
            again = [view_submission(survey, run.id, TEAM_ANSWERS, user=people[i])
                     for i in range(CONCURRENT, 2 * CONCURRENT)]
            send_concurrently(server.url, bad[:20], threads=20, workdir=folder)  # warm-up
            figures = {}
            for label, payloads in (("bare ack (validation errors)", bad), ("store answers, then ack", good),
                                    ("replace earlier answers, then ack", again)):
                dispatched.clear()
                found = send_concurrently(server.url, payloads, threads=CONCURRENT, workdir=folder)
                figures[label] = ([r["seconds"] for r in found], list(dispatched))
                print(f"  {label}, statuses {sorted({r['status'] for r in found})}")
                print(line("    at the client (end to end)", figures[label][0]))
                print(line("    in the bot (Bolt dispatch → ack)", figures[label][1]))
            with runtime.ctx.reading() as session:
                stored = repo.answer_sets(session, TEAM, [run.id])[run.id]
            for where, index in (("at the client", 0), ("inside the bot", 1)):
                base, store = figures["bare ack (validation errors)"][index], figures["store answers, then ack"][index]
                print(f"  ratio store/bare {where}: p50 ×{pct(store, 50) / pct(base, 50):.1f}, "
                      f"p99 ×{pct(store, 99) / pct(base, 99):.1f}")
            print(f"  responses stored {stored} (expected {CONCURRENT})")
        runtime.shutdown()


def seed_year(ctx) -> SurveyRun:
    rng = random.Random(4)
    first = datetime(2025, 12, 5, 9, tzinfo=UTC)
    people = [f"U{i:04d}" for i in range(PEOPLE)]
    last = None
    for week in range(WEEKS):
        opens = first + timedelta(weeks=week)
        with ctx.transaction() as session:
            run = repo.add_run(session, SurveyRun(team_id=TEAM, survey="team", period=f"W{week:02d}", state="closed",
                                                  opens_at=opens, closes_at=opens + timedelta(days=3),
                                                  closed_at=opens + timedelta(days=3), audience=PEOPLE))
            repo.add_respondents(session, TEAM, run.id, people)
            rows = []
            for _ in range(rng.randint(150, PEOPLE)):
                answer_set = uuid.uuid4().hex
                blocker = rng.choice(BLOCKERS)
                rows += [(answer_set, "_response", "", None)]
                rows += [(answer_set, q, str(v), float(v)) for q, v in
                         (("velocity", rng.randint(3, 10)), ("priorities", rng.randint(2, 9)))]
                rows += [(answer_set, q, t, None) for q, t in (("blockers", blocker), ("keep_doing", "pairing"))
                         if t]
            session.execute(SurveyAnswer.__table__.insert(), [
                {"run_id": run.id, "answer_set": s, "question_id": q, "team_id": TEAM, "value": v, "number": n}
                for s, q, v, n in rows])
            session.execute(update(SurveyRespondent).where(SurveyRespondent.run_id == run.id)
                            .values(responded_at=opens + timedelta(hours=1)))
        last = run
    assert last is not None
    return last


def bench_results(database_url: str) -> None:
    ctx = build_context(Settings(_env_file=None, database_url=database_url))
    started = time.perf_counter()
    run = seed_year(ctx)
    with ctx.reading() as session:
        rows = session.scalar(select(func.count()).select_from(SurveyAnswer))
    print(f"  seeded {WEEKS} runs × {PEOPLE} people ({rows:,} answer rows) in {time.perf_counter() - started:.1f} s")
    baseline, compute, message = [], [], []
    for _ in range(15):
        with ctx.reading() as session:
            t0 = time.perf_counter()
            repo.answers(session, run.id)
            baseline.append(time.perf_counter() - t0)
        with ctx.reading() as session:
            t0 = time.perf_counter()
            found = results.compute(ctx, session, run)
            compute.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        results_message(found, ctx.tz)
        message.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    png = runs.trend_chart(found, ctx.tz)
    chart = time.perf_counter() - t0
    print(line("read the run's answer rows (base)", baseline))
    print(line("compute results", compute))
    print(line("build the results message", message))
    print(f"  trend chart ({len(png or b''):,} bytes PNG): {chart * 1000:.0f} ms (first render, matplotlib import "
          "included)")
    median = statistics.median(compute)
    print(f"  compute/base ×{median / statistics.median(baseline):.1f}; {found.responses} responses, "
          f"{len(found.trend)} runs in the trend, themes {found.themes[:3]}")
    verdict = "PASS" if pct(compute, 99) * 1000 <= GOAL_MS else "FAIL"
    print(f"  goal: results ≤ {GOAL_MS} ms → {verdict} (p99 {pct(compute, 99) * 1000:.0f} ms)")
    ctx.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database URL (default: SQLite files in a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"1. ack latency, {CONCURRENT} concurrent view submissions over HTTP")
        bench_ack(args.database or f"sqlite:///{folder / 'ack.db'}", folder)
        print(f"2. results of one run with {WEEKS} weeks × {PEOPLE} people stored")
        bench_results(args.database or f"sqlite:///{folder / 'results.db'}")


if __name__ == "__main__":
    main()
