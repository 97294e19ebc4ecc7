"""The task queue's repository: cancelling tasks by key (only those waiting or dead) and queuing a cancelled key
again."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from storage import queue as repo
from storage.queue import QueuedTask

TEAM = "T0001"


def _add(ctx, key: str, say: str = "hi", team: str = TEAM) -> None:
    with ctx.transaction() as session:
        repo.add(session, QueuedTask(team_id=team, key=key, kind="post", payload=json.dumps({"say": say})))


def _by_key(ctx, key: str, team: str = TEAM) -> QueuedTask:
    with ctx.reading() as session:
        task = repo.by_key(session, team, key)
    assert task is not None
    return task


def test_cancel_takes_back_only_pending_and_dead_tasks_of_the_given_keys_and_team(ctx):
    for key in ("pending", "sending", "sent", "dead", "other"):
        _add(ctx, key)
    _add(ctx, "pending", team="T0TWO")
    now = datetime.now(UTC) + timedelta(seconds=1)  # the tasks were queued on the real clock
    with ctx.transaction() as session:
        ids = {task.key: task.id for task in repo.by_keys(session, TEAM, ["sending", "sent", "dead"])}
        repo.claim(session, ids["sending"], now, timedelta(seconds=15))
        repo.finish(session, ids["sent"], "sent", now)
        repo.dead(session, ids["dead"], "channel_not_found")
    with ctx.transaction() as session:
        cancelled = repo.cancel(session, TEAM, ["pending", "sending", "sent", "dead", "missing"], now)
    assert cancelled == 2
    with ctx.reading() as session:
        found = {task.key: task.status for task in repo.by_keys(session, TEAM, ["pending", "sending", "sent", "dead",
                                                                                 "other"])}
    assert found == {"pending": "cancelled", "sending": "sending", "sent": "sent", "dead": "cancelled",
                     "other": "pending"}
    assert _by_key(ctx, "pending", team="T0TWO").status == "pending"
    assert _by_key(ctx, "dead").last_error == "channel_not_found"  # what Slack said is kept
    with ctx.reading() as session:
        assert repo.due(session, now + timedelta(seconds=1)) == [(_by_key(ctx, "other").id, "post"),
                                                              (_by_key(ctx, "pending", team="T0TWO").id, "post")]
        assert repo.counts(session)["cancelled"] == 2
        assert [t.key for t in repo.listing(session, "cancelled")] == ["dead", "pending"]
        assert "cancelled" not in {t.status for t in repo.listing(session, troubled=True)}


def test_a_cancelled_key_queued_again_is_pending_again_with_the_new_payload(ctx):
    _add(ctx, "report", "old")
    now = datetime.now(UTC) + timedelta(seconds=1)
    with ctx.transaction() as session:
        (task,) = repo.by_keys(session, TEAM, ["report"])
        for _ in range(3):  # three failed attempts
            repo.claim(session, task.id, now, timedelta(seconds=15))
            repo.retry(session, task.id, now, "Slack server error 500")
        repo.cancel(session, TEAM, ["report"], now)
    _add(ctx, "report", "new")
    again = _by_key(ctx, "report")
    assert (again.id, again.status, json.loads(again.payload)) == (task.id, "pending", {"say": "new"})
    # One attempt counted: the first retry looks in Slack's history for a post whose answer was lost.
    assert again.attempts == 0 and again.last_error is None and again.finished_at is None
    with ctx.transaction() as session:
        assert repo.add(session, QueuedTask(team_id=TEAM, key="report", kind="post", payload="{}")) is False
    assert json.loads(_by_key(ctx, "report").payload) == {"say": "new"}  # a key still queued is one task
