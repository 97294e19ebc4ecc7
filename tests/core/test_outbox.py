"""The outbox delivers every queued Slack call once, through 429s, 5xx, lost answers, crashes and restarts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aurum.core import outbox
from aurum.core.outbox import OutboxWorker
from bot.compose import build_web
from storage import queue as repo
from tests.support import BOT_TOKEN, ROOT, SIGNING_SECRET, assert_no_slack_violations


def _queue(ctx, count: int, channel: str = "C0CHAN", team: str = "T0001") -> list[str]:
    with ctx.transaction() as session:
        return [outbox.post(session, team, channel, f"message {i}", key=f"test:{i}") for i in range(count)]


def _deliver_until(worker: OutboxWorker, done, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "outbox did not deliver in time"
        assert_no_slack_violations("delivering")
        if not worker.run_once():
            worker.ctx.outbox_wake.wait(0.05)


def _delivered_texts(fake) -> list[str]:
    return sorted(m["text"] for m in fake.delivered_posts())


def test_429_and_500_are_retried_and_each_post_arrives_once(runtime, fake_slack):
    fake_slack.fail_next("chat.postMessage", 2, status=429, retry_after=1)
    fake_slack.fail_next("chat.postMessage", 2, status=500)
    _queue(runtime.ctx, 5)
    worker = runtime.worker()
    _deliver_until(worker, lambda: len(fake_slack.delivered_posts()) == 5)
    assert _delivered_texts(fake_slack) == [f"message {i}" for i in range(5)]
    limited = fake_slack.calls_to("chat.postMessage", failed=True)[0]
    first_ok = fake_slack.calls_to("chat.postMessage", failed=False)
    retried = [c for c in first_ok if c.params["text"] == limited.params["text"]][0]
    assert retried.at - limited.at >= 0.9  # waited for Retry-After
    with runtime.ctx.reading() as session:
        assert repo.counts(session) == {"sent": 5}


def test_a_post_whose_answer_was_lost_is_posted_again_without_reading_the_history(runtime, fake_slack):
    """The documented policy (aurum.core.outbox): an unknown outcome costs at most one duplicate, never a lost post,
    and no call that needs a scope the manifest does not ask for."""
    fake_slack.fail_after_effect_next("chat.postMessage", 1)
    _queue(runtime.ctx, 1)
    worker = runtime.worker()
    _deliver_until(worker, lambda: _sent(runtime) == 1)
    assert len(fake_slack.delivered_posts()) == 2
    assert not fake_slack.calls_to("conversations.history") and not fake_slack.calls_to("conversations.replies")
    assert not fake_slack.violations


def _sent(runtime) -> int:
    with runtime.ctx.reading() as session:
        return repo.counts(session).get("sent", 0)


def test_permanent_errors_go_to_dead_letters(runtime, fake_slack):
    with runtime.ctx.transaction() as session:
        outbox.post(session, "T0001", "#no-such-channel", "lost cause")
    runtime.worker().drain()
    with runtime.ctx.reading() as session:
        (dead,) = repo.listing(session, "dead")
    assert "no channel named #no-such-channel" in dead.last_error


def test_only_the_newest_queued_edit_is_sent(runtime, fake_slack):
    with runtime.ctx.transaction() as session:
        key = outbox.post(session, "T0001", "C0CHAN", "v1")
        for version in ("v2", "v3", "v4"):
            outbox.update(session, "T0001", key, version)
    runtime.worker().drain()
    updates = fake_slack.calls_to("chat.update")
    assert [c.params["text"] for c in updates] == ["v4"]
    assert fake_slack.messages("C0CHAN")[0]["text"] == "v4"


def test_thread_replies_wait_for_their_parent(runtime, fake_slack):
    fake_slack.fail_next("chat.postMessage", 1, status=500)
    with runtime.ctx.transaction() as session:
        key = outbox.post(session, "T0001", "C0CHAN", "card")
        outbox.upload(session, "T0001", "C0CHAN", b"\x89PNG fake", filename="c.png", title="chart", thread_key=key,
                      alt_text="Line chart of a KPI")
    worker = runtime.worker()
    _deliver_until(worker, lambda: _sent(runtime) == 2)
    (upload,) = fake_slack.files.values()
    assert upload.thread_ts == fake_slack.delivered_posts()[0]["ts"]
    assert fake_slack.calls_to("files.getUploadURLExternal")[-1].params["alt_txt"] == "Line chart of a KPI"


def _serve(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as sink:
        return subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", "0"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=sink)


@pytest.mark.timeout(90)
def test_posts_queued_when_the_bot_is_killed_are_delivered_once_after_restart(settings, fake_slack, tmp_path):
    runtime = build_web(settings, work_process=False)
    _queue(runtime.ctx, 20)
    runtime.shutdown()
    env = {**os.environ, "DATABASE_URL": settings.database_url, "SLACK_API_URL": fake_slack.base_url,
           "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "PYTHONPATH": str(ROOT)}
    fake_slack.fail_next("chat.postMessage", 10_000, status=503)  # Slack is down
    log = tmp_path / "serve.log"
    first = _serve(env, log)
    fake_slack.wait_for(lambda call: call.method == "chat.postMessage", count=3, timeout=30)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    fake_slack.reset()  # Slack is back
    second = _serve(env, log)
    try:
        fake_slack.wait_for(lambda call: call.method == "chat.postMessage" and not call.failed, count=20,
                            timeout=45)
        assert _delivered_texts(fake_slack) == sorted(f"message {i}" for i in range(20))
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(15)
    # uvicorn re-raises SIGTERM after a graceful shutdown, so the exit status is -15 or 0.
    assert second.returncode in (0, -signal.SIGTERM), log.read_text()[-3000:]
    assert "Application shutdown complete" in log.read_text()
