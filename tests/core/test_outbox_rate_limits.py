"""The outbox under Slack's rate limits: waits are not failures, replies wait for their message unclaimed."""

from __future__ import annotations

from aurum.core import outbox
from aurum.core.outbox import MAX_ATTEMPTS, OutboxWorker
from storage import queue as repo
from tests.alerts.support import Clock


def test_a_message_rate_limited_more_often_than_max_attempts_is_still_delivered_once(runtime, fake_slack):
    clock = Clock()
    runtime.ctx.clock = clock
    fake_slack.fail_next("chat.postMessage", count=MAX_ATTEMPTS + 2, status=429, retry_after=1)
    with runtime.ctx.transaction() as session:
        outbox.post(session, "T0001", "C0CHAN", "hello", key="greeting")
    worker = OutboxWorker(runtime.ctx, runtime.delivery)
    for _ in range(MAX_ATTEMPTS + 3):
        worker.drain()
        clock.advance(seconds=1)
    calls = fake_slack.calls_to("chat.postMessage")
    assert [c.failed for c in calls] == [True] * (MAX_ATTEMPTS + 2) + [False]
    with runtime.ctx.reading() as session:
        row = repo.by_key(session, "T0001", "greeting")
    assert row.status == "sent" and row.attempts == 1
    assert len(fake_slack.messages("C0CHAN")) == 1


def test_a_reply_is_not_due_while_its_message_waits(runtime, fake_slack):
    clock = Clock()
    runtime.ctx.clock = clock
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=5)
    with runtime.ctx.transaction() as session:
        parent = outbox.post(session, "T0001", "C0CHAN", "parent", key="parent")
        outbox.post(session, "T0001", "", "reply", key="reply", thread_key=parent)
    worker = OutboxWorker(runtime.ctx, runtime.delivery)
    worker.drain()
    with runtime.ctx.reading() as session:
        assert repo.due(session, clock.advance(seconds=6)) == [(repo.by_key(session, "T0001", "parent").id, "post")]
        reply = repo.by_key(session, "T0001", "reply")
    assert reply.attempts == 0  # never claimed while it could not go
    worker.drain()
    top, answer = fake_slack.messages("C0CHAN")
    assert answer["thread_ts"] == top["ts"] and answer["text"] == "reply"
