"""The evaluation tick as a scheduled job, and the snapshot listener's promise to never lose data."""

from __future__ import annotations

import logging

import pytest

from aurum.alerts import evaluation
from aurum.config import AurumConfig
from aurum.core.jobs import JobRunner
from aurum.kpis import service as kpis
from bot.jobs import compose_jobs
from storage import alerts as repo
from storage import snapshots
from storage.rollups import SnapshotBase
from storage.workspaces import ensure
from tests.alerts.support import TEAM, Clock, record


def test_the_tick_runs_every_minute_once_per_minute(ctx):
    clock = Clock()
    ctx.clock = clock
    job = compose_jobs(AurumConfig())["alerts"]
    assert job.cron == "* * * * *"
    with ctx.transaction() as session:
        ensure(session, TEAM)
    record(ctx, "api_error_rate_percentage", 0.2)
    with ctx.transaction() as session:  # written behind the listener's back, as a restored backup would be
        snapshots.add_many(session, TEAM, [SnapshotBase(kpi="api_error_rate_percentage", value=7.0,
                                                        at=clock.advance(seconds=30), source="test")])
    runner = JobRunner(ctx)
    clock.advance(seconds=30)
    (outcome,) = runner.fire("alerts")
    assert outcome.result == "1 transitions, 1 open episodes"
    assert runner.fire("alerts")[0].result == "already ran"
    with ctx.reading() as session:
        (episode,) = repo.history(session, TEAM)
    assert episode.rule == "ApiErrorRateHigh" and episode.value == 7.0


def test_a_failing_evaluation_never_costs_the_snapshot(ctx, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("rule engine bug")

    monkeypatch.setattr(evaluation, "evaluate", broken)
    with caplog.at_level(logging.ERROR, logger="aurum.alerts.evaluation"), ctx.transaction() as session:
        kpis.record(ctx, session, TEAM, ctx.catalog.get("api_error_rate_percentage"), 9.0)
    assert "alert evaluation failed" in caplog.text
    with ctx.reading() as session:
        status = kpis.status(ctx, session, TEAM, ctx.catalog.get("api_error_rate_percentage"))
    assert status.latest is not None and status.latest.value == 9.0


@pytest.mark.parametrize("value", [0.5, 3.0])
def test_kpi_record_evaluates_the_rules_in_the_same_transaction(ctx, value):
    with ctx.transaction() as session:
        kpis.record(ctx, session, TEAM, ctx.catalog.get("api_error_rate_percentage"), value)
    with ctx.reading() as session:
        episodes = repo.history(session, TEAM)
    assert len(episodes) == (1 if value > 1 else 0)
