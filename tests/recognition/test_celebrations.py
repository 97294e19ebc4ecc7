"""Celebrations fire once per crossing of a target or stretch goal, again only after falling back; phase completion."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from aurum.core import ingest, outbox
from storage.recognition import Achievement, KpiCrossing
from storage.rollups import SnapshotBase
from storage.workspaces import ensure
from tests.blockkit import assert_valid_blocks
from tests.recognition.support import T0, TEAM, celebrations, store


def test_coverage_target_celebrated_once_per_crossing(ctx):
    with ctx.transaction() as session:
        ensure(session, TEAM)
    store(ctx, "test_coverage_percentage", 79.0)  # first sight: nothing to celebrate
    store(ctx, "test_coverage_percentage", 81.0, 82.0, 83.0, start=1)  # crosses >80 once
    assert [m.key for m in celebrations(ctx, "celebrate:")] == ["celebrate:test_coverage_percentage:target:1"]
    store(ctx, "test_coverage_percentage", 79.5, 80.0, start=4)  # falls back (80 is not >80)
    assert len(celebrations(ctx, "celebrate:")) == 1
    store(ctx, "test_coverage_percentage", 84.0, start=6)  # reaches it again
    store(ctx, "test_coverage_percentage", 85.5, start=7)  # and the final target, 85
    keys = [m.key for m in celebrations(ctx, "celebrate:")]
    assert keys == ["celebrate:test_coverage_percentage:target:1", "celebrate:test_coverage_percentage:target:2",
                    "celebrate:test_coverage_percentage:stretch:1"]
    first = celebrations(ctx, "celebrate:")[0]
    assert outbox.channel_of(first) == "#engineering"
    message = json.loads(first.payload)
    assert_valid_blocks(message["blocks"])
    assert "Quality Milestone" in message["blocks"][0]["text"]["text"]
    with ctx.reading() as session:
        state = session.scalars(select(KpiCrossing).where(KpiCrossing.kpi == "test_coverage_percentage",
                                                          KpiCrossing.level == "target")).one()
        kinds = [a.kind for a in session.scalars(select(Achievement))]
    assert state.reached and state.crossings == 2
    assert kinds == ["quality_milestone", "quality_milestone", "kpi_stretch"]


def test_a_batch_with_history_celebrates_only_a_real_crossing(ctx):
    with ctx.transaction() as session:
        ensure(session, TEAM)
        ingest.store(ctx, session, TEAM, [SnapshotBase(kpi="api_error_rate_percentage", value=v,
                                                       at=T0 + timedelta(minutes=i), source="prom")
                                          for i, v in enumerate([0.3, 0.2, 0.15])])
    store(ctx, "api_error_rate_percentage", 0.09, start=1)  # <0.1 reached
    store(ctx, "api_error_rate_percentage", 0.08, start=2)
    assert [m.key for m in celebrations(ctx, "celebrate:api_error")] == ["celebrate:api_error_rate_percentage:target:1"]


def test_phase_completion_is_celebrated_once(ctx):
    with ctx.transaction() as session:
        ensure(session, TEAM)
    meets = {"dependency_conflicts": 0, "dev_environment_setup_minutes": 1.5,
             "api_migration_completion_percentage": 100, "monolithic_service_loc": 450, "domain_services_count": 9,
             "service_test_coverage_percentage": 88, "dao_implementation_count": 9}
    for i, (key, value) in enumerate(meets.items()):
        store(ctx, key, value, start=i)
    store(ctx, "dao_implementation_count", 10, start=20)
    posts = celebrations(ctx, "achievement:phase_complete")
    assert [m.key for m in posts] == ["achievement:phase_complete:1:1"]
    assert "Phase 1 complete" in json.loads(posts[0].payload)["text"]
