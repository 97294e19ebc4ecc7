"""A job a workspace scheduled otherwise in Slack runs at the workspace's times; the clock's timetable (the config
file's schedules) keeps running it for the other workspaces."""

from __future__ import annotations

from datetime import UTC, datetime

from aurum.core.jobs import JobRunner
from aurum.settings import edits
from storage.workspaces import ensure
from tests.settings.conftest import ADMIN

OWN, FILE = "T0001", "T0002"


def test_a_changed_schedule_moves_the_workspaces_runs_and_only_its_own(ctx):
    with ctx.transaction() as session:
        ensure(session, OWN)
        ensure(session, FILE)
    edits.change(ctx, OWN, ADMIN, {"schedules.heartbeat": "30 * * * *"})
    runner = JobRunner(ctx, jobs={"heartbeat": ctx.jobs["heartbeat"]})

    ctx.clock = lambda: datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # the file's time: 10:00
    assert [o.team_id for o in runner.fire("heartbeat")] == [FILE]
    # its latest own time, 09:30, lies within the grace window and has not run: caught up, as the clock does
    assert [(o.team_id, o.period) for o in runner.own_schedules()] == [(OWN, "2026-12-07T09:30+0000")]
    ctx.clock = lambda: datetime(2026, 12, 7, 10, 30, tzinfo=UTC)  # the workspace's own time
    assert [(o.team_id, o.period) for o in runner.own_schedules()] == [(OWN, "2026-12-07T10:30+0000")]
    assert runner.own_schedules() == []  # its period has run
