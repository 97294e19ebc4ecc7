"""Each report's numbers equal the stored snapshots and sprints (checked by value), its Block Kit is valid and its
chart is a PNG — on the demo history with a controlled clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from aurum import demo
from aurum.kpis import formatting
from aurum.reports import executive, quarterly, retro, roadmap, sprints, weekly
from aurum.reports.inputs import NOT_AVAILABLE
from storage import notes
from storage.rollups import KpiSnapshot
from storage.sprints import Sprint
from storage.workspaces import ensure
from tests.blockkit import assert_valid_blocks, text_of

TEAM = "T0001"
NOW = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)  # a Friday


@pytest.fixture
def demo_ctx(ctx):
    ctx.clock = lambda: NOW
    with ctx.transaction() as session:
        ensure(session, TEAM)
        demo.load(session, ctx.catalog, TEAM, NOW - timedelta(days=3))
    return ctx


def latest_value(session, key: str, before: datetime | None = None) -> float | None:
    query = select(KpiSnapshot.value).where(KpiSnapshot.team_id == TEAM, KpiSnapshot.kpi == key)
    if before is not None:
        query = query.where(KpiSnapshot.at <= before)
    return session.scalars(query.order_by(KpiSnapshot.at.desc()).limit(1)).first()


def closed_sprints(session) -> list[Sprint]:
    query = select(Sprint).where(Sprint.team_id == TEAM, Sprint.state == "closed")
    return list(session.scalars(query.order_by(Sprint.completed_at.desc())))


def test_weekly_numbers_equal_the_stored_sprints_and_snapshots(demo_ctx):
    ctx = demo_ctx
    with ctx.transaction() as session:
        active = session.scalars(select(Sprint).where(Sprint.state == "active")).one()
        active.completed_points = 12.0
        notes.add(session, TEAM, notes.BLOCKER, "Trino pool <!channel> assigned to <@U123|john>", "U7", NOW)
        notes.add(session, TEAM, notes.COMMITMENT, "Complete metadata service migration", "U7", NOW)
        notes.add(session, TEAM, notes.COMMITMENT, "From last month", "U7", NOW - timedelta(days=30))
    with ctx.reading() as session:
        report = weekly.build(ctx, session, TEAM)
        data = weekly.compute(ctx, session, TEAM)
        last3 = [s.completed_points for s in closed_sprints(session)[:3]]
        velocity_points = [v for v in session.scalars(
            select(KpiSnapshot.value).where(KpiSnapshot.kpi == "story_points_completed_per_sprint")
            .order_by(KpiSnapshot.at.desc()).limit(3))]
        review, ci, coverage = (latest_value(session, k) for k in weekly.TEAM_METRICS)
        coverage_week_ago = latest_value(session, "test_coverage_percentage", NOW - timedelta(days=7))

    assert data.velocity.value == pytest.approx(sum(last3) / 3) == pytest.approx(sum(velocity_points) / 3)
    assert data.sprint.completed == 12.0 and data.sprint.committed == 50.0
    # three of 14 days gone: 50 × 3/14 ≈ 10.7 expected, 12 done → on track
    assert data.sprint.expected == pytest.approx(50 * 3 / 14)
    assert data.sprint.on_track is True
    text = text_of(report.blocks)
    assert "12/50 story points completed (24%)" in text
    assert f"3-sprint average: {formatting.number(sum(last3) / 3)} points" in text
    assert f"{formatting.number(review)} days average (target <2 days)" in text
    assert f"CI success rate*\n{formatting.number(ci)}%" in text
    change = coverage - coverage_week_ago
    assert data.coverage_week.change == pytest.approx(change)
    arrow = "↑" if change > 0 else "↓"
    assert f"{formatting.number(coverage)}% ({arrow} {formatting.number(abs(change))} pts this week)" in text
    assert "&lt;!channel&gt; assigned to <@U123>" in text  # escaped, the mention kept
    assert "Complete metadata service migration" in text and "From last month" not in text
    assert f"Survey blockers: {NOT_AVAILABLE}" in text
    for win in data.wins:  # every win improved or reached its target over exactly this week
        assert win.end == latest_value_at(ctx, win.kpi.key, NOW)
        assert win.start == latest_value_at(ctx, win.kpi.key, NOW - timedelta(days=7))
        assert win.reached_target or win.improved
    assert_valid_blocks(report.blocks)
    (chart,) = report.files
    assert chart.content.startswith(b"\x89PNG\r\n\x1a\n")


def latest_value_at(ctx, key: str, at: datetime) -> float | None:
    with ctx.reading() as session:
        return latest_value(session, key, at)


def test_burndown_behind_when_points_lag_the_days(demo_ctx):
    with demo_ctx.transaction() as session:
        active = session.scalars(select(Sprint).where(Sprint.state == "active")).one()
        active.completed_points = 4.0  # 10.7 expected, 10 % slack is 5 points → behind
    with demo_ctx.reading() as session:
        data = weekly.compute(demo_ctx, session, TEAM)
    assert data.sprint.on_track is False
    assert "Behind the sprint goal" in "\n".join(weekly.sprint_lines(data))


def test_executive_dashboard_numbers_equal_the_stored_snapshots(demo_ctx):
    ctx = demo_ctx
    with ctx.reading() as session:
        report = executive.build(ctx, session, TEAM)
        data = executive.compute(ctx, session, TEAM)
        met = total = 0
        per_phase = {}
        for phase in ctx.catalog.phases:
            hits = 0
            for key in phase.metrics:
                value = latest_value(session, key)
                hits += value is not None and ctx.catalog.get(key).target.met(value)
            per_phase[phase.number] = hits / len(phase.metrics) * 100
            met, total = met + hits, total + len(phase.metrics)
        velocity_now = latest_value(session, "story_points_completed_per_sprint")
        velocity_then = latest_value(session, "story_points_completed_per_sprint", NOW - timedelta(days=30))
        latency = latest_value(session, "api_response_time_p95")
        budget = latest_value(session, "budget_utilization_percentage")

    assert data.roadmap.percent == pytest.approx(met / total * 100)
    assert {p.number: p.percent for p in data.roadmap.phases} == pytest.approx(per_phase)
    text = text_of(report.blocks)
    assert (f"*Roadmap completion*: {formatting.number(met / total * 100)}% (Phase 1: "
            f"{formatting.number(per_phase[1])}% complete)") in text
    trend = (velocity_now - velocity_then) / velocity_then * 100
    arrow = "↑" if trend > 0 else "↓"
    assert (f"{formatting.number(velocity_now)} story points/sprint ({arrow}{formatting.number(abs(trend))}% "
            "vs last month)") in text
    assert f"*Budget*: {formatting.number(budget)}% utilized" in text
    assert f"API p95 response time  {round(latency)} ms" in text
    assert "Next month focus" in text and "API p95 response time: from" in text
    assert "Open critical alerts" not in text  # alerts are tracked, and none is open
    assert_valid_blocks(report.blocks)
    assert report.files[0].content.startswith(b"\x89PNG")


def test_budget_shows_the_amount_when_the_quarterly_budget_is_configured(demo_ctx):
    demo_ctx.config.reports.quarterly_budget = 350_000
    with demo_ctx.reading() as session:
        data = executive.compute(demo_ctx, session, TEAM)
    assert executive.budget_line(demo_ctx, data) == "*Budget*: 67% utilized ($234K of $350K quarterly)"


def test_sprint_retrospective_numbers(demo_ctx):
    ctx = demo_ctx
    with ctx.transaction() as session:
        previous = closed_sprints(session)[:3]
        sprint = sprints.end(ctx, session, TEAM, 38.0)
        sprint.committed_points = 50.0
    with ctx.reading() as session:
        data = retro.compute(ctx, session, TEAM, sprint)
        report = retro.build(ctx, session, TEAM, sprint)
    assert data.completed == 38.0 and data.carry_over == 12.0
    assert data.in_band is False  # 38 is below 40–60
    assert data.previous.value == pytest.approx(sum(s.completed_points for s in previous) / 3)
    text = text_of(report.blocks)
    assert "38 points — below the 40–60 target" in text
    assert "*Committed vs completed*: 38/50 points (76%)" in text and "*Carry-over*: 12 points" in text
    assert "Velocity 38 is below the 40–60 band" in text and "12 points carried over" in text
    assert f"Alerts: {NOT_AVAILABLE}" not in text  # alerts are tracked (none in this sprint)
    assert f"Survey results: {NOT_AVAILABLE}" in text  # no survey run closed in the sprint
    assert_valid_blocks(report.blocks)
    assert report.files[0].content.startswith(b"\x89PNG")


def test_quarterly_pack_and_blog_draft(demo_ctx):
    ctx = demo_ctx
    with ctx.reading() as session:
        report = quarterly.build(ctx, session, TEAM)
        data = quarterly.compute(ctx, session, TEAM)
        features = latest_value(session, "features_delivered_per_quarter")
        start = datetime(2026, 10, 1, tzinfo=UTC)
        coverage = (latest_value(session, "test_coverage_percentage", start),
                    latest_value(session, "test_coverage_percentage"))
    assert data.period == "2026-Q4" and data.features == features
    move = next(m for m in data.changes if m.kpi.key == "test_coverage_percentage")
    assert (move.start, move.end) == coverage
    text = text_of(report.blocks)
    assert f"*Features delivered*: {formatting.number(features)} features against the 12–15 features target" in text
    (draft,) = report.files
    assert draft.filename == "aurum-2026-q4-achievements.md"
    body = draft.content.decode()
    assert body.startswith("# Q4 2026 at Aurum engineering") and "| Metric | Start of quarter |" in body
    assert_valid_blocks(report.blocks)


def test_roadmap_lists_every_phase_with_its_metrics(demo_ctx):
    with demo_ctx.reading() as session:
        plan = roadmap.compute(demo_ctx, session, TEAM)
    message = roadmap.render(plan)
    assert_valid_blocks(message)
    text = text_of(message)
    for phase in demo_ctx.catalog.phases:
        assert f"*Phase {phase.number}: " in text
        for key in phase.metrics:
            assert demo_ctx.catalog.get(key).name in text


def test_review_agendas_are_prefilled(demo_ctx):
    from aurum.reports import reminders

    ctx = demo_ctx
    with ctx.transaction() as session:
        notes.add(session, TEAM, notes.BLOCKER, "Flaky integration env", "U7", NOW - timedelta(days=2))
        notes.add(session, TEAM, notes.COMMITMENT, "Begin cache middleware", "U7", NOW - timedelta(hours=1))
    with ctx.reading() as session:
        weekly_agenda = reminders.weekly_agenda(ctx, session, TEAM)
        monthly_agenda = reminders.monthly_agenda(ctx, session, TEAM)
        quarterly_agenda = reminders.quarterly_agenda(ctx, session, TEAM)
        plan = roadmap.compute(ctx, session, TEAM)
    text = text_of(weekly_agenda.blocks)
    assert "Weekly team review today at 14:00" in text and "30 min" in text
    assert "Flaky integration env" in text and "Begin cache middleware" in text and "0/50 story points" in text
    monthly = text_of(monthly_agenda.blocks)
    assert "Monthly stakeholder review today at 10:00" in monthly and roadmap.summary_line(plan) in monthly
    assert f"Stakeholder survey results: {NOT_AVAILABLE}" in monthly
    assert "Phase completion assessment" in text_of(quarterly_agenda.blocks)
    for agenda in (weekly_agenda, monthly_agenda, quarterly_agenda):
        assert_valid_blocks(agenda.blocks)


def test_a_chart_of_a_single_value_renders_without_warnings():
    """A new workspace's first number: one instant on the time axis (matplotlib warned, an error under pytest)."""
    from aurum.reports.charts import Series, lines

    at = datetime(2026, 11, 27, 12, tzinfo=UTC)
    png = lines([Series("Code coverage", [(at, 13.7)]), Series("Availability", [(at, 99.9)])], [], UTC,
                "One value", "%")
    assert png.startswith(b"\x89PNG")
