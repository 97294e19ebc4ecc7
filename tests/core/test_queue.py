"""The task queue itself, with a kind of its own: a new kind needs a handler and nothing else, and every kind gets
the same idempotent add, claim lease, back-off, Retry-After and dead letters."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from aurum.core import queue
from aurum.core.outbox import OutboxWorker
from aurum.core.queue import Handler, Outcome, QueueWorker, TaskError
from storage import queue as repo
from storage.queue import QueuedTask
from tests.alerts.support import Clock

TEAM = "T0001"


class Echo(Handler):
    """Answers with its payload, after failing with the errors it is given."""

    counter = "alert_tasks"  # any declared counter with kind and result labels

    def __init__(self, *failures: TaskError):
        self.failures = list(failures)
        self.payloads: list[dict[str, Any]] = []

    def run(self, task: QueuedTask, payload: dict[str, Any], prepared: None) -> Outcome:
        if self.failures:
            raise self.failures.pop(0)
        self.payloads.append(payload)
        return Outcome(result={"echo": payload["say"]})


@pytest.fixture
def clock(ctx) -> Clock:
    ctx.clock = Clock()
    return ctx.clock


def _task(ctx, key: str = "echo:1") -> QueuedTask:
    with ctx.reading() as session:
        task = repo.by_key(session, TEAM, key)
    assert task is not None
    return task


def test_a_new_kind_needs_only_a_handler_and_a_key_queued_twice_is_one_task(ctx, clock):
    with ctx.transaction() as session:
        queue.enqueue(session, TEAM, "echo", {"say": "hi"}, key="echo:1")
        queue.enqueue(session, TEAM, "echo", {"say": "again"}, key="echo:1")
    with ctx.transaction() as session:
        queue.enqueue(session, TEAM, "echo", {"say": "and again"}, key="echo:1")
    OutboxWorker(ctx, delivery=None).drain()  # type: ignore[arg-type]  # not one of the Slack kinds: left alone
    assert _task(ctx).status == "pending"
    echo = Echo()
    QueueWorker(ctx, {"echo": echo}).drain()
    assert echo.payloads == [{"say": "hi"}]
    task = _task(ctx)
    assert (task.status, task.attempts, task.result, task.last_error) == ("done", 1, '{"echo": "hi"}', None)
    assert task.finished_at == clock.now


def test_failures_back_off_a_retry_after_is_no_failure_and_the_last_attempt_leaves_a_dead_letter(ctx, clock):
    with ctx.transaction() as session:
        queue.enqueue(session, TEAM, "echo", {"say": "hi"}, key="echo:1")
    echo = Echo(TaskError("busy", retry_after=30), *(TaskError(f"down {i}") for i in range(3)))
    worker = QueueWorker(ctx, {"echo": echo}, max_attempts=3)
    worker.drain()
    task = _task(ctx)
    assert (task.status, task.attempts, task.last_error) == ("pending", 0, "busy")
    assert task.next_attempt_at == clock.now + timedelta(seconds=30)
    waits = []
    for attempt in (1, 2):
        assert worker.run_once() == 0  # not due before its wait has passed
        clock.set(task.next_attempt_at)
        worker.drain()
        task = _task(ctx)
        assert (task.status, task.attempts, task.last_error) == ("pending", attempt, f"down {attempt - 1}")
        waits.append(task.next_attempt_at - clock.now)
    assert queue.FIRST_BACKOFF * 0.8 <= waits[0] <= queue.FIRST_BACKOFF * 1.2  # the one curve, doubling
    assert queue.FIRST_BACKOFF * 1.6 <= waits[1] <= queue.FIRST_BACKOFF * 2.4
    assert worker.run_once() == 0
    clock.set(task.next_attempt_at)
    worker.drain()
    task = _task(ctx)
    assert (task.status, task.attempts, task.last_error) == ("dead", 3, "down 2")
    assert echo.payloads == []
    assert ctx.telemetry.value("alert_tasks", kind="echo", result="dead") == 1
    assert ctx.telemetry.value("alert_tasks", kind="echo", result="retry") == 3


def test_a_task_whose_worker_died_is_taken_again_once_its_claim_lease_has_run_out(ctx, clock):
    with ctx.transaction() as session:
        queue.enqueue(session, TEAM, "echo", {"say": "hi"}, key="echo:1")
    with ctx.transaction() as session:  # a worker claims it, then dies before it finishes
        assert repo.claim(session, _task(ctx).id, clock.now, Echo.claim_for) is not None
    echo = Echo()
    worker = QueueWorker(ctx, {"echo": echo})
    worker.drain()
    assert echo.payloads == [] and _task(ctx).status == "sending"
    clock.advance(seconds=Echo.claim_for.total_seconds() + 1)
    worker.drain()
    task = _task(ctx)
    assert echo.payloads == [{"say": "hi"}] and (task.status, task.attempts) == ("done", 2)


def test_collect_keys_reports_the_tasks_queued_in_its_block_only(ctx):
    with ctx.transaction() as session:
        queue.enqueue(session, TEAM, "echo", {"say": "before"}, key="echo:before")
    with queue.collect_keys() as outer, ctx.transaction() as session:
        queue.enqueue(session, TEAM, "echo", {"say": "again"}, key="echo:before")  # queued already: not new
        made = queue.enqueue(session, TEAM, "echo", {"say": "fresh"})
        with queue.collect_keys() as inner:
            queue.enqueue(session, "T0TWO", "echo", {"say": "inner"}, key="echo:inner")
    with ctx.transaction() as session:
        queue.enqueue(session, TEAM, "echo", {"say": "after"}, key="echo:after")
    assert outer == [(TEAM, made), ("T0TWO", "echo:inner")]
    assert inner == [("T0TWO", "echo:inner")]
