"""Jobs run at most once per (team, job, period): across runners, restarts and clock processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aurum.core import outbox
from aurum.core.jobs import Job, JobRunner
from bot.compose import build_context
from bot.scheduler import build_scheduler
from storage import claims
from storage import queue as outbox_repo
from storage.workspaces import ensure
from tests.support import ROOT

BERLIN = ZoneInfo("Europe/Berlin")


def _post_job(ctx, session, team_id, period):
    outbox.post(session, team_id, "C0CHAN", f"daily post for {period}", key=f"daily:{period}")
    return "posted"


def _failing_job(ctx, session, team_id, period):
    outbox.post(session, team_id, "C0CHAN", "half-done")
    raise RuntimeError("boom")


DAILY = Job("daily", "A daily post at 10:00", "0 10 * * *", _post_job)


@pytest.fixture
def at(settings):
    """Contexts on the test database whose clock stands still at a given time; disposed afterwards."""
    made = []

    def make(when: datetime, tz=BERLIN):
        ctx = build_context(settings)
        ctx.tz = tz
        ctx.clock = lambda: when
        with ctx.transaction() as session:
            ensure(session, "T0001")
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.engine.dispose()


def _posts(ctx) -> int:
    with ctx.reading() as session:
        return len(outbox_repo.listing(session, kinds=outbox.KINDS))


def test_due_runs_a_job_once_within_the_grace_window(at):
    opening = datetime(2026, 11, 27, 10, 20, tzinfo=BERLIN)
    ctx = at(opening)
    runner = JobRunner(ctx, {"daily": DAILY})
    assert [o.result for o in runner.due()] == ["posted"]
    assert [o.result for o in runner.due()] == ["already ran"]
    assert [o.result for o in JobRunner(ctx, {"daily": DAILY}).due()] == ["already ran"]  # a restart
    assert _posts(ctx) == 1
    late = at(opening + timedelta(hours=2))  # outside the 60-minute grace window
    assert JobRunner(late, {"daily": DAILY}).due() == []


def test_period_is_the_local_fire_time_across_dst(at):
    before = at(datetime(2026, 10, 24, 10, 5, tzinfo=BERLIN))  # CEST, +0200
    after = at(datetime(2026, 10, 26, 10, 5, tzinfo=BERLIN))  # CET, +0100
    assert JobRunner(before, {"daily": DAILY}).due()[0].period == "2026-10-24T10:00+0200"
    assert JobRunner(after, {"daily": DAILY}).due()[0].period == "2026-10-26T10:00+0100"


def test_two_clock_processes_racing_post_once(at):
    when = datetime(2026, 11, 27, 10, 0, 1, tzinfo=BERLIN)
    contexts = [at(when) for _ in range(2)]
    results: list[str] = []
    barrier = threading.Barrier(2)

    def fire(ctx):
        barrier.wait()
        results.extend(o.result for o in JobRunner(ctx, {"daily": DAILY}, owner=str(id(ctx))).fire("daily"))

    threads = [threading.Thread(target=fire, args=(c,)) for c in contexts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == ["already ran", "posted"]
    assert _posts(contexts[0]) == 1


def test_a_failed_run_leaves_no_claim_and_no_half_posts(at):
    ctx = at(datetime(2026, 11, 27, 10, 1, tzinfo=BERLIN))
    failing = Job("daily", "fails", "0 10 * * *", _failing_job)
    (outcome,) = JobRunner(ctx, {"daily": failing}).due()
    assert outcome.result.startswith("failed: RuntimeError")
    assert _posts(ctx) == 0
    with ctx.reading() as session:
        assert claims.find(session, "T0001", "daily", outcome.period) is None
    assert JobRunner(ctx, {"daily": DAILY}).due()[0].result == "posted"  # the next tick retries


def test_apscheduler_jobs_have_stable_ids_and_fire_in_the_team_zone(at):
    ctx = at(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    ctx.config = ctx.config.model_copy(update={"schedules": {"daily": "30 9 * * 1-5"}})
    scheduler = build_scheduler(JobRunner(ctx, {"daily": DAILY}))
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("daily")
        assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == 3600
        upcoming = job.trigger.get_next_fire_time(None, datetime(2026, 11, 27, 12, tzinfo=BERLIN))
        assert upcoming == datetime(2026, 11, 30, 9, 30, tzinfo=BERLIN)  # next weekday, 09:30 Berlin
        assert scheduler.get_job("catch-up") is not None
    finally:
        scheduler.shutdown(wait=False)


def test_run_job_and_jobs_commands(settings, tmp_path):
    env = {**os.environ, "DATABASE_URL": settings.database_url, "PYTHONPATH": str(ROOT)}
    env.pop("SLACK_BOT_TOKEN", None)

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60)

    listing = cli("jobs")
    assert listing.returncode == 0 and "heartbeat" in listing.stdout and "next" in listing.stdout
    first, second = cli("run-job", "heartbeat"), cli("run-job", "heartbeat")
    assert first.stdout.strip().endswith(": alive"), first.stderr
    assert second.stdout.strip().endswith(": already ran")
    unknown = cli("run-job", "nope")
    assert unknown.returncode == 2 and "Unknown job 'nope'" in unknown.stderr


def test_scheduler_process_logs_its_jobs_and_stops_on_sigterm(settings, tmp_path):
    env = {**os.environ, "DATABASE_URL": settings.database_url, "PYTHONPATH": str(ROOT)}
    env.pop("SLACK_BOT_TOKEN", None)
    log = tmp_path / "clock.log"
    with log.open("wb") as sink:
        clock = subprocess.Popen([sys.executable, "-m", "bot.cli", "scheduler"], cwd=ROOT, env=env,
                                 stdout=sink, stderr=sink)
    deadline = datetime.now() + timedelta(seconds=30)
    while '"job": "heartbeat"' not in log.read_text():
        assert datetime.now() < deadline and clock.poll() is None, log.read_text()
        threading.Event().wait(0.1)
    clock.send_signal(signal.SIGTERM)
    assert clock.wait(20) == 0
    assert "clock stopping" in log.read_text()


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
def test_last_fire_respects_each_zone(at, zone):
    tz = ZoneInfo(zone)
    ctx = at(datetime(2026, 3, 30, 10, 30, tzinfo=tz), tz=tz)
    runner = JobRunner(ctx, {"daily": replace(DAILY)})
    assert runner.last_fire(DAILY, ctx.now()) == datetime(2026, 3, 30, 10, 0, tzinfo=tz)


def test_a_quarter_hourly_job_walks_through_the_repeated_hour_of_a_dst_fall_back(at):
    """Berlin repeats 02:00-03:00 on 31 October 2027: the walk goes on through both passes, in order."""
    ctx = at(datetime(2027, 10, 31, 2, 30, tzinfo=UTC))
    quarterly = Job("quarter", "", "*/15 * * * *", lambda *a: "x")
    runner = JobRunner(ctx, {"quarter": quarterly})
    assert runner.last_fire(quarterly, ctx.now(), lookback=timedelta(hours=2)) == ctx.now()
    fires = [runner.last_fire(quarterly, datetime(2027, 10, 31, 0, 50, tzinfo=UTC) + timedelta(minutes=15 * i))
             for i in range(5)]
    assert [f.astimezone(UTC).strftime("%H:%M") for f in fires] == ["00:45", "01:00", "01:15", "01:30", "01:45"]


@pytest.mark.parametrize(("line", "weekday"), [("0 10 * * 5", 4), ("0 10 * * fri", 4), ("0 10 * * 0", 6),
                                                 ("0 10 * * 7", 6), ("0 10 * * 1", 0)])
def test_crontab_weekdays_count_from_sunday(line, weekday):
    from aurum.core.jobs import crontab_trigger

    fire = crontab_trigger(line, BERLIN).get_next_fire_time(None, datetime(2026, 11, 23, tzinfo=BERLIN))
    assert fire.weekday() == weekday and fire.hour == 10


def test_run_now_finds_the_latest_scheduled_time_of_minutely_and_quarterly_jobs(ctx):
    """The current period of a job without its own period function: its newest fire time (up to 400 days back),
    found in widening windows rather than by walking every minute of 400 days."""
    runner = JobRunner(ctx)
    now = datetime(2026, 11, 27, 14, 3, 30, tzinfo=UTC)
    assert runner.latest_fire(runner.jobs["alerts"], now) == datetime(2026, 11, 27, 14, 3, tzinfo=UTC)
    quarterly = runner.jobs["quarterly_review"]
    assert runner.latest_fire(quarterly, now) == runner.last_fire(quarterly, now, lookback=timedelta(days=400))
    assert runner.latest_fire(Job("never", "", "0 0 30 2 *", lambda *a: "x"), now) is None
