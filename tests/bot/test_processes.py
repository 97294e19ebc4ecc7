"""Several real processes on one database: `kill -9` mid-burst, two web and two clock processes at once.

Runs on SQLite, and on PostgreSQL with AURUM_TEST_DB=postgres (as .ci/run does).
"""

from __future__ import annotations

import re
import signal
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.claims import JobClaim
from storage.rollups import KpiSnapshot
from tests.support import (
    BOT_TOKEN,
    SIGNING_SECRET,
    BotProcess,
    SlackSender,
    assert_each_delivered,
    process_env,
    queue_burst,
    serve_process,
    statuses,
    wait_until,
)

pytestmark = pytest.mark.timeout(420)  # real processes on a shared machine: each start takes seconds
CLAIM_SECONDS = 12  # how soon a killed worker's in-flight message is retried (production default: 60)


def _env(database_url: str, fake_slack, **extra) -> dict[str, str]:
    return dict(database_url=database_url, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                slack_api_url=fake_slack.base_url, aurum_outbox_claim_seconds=str(CLAIM_SECONDS), **extra)


def scheduler_process(tmp_path: Path, name: str, **settings: str) -> BotProcess:
    return BotProcess(["scheduler"], process_env(**settings), tmp_path / f"{name}.log")


def _wait_scheduled(proc: BotProcess) -> None:
    wait_until(lambda: '"message": "scheduled"' in proc.logs() or proc.process.poll() is not None, timeout=60,
               message=f"{proc.log_path.name} to start")
    assert proc.process.poll() is None, proc.logs()[-3000:]


@pytest.mark.parametrize("victim", ["serve", "scheduler"])
def test_kill_9_mid_burst_then_restart_delivers_every_post_exactly_once(victim, tmp_path, ctx, database_url,
                                                                      fake_slack):
    fake_slack.add_channel("#burst")
    # Slow, flaky Slack: calls are in flight when the process dies, some answers get lost after the post landed.
    fake_slack.chaos(0.2, seed=5, modes=("timeout", "after_effect", "500", "429", "drop"), delay=1.0)
    env = _env(database_url, fake_slack)
    start = serve_process if victim == "serve" else scheduler_process
    first = start(tmp_path, "first", **env).start(wait=victim == "serve")
    keys = queue_burst(ctx, fake_slack.team_id, posts=45, replies=9)
    wait_until(lambda: len(fake_slack.delivered_posts()) >= 10, timeout=90, message="the burst to be under way")
    first.kill()
    assert statuses(ctx)["sent"] < len(keys), "killed mid-burst"
    second = start(tmp_path, "second", **env).start(wait=victim == "serve")
    try:
        wait_until(lambda: not {"pending", "sending"} & set(statuses(ctx)), timeout=180,
                   message="the outbox to finish after the restart")
    finally:
        second.stop()
    assert statuses(ctx) == {"sent": len(keys)}, second.logs()[-3000:]
    assert_each_delivered(fake_slack, keys, in_flight=2)  # two outbox threads were mid-call at most
    assert Counter(c.fault for c in fake_slack.calls if c.failed)["after_effect"] >= 1


def test_two_web_and_two_clock_processes_never_double_post_or_lose_a_reply(tmp_path, database_url, fake_slack):
    fake_slack.add_channel("#aurum-ops")
    fake_slack.add_channel("cmd", "C0CMD")  # where the commands are typed: a channel the bot is in
    config = tmp_path / "team.yml"
    config.write_text('schedules:\n  heartbeat: "* * * * *"\nops:\n  heartbeat_channel: "#aurum-ops"\n',
                      encoding="utf-8")
    env = _env(database_url, fake_slack, aurum_config=str(config))
    # All four start at once on a fresh database: migrations, workspace registration and the clock's
    # catch-up of the current minute race each other.
    webs = [serve_process(tmp_path, f"web{i}", **env) for i in (1, 2)]
    clocks = [scheduler_process(tmp_path, f"clock{i}", **env) for i in (1, 2)]
    for proc in [*webs, *clocks]:
        proc.start(wait=False)
    try:
        for web in webs:
            web.wait_ready(timeout=90)
        for clock in clocks:
            _wait_scheduled(clock)
        senders = [SlackSender(web.url, team_id=fake_slack.team_id, fake=fake_slack) for web in webs]
        commands = 30
        for i in range(commands):
            answer = senders[i % 2].command("/kpi", f"record coverage {60 + i}", user=f"U{i:03d}", channel="C0CMD")
            assert answer.status_code == 200
        wait_until(lambda: len(fake_slack.responses) >= commands, timeout=90, message="every reply")
        for sender in senders:
            sender.close()
    finally:
        codes = [proc.stop() for proc in [*webs, *clocks]]
    # uvicorn shuts down gracefully on SIGTERM and then re-raises the signal; the clock exits 0.
    assert codes[:2] == [-signal.SIGTERM] * 2 and codes[2:] == [0, 0], [p.logs()[-2000:] for p in [*webs, *clocks]]
    assert all("Application shutdown complete" in web.logs() for web in webs)

    replies = Counter(reply["user"] for reply in fake_slack.responses)
    assert replies == {f"U{i:03d}": 1 for i in range(commands)}
    for reply in fake_slack.responses:
        value = 60 + int(reply["user"][1:])
        assert f"= {value}%" in reply["blocks"][0]["text"]["text"]

    heartbeats = [m for m in fake_slack.delivered_posts() if m["channel"] == fake_slack.channel_id("#aurum-ops")]
    periods = Counter(m["metadata"]["event_payload"]["key"] for m in heartbeats)
    assert periods and set(periods.values()) == {1}, periods
    from bot.compose import build_context
    from bot.settings import Settings

    check = build_context(Settings(_env_file=None, database_url=database_url))
    with check.reading() as session:
        assert session.scalar(select(func.count()).select_from(KpiSnapshot)) == commands
        claimed = list(session.scalars(select(JobClaim.period).where(JobClaim.job == "heartbeat")))
    check.engine.dispose()
    assert sorted(f"heartbeat:{p}" for p in claimed) == sorted(periods)
    ran = sum(len(re.findall(r'"message": "job ran", "job": "heartbeat"', clock.logs())) for clock in clocks)
    assert ran == len(claimed)  # the other clock found each period already claimed
