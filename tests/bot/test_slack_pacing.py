"""Slack's rate limits kept by the bot itself: about one message a second per channel, and each method's tier."""

from __future__ import annotations

import time
from itertools import pairwise

from aurum.core import outbox
from bot.slack_pacing import CHANNEL_BURST, PER_MINUTE, TIERS, Pacing


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_channel_takes_a_short_burst_then_one_message_a_second():
    clock = Clock()
    pacing = Pacing(clock)
    assert [pacing.channel_wait("T1", "C1") for _ in range(CHANNEL_BURST)] == [0.0] * CHANNEL_BURST
    assert pacing.channel_wait("T1", "C1") == 1.0
    assert pacing.channel_wait("T1", "C2") == 0.0  # another channel has its own turn
    assert pacing.channel_wait("T2", "C1") == 0.0  # and another workspace
    clock.now = 1.0
    assert pacing.channel_wait("T1", "C1") == 0.0
    assert pacing.channel_wait("T1", "C1") == 1.0


def test_each_method_keeps_to_its_tier_per_workspace():
    clock = Clock()
    pacing = Pacing(clock)
    assert TIERS["conversations.list"] == 2 and PER_MINUTE[2] == 20
    assert all(pacing.method_wait("T1", "conversations.list") == 0.0 for _ in range(20))
    assert pacing.method_wait("T1", "conversations.list") == 3.0  # 20 a minute: the next turn in 3 s
    assert pacing.method_wait("T2", "conversations.list") == 0.0
    assert pacing.method_wait("T1", "chat.postMessage") == 0.0  # paced per channel instead


def test_posts_into_one_channel_go_out_about_one_a_second(runtime, fake_slack):
    fake_slack.add_channel("#shout-outs")
    with runtime.ctx.transaction() as session:
        for i in range(8):
            outbox.post(session, fake_slack.team_id, "#shout-outs", f"🎉 shout-out {i}", key=f"shout:{i}")
    worker = runtime.worker()
    deadline = time.monotonic() + 60
    while len(fake_slack.delivered_posts()) < 8:
        assert time.monotonic() < deadline, "the posts were not delivered"
        if not worker.run_once():
            runtime.ctx.outbox_wake.wait(0.05)
    calls = fake_slack.calls_to("chat.postMessage", failed=False)
    assert len(calls) == 8 and not fake_slack.calls_to("chat.postMessage", failed=True)  # no 429 earned
    paced = [later.at - earlier.at for earlier, later in pairwise(calls[CHANNEL_BURST - 1:])]
    assert all(gap >= 0.85 for gap in paced), paced  # one a second, give or take the loaded machine's scheduling
    with runtime.ctx.reading() as session:
        from storage import queue as repo

        assert repo.counts(session) == {"sent": 8}
        tasks = repo.listing(session, "sent", 10)
    assert all(task.attempts == 1 for task in tasks)  # waiting a turn is no failed attempt
