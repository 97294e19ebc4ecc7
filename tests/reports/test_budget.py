"""The quarter's budget as entered: the newest entry of the quarter in force, % used against % of the quarter gone,
and the burn per month against the even pace — by value, with a controlled clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aurum.kpis import service as kpis
from aurum.reports import budget, executive
from storage.workspaces import ensure
from tests.blockkit import assert_valid_blocks, text_of

TEAM = "T0001"
NOW = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)  # Q4: 46 of 92 days gone, half the quarter


@pytest.fixture
def clocked(ctx):
    ctx.clock = lambda: NOW
    with ctx.transaction() as session:
        ensure(session, TEAM)
    return ctx


def enter(ctx, spent: float, total: float, at: datetime, author: str = "UADMIN") -> budget.Budget:
    ctx.clock = lambda: at
    with ctx.transaction() as session:
        return budget.record(ctx, session, TEAM, spent, total, author)


def test_the_newest_entry_of_the_quarter_is_in_force_and_the_pace_is_against_an_even_spread(clocked):
    enter(clocked, 90_000, 300_000, datetime(2026, 9, 30, 12, tzinfo=UTC))  # last quarter: not this one's
    enter(clocked, 100_000, 400_000, NOW - timedelta(days=10))
    found = enter(clocked, 240_000, 400_000, NOW)
    assert (found.quarter, found.spent, found.budget, found.entries) == ("2026-Q4", 240_000, 400_000, 2)
    assert found.used == pytest.approx(0.6)
    assert found.elapsed == pytest.approx(0.5)
    assert found.burn_per_month == pytest.approx(160_000)  # 240K over 1.5 months
    assert found.even_per_month == pytest.approx(400_000 / 3)
    with clocked.reading() as session:
        card = kpis.status(clocked, session, TEAM, clocked.catalog.get(budget.KPI))
    assert (card.latest.value, card.latest.source) == (60, "budget")
    assert budget.lines(found, "$") == [
        "$240K of $400K spent in 2026-Q4 (60% used, 50% of the quarter gone)",
        "Burn: $160K/month vs an even pace of $133K/month — ⚠️ above the even pace",
        "Entered by <@UADMIN> (2 entries this quarter)",
    ]


@pytest.mark.parametrize(("spent", "verdict"), [(200_000, "on the even pace"), (150_000, "below the even pace")])
def test_spending_at_or_under_the_pace(clocked, spent, verdict):
    assert budget.pace(enter(clocked, spent, 400_000, NOW)) == verdict


def test_no_burn_rate_in_the_quarters_first_hours(clocked):
    found = enter(clocked, 1_000, 400_000, datetime(2026, 10, 1, 0, 30, tzinfo=UTC))
    assert found.burn_per_month is None
    assert "no burn rate yet" in budget.lines(found, "€")[1] and "too early" in budget.pace(found)


def test_the_executive_dashboard_shows_the_entered_budget_in_its_own_section(clocked):
    enter(clocked, 1_200_000, 2_000_000, NOW)
    with clocked.reading() as session:
        report = executive.build(clocked, session, TEAM)
    text = text_of(report.blocks)
    assert "*Budget*: 60% utilized ($1.2M of $2M quarterly)" in text
    assert "*💰 Budget*\n• $1.2M of $2M spent in 2026-Q4" in text
    assert_valid_blocks(report.blocks)


def test_without_an_entry_the_dashboard_says_how_to_enter_one(clocked):
    with clocked.reading() as session:
        data = executive.compute(clocked, session, TEAM)
    assert data.entered_budget is None
    assert executive.budget_line(clocked, data) == \
        "*Budget*: not recorded (`/report budget <spent> of <quarterly budget>`)"
