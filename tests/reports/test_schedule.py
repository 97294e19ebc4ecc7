"""Two clock processes (two Contexts on one database, in threads) over a simulated month post each report exactly once;
a run missed while the clock was down is caught up once within the grace window, and skipped after it."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from aurum import demo
from aurum.core.jobs import JobRunner
from bot.compose import build_context
from storage.claims import JobClaim
from storage.queue import QueuedTask
from storage.workspaces import ensure

TEAM = "T0001"
BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 12, 1, 0, 0, tzinfo=BERLIN)
END = datetime(2027, 1, 1, 0, 0, tzinfo=BERLIN)
REPORTS = ["weekly_summary", "weekly_review_reminder", "executive_dashboard", "monthly_review_reminder",
           "quarterly_review", "quarterly_review_reminder"]


class Clock:
    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def fire_times(runner: JobRunner) -> list[datetime]:
    """Every scheduled time of the report jobs in the month, plus a few minutes after each (a later tick)."""
    times = set()
    for name in REPORTS:
        job = runner.jobs[name]
        fire = runner.next_fire(job, START)
        while fire is not None and fire < END:
            times |= {fire, fire + timedelta(minutes=1), fire + timedelta(minutes=7)}
            fire = runner.next_fire(job, fire + timedelta(seconds=1))
    return sorted(times)


def tick(runner: JobRunner, at: datetime, into: list) -> None:
    into.extend(runner.due(at))


def test_two_clock_processes_post_each_report_once_over_a_month(settings):
    settings.aurum_timezone = "Europe/Berlin"
    clocks = [Clock(START), Clock(START)]
    contexts = [build_context(settings), build_context(settings)]
    for ctx, clock in zip(contexts, clocks, strict=True):
        ctx.clock = clock
    with contexts[0].transaction() as session:
        ensure(session, TEAM)
        demo.load(session, contexts[0].catalog, TEAM, START)
    runners = [JobRunner(ctx, owner=f"clock-{i}") for i, ctx in enumerate(contexts)]
    outcomes = []
    for at in fire_times(runners[0]):
        for clock in clocks:
            clock.at = at
        results: list[list] = [[], []]
        threads = [threading.Thread(target=tick, args=(runners[i], at, results[i])) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        outcomes += results[0] + results[1]
    assert not [o for o in outcomes if o.result.startswith("failed")], outcomes

    with contexts[0].reading() as session:
        keys = list(session.scalars(select(QueuedTask.key).where(QueuedTask.kind == "post")))
        done = Counter((c.job, c.period) for c in session.scalars(select(JobClaim)) if c.job in REPORTS)
    posts = Counter(k.rsplit(":", 1)[0] for k in keys if k.startswith(("report:", "reminder:")))
    # Fridays 4, 11, 18, 25 Dec; the first Wednesday is 2 Dec; the quarter ends on Thursday 31 Dec.
    assert posts == {"report:weekly": 4, "reminder:weekly": 4, "report:exec": 1, "reminder:monthly": 1,
                     "report:quarterly": 1, "reminder:quarterly": 1}
    assert sorted(k for k in keys if k.startswith("report:weekly")) == [
        "report:weekly:2026-W49", "report:weekly:2026-W50", "report:weekly:2026-W51", "report:weekly:2026-W52"]
    assert "report:exec:2026-12" in keys and "report:quarterly:2026-Q4" in keys
    assert all(count == 1 for count in done.values()) and len(done) == 12
    ran = Counter(o.job for o in outcomes if o.job in REPORTS and o.result != "already ran")
    assert ran == {"weekly_summary": 4, "weekly_review_reminder": 4, "executive_dashboard": 1,
                   "monthly_review_reminder": 1, "quarterly_review": 1, "quarterly_review_reminder": 1}
    for ctx in contexts:
        ctx.engine.dispose()


def test_missed_weekly_summary_is_caught_up_once_within_grace_and_skipped_after(ctx, caplog):
    ctx.tz = BERLIN
    friday = datetime(2026, 12, 4, 17, 0, tzinfo=BERLIN)
    with ctx.transaction() as session:
        ensure(session, TEAM)
        demo.load(session, ctx.catalog, TEAM, friday - timedelta(days=1))
    runner = JobRunner(ctx, jobs={"weekly_summary": JobRunner(ctx).jobs["weekly_summary"]})

    ctx.clock = Clock(friday + timedelta(minutes=40))  # the clock was down at 17:00, back at 17:40
    first = runner.due(ctx.now())
    again = runner.due(ctx.now() + timedelta(minutes=5))
    assert [o.result for o in first] == ["posted to #roadmap-updates"] and first[0].period == "2026-W49"
    assert [o.result for o in again] == ["already ran"]

    late = datetime(2026, 12, 11, 18, 30, tzinfo=BERLIN)  # the next Friday, back 90 minutes late: past the grace
    ctx.clock = Clock(late)
    with caplog.at_level(logging.WARNING, logger="aurum.core.jobs"):
        assert runner.due(late) == []
        assert runner.due(late + timedelta(minutes=5)) == []
    skipped = [r for r in caplog.records if r.getMessage() == "missed run skipped: past the grace window"]
    assert [(r.job, r.period) for r in skipped] == [("weekly_summary", "2026-W50")]  # logged once
    with ctx.reading() as session:
        keys = list(session.scalars(select(QueuedTask.key).where(QueuedTask.key.like("report:weekly:%"),
                                                                  QueuedTask.kind == "post")))
    assert keys == ["report:weekly:2026-W49"]


def test_sprint_watch_posts_each_recently_closed_sprint_once(ctx):
    from storage.sprints import Sprint

    now = datetime(2026, 12, 9, 10, 0, tzinfo=BERLIN)
    ctx.clock = Clock(now)
    with ctx.transaction() as session:
        ensure(session, TEAM)
        for name, closed in (("Jira 41", now - timedelta(hours=2)), ("Jira 30", now - timedelta(days=40))):
            session.add(Sprint(team_id=TEAM, board="7", external_id=name, name=name, state="closed",
                               start_at=closed - timedelta(days=14), end_at=closed, completed_at=closed,
                               committed_points=50, completed_points=44, source="jira"))
    runner = JobRunner(ctx, jobs={"sprint_watch": JobRunner(ctx).jobs["sprint_watch"]})
    assert [o.result for o in runner.due(now)] == ["1 retrospective(s) posted"]
    ctx.clock = Clock(now + timedelta(minutes=15))
    assert [o.result for o in runner.due(ctx.now())] == ["no new closed sprint"]
    with ctx.reading() as session:
        keys = list(session.scalars(select(QueuedTask.key).where(QueuedTask.kind == "post")))
    assert len([k for k in keys if k.startswith("retro:")]) == 1
