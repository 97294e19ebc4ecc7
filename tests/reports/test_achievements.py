"""One line per achievement: a KPI crossing appears once in the executive dashboard's Achievements and in the
weekly Wins — not as a KPI movement and again as the celebration it recorded, nor once per repeated crossing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aurum.core import ingest
from aurum.reports import executive, weekly
from storage.rollups import SnapshotBase
from storage.workspaces import ensure
from tests.blockkit import assert_valid_blocks, text_of
from tests.reports.test_numbers import NOW, TEAM


@pytest.fixture
def crossed_twice(ctx):
    """Coverage below its >80 % target a week ago, across it, back below, and across it again this week."""
    ctx.clock = lambda: NOW
    with ctx.transaction() as session:
        ensure(session, TEAM)
    start = NOW - timedelta(days=9)
    for day, value in enumerate([76.0, 77.0, 79.0, 81.0, 82.0, 79.5, 80.0, 83.0, 83.5]):
        with ctx.transaction() as session:
            ingest.store(ctx, session, TEAM, [SnapshotBase(kpi="test_coverage_percentage", value=value,
                                                           at=start + timedelta(days=day), source="ci")])
    return ctx


def coverage_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if "Code coverage" in line]


def test_the_weekly_wins_list_a_kpi_crossing_once(crossed_twice):
    with crossed_twice.reading() as session:
        data = weekly.compute(crossed_twice, session, TEAM)
    (line,) = coverage_lines(weekly.win_lines(data))
    assert line == "🏅 *Code coverage reached its target*: Code coverage is at 83% (target &gt;80%)"
    message = weekly.render(data)
    assert_valid_blocks(message)
    assert text_of(message).count("Code coverage reached its target") == 1


def test_the_executive_achievements_list_a_kpi_crossing_once(crossed_twice):
    with crossed_twice.reading() as session:
        data = executive.compute(crossed_twice, session, TEAM)
    (line,) = coverage_lines(data.achievements)
    assert line == "🏅 Code coverage reached its target: Code coverage is at 83% (target &gt;80%)"


def test_a_target_reached_without_a_recorded_crossing_still_shows_once(ctx):
    """A first value on target leaves no celebration (nothing to compare with): the movement tells it."""
    ctx.clock = lambda: NOW
    with ctx.transaction() as session:
        ensure(session, TEAM)
        ingest.store(ctx, session, TEAM, [SnapshotBase(kpi="test_coverage_percentage", value=value, at=at,
                                                       source="ci")
                                          for at, value in ((NOW - timedelta(days=40), 78.0),
                                                            (NOW - timedelta(days=2), 82.0))])
    with ctx.reading() as session:
        data = executive.compute(ctx, session, TEAM)
    assert coverage_lines(data.achievements) == ["✅ Code coverage reached its target: 82%"]
