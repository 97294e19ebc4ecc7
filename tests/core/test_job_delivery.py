"""`aurum run-job` beside Slack (aurum.core.job_delivery): a job's deliveries are seen through, and a period none of
whose messages reached Slack is given back. Against the fake Slack Web API, counting the calls that reach it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aurum.core import outbox
from aurum.core.job_delivery import give_back, run_and_deliver, settle
from aurum.core.jobs import Job, JobRunner
from aurum.core.queue import collect_keys
from bot.compose import build_clock
from storage import claims
from storage import queue as repo
from storage.workspaces import ensure

TEAM = "T0001"


@pytest.fixture(autouse=True)
def channel(fake_slack):
    fake_slack.add_channel("one", channel_id="C0ONE")


def _two_posts(ctx, session, team_id, period):
    outbox.post(session, team_id, "C0ONE", f"first of {period}", key=f"pair:{period}:1")
    outbox.post(session, team_id, "#nowhere", f"second of {period}", key=f"pair:{period}:2")
    return "posted twice"


def _one_post(ctx, session, team_id, period):
    outbox.post(session, team_id, "C0ONE", f"the post of {period}", key=f"single:{period}")
    return "posted"


JOBS = {"single": Job("single", "one post", "0 10 * * *", _one_post),
        "pair": Job("pair", "two posts, the second to a channel that does not exist", "0 10 * * *", _two_posts)}


@pytest.fixture
def runtime(settings):
    rt = build_clock(settings)
    with rt.ctx.transaction() as session:
        ensure(session, TEAM)
    yield rt
    rt.shutdown()


def _claim(ctx, job: str, period: str):
    with ctx.reading() as session:
        return claims.find(session, TEAM, job, period)


def _statuses(ctx, keys) -> list[str]:
    with ctx.reading() as session:
        return [task.status for task in repo.by_keys(session, TEAM, keys)]


def _posts(fake, text: str) -> int:
    return sum(text in str(call.params.get("text")) for call in fake.calls_to("chat.postMessage", failed=False))


def test_a_delivered_run_keeps_its_claim_and_posts_once(runtime, fake_slack):
    runner = JobRunner(runtime.ctx, JOBS)
    (seen,) = run_and_deliver(runtime.ctx, runner, runtime.delivery, "single", wait=10)
    assert (seen.delivered, seen.released, len(seen.tasks)) == (1, False, 1)
    assert _claim(runtime.ctx, "single", seen.outcome.period) is not None
    assert _posts(fake_slack, "the post of") == 1
    (again,) = run_and_deliver(runtime.ctx, runner, runtime.delivery, "single", wait=10)
    assert again.outcome.result == "already ran" and again.tasks == []
    assert _posts(fake_slack, "the post of") == 1


def test_when_slack_takes_nothing_the_tasks_are_cancelled_and_the_period_is_open_again(runtime, fake_slack):
    fake_slack.chaos(1.0, modes=("500",))
    runner = JobRunner(runtime.ctx, JOBS)
    (seen,) = run_and_deliver(runtime.ctx, runner, runtime.delivery, "single", wait=2)
    period = seen.outcome.period
    assert seen.released and seen.delivered == 0
    assert "Slack server error 500" in (seen.error or "")
    assert _statuses(runtime.ctx, [f"single:{period}"]) == ["cancelled"]
    assert _claim(runtime.ctx, "single", period) is None
    # Tried at 0 s, 0.5 s and 1.5 s (the back-off, ±20 %); a retry first looks for an earlier post in the history.
    tries = [call.method for call in fake_slack.calls if call.failed]
    assert tries[0] == "chat.postMessage" and 2 <= len(tries) <= 4, tries
    assert _posts(fake_slack, "the post of") == 0

    fake_slack.chaos(0)  # Slack is back: the next run delivers the period, the cancelled task queued again
    (again,) = run_and_deliver(runtime.ctx, runner, runtime.delivery, "single", wait=10)
    assert again.outcome.period == period and again.delivered == 1
    assert _statuses(runtime.ctx, [f"single:{period}"]) == ["sent"]
    assert _claim(runtime.ctx, "single", period) is not None
    assert _posts(fake_slack, "the post of") == 1


def test_a_partly_delivered_run_keeps_its_claim(runtime, fake_slack):
    (seen,) = run_and_deliver(runtime.ctx, JobRunner(runtime.ctx, JOBS), runtime.delivery, "pair", wait=10)
    period = seen.outcome.period
    assert (seen.delivered, len(seen.tasks), seen.released) == (1, 2, False)
    assert "no channel named #nowhere" in (seen.error or "")
    assert _statuses(runtime.ctx, [f"pair:{period}:1", f"pair:{period}:2"]) == ["sent", "dead"]
    assert _claim(runtime.ctx, "pair", period) is not None
    assert _posts(fake_slack, "first of") == 1


def _held_by_another_worker(ctx):
    """Run the job without delivering, and have another worker (the serving bot's) claim its task: (the runner, the
    run's outcome, its keys, the task)."""
    runner = JobRunner(ctx, JOBS)
    with collect_keys() as queued:
        (outcome,) = runner.run_now("single")
    keys = [key for _team, key in queued]
    with ctx.transaction() as session:
        (task,) = repo.by_keys(session, TEAM, keys)
        repo.claim(session, task.id, ctx.now(), timedelta(seconds=15))
    return runner, outcome, keys, task


def test_a_task_another_worker_holds_is_waited_for_and_not_cancelled_under_it(runtime):
    ctx = runtime.ctx
    runner, outcome, keys, task = _held_by_another_worker(ctx)
    assert give_back(ctx, runner.owner, outcome, keys) is False
    assert _statuses(ctx, keys) == ["sending"] and _claim(ctx, "single", outcome.period) is not None

    def other_worker_delivers(_seconds):
        with ctx.transaction() as session:
            repo.finish(session, task.id, "sent", ctx.now(), '{"channel": "C0ONE", "ts": "1.0"}')

    seen = settle(ctx, runner.owner, outcome, keys, 30, clock=lambda: 0.0, sleep=other_worker_delivers)
    assert (seen.delivered, seen.released) == (1, False)
    assert _claim(ctx, "single", outcome.period) is not None


def test_a_held_task_that_then_fails_lets_the_period_go_back(runtime):
    ctx = runtime.ctx
    runner, outcome, keys, task = _held_by_another_worker(ctx)
    sleeps = []

    def other_worker_fails(seconds):
        sleeps.append(seconds)
        with ctx.transaction() as session:
            repo.retry(session, task.id, ctx.now() + timedelta(seconds=1), "Slack server error 503")

    seen = settle(ctx, runner.owner, outcome, keys, 30, clock=lambda: 0.0, sleep=other_worker_fails)
    assert seen.released and len(sleeps) == 1
    assert seen.error == "Slack server error 503"
    assert _statuses(ctx, keys) == ["cancelled"] and _claim(ctx, "single", outcome.period) is None


def test_a_task_held_for_too_long_keeps_the_claim(runtime):
    ctx = runtime.ctx
    runner, outcome, keys, task = _held_by_another_worker(ctx)
    ticks = iter([0.0, 10.0, 61.0])
    seen = settle(ctx, runner.owner, outcome, keys, 60, clock=lambda: next(ticks), sleep=lambda _s: None)
    assert not seen.released and seen.waiting == 1
    assert _statuses(ctx, keys) == ["sending"] and _claim(ctx, "single", outcome.period) is not None


def test_a_run_that_failed_or_had_run_already_is_left_alone(runtime, fake_slack):
    ctx = runtime.ctx
    runner = JobRunner(ctx, JOBS)
    period = runner.run_now("single")[0].period  # claimed by this runner, delivered by nobody yet
    other = JobRunner(ctx, JOBS, owner="someone-else")
    (seen,) = run_and_deliver(ctx, other, runtime.delivery, "single", wait=1)
    assert seen.outcome.result == "already ran" and not seen.released
    assert _claim(ctx, "single", period).owner == runner.owner
    assert fake_slack.calls_to("chat.postMessage") == []  # not its task: it did not deliver it
