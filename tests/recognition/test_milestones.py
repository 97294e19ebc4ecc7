"""A celebration only for a meaningful value: enough votes behind alert accuracy, no 🎉 for a problem count back
at 0, and the card's status and the celebration agree for a band target."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from aurum.alerts import actions
from aurum.kpis import service as kpis
from aurum.kpis.status import state_of
from aurum.recognition.milestones import STRETCH, TARGET, levels
from bot.compose import build_context
from storage.alerts import AlertEpisode
from storage.recognition import Achievement, KpiCrossing
from storage.workspaces import ensure
from tests.recognition.support import TEAM, store
from tests.recognition.support import celebrations as posts


def achievements(ctx) -> list[Achievement]:
    with ctx.reading() as session:
        return list(session.scalars(select(Achievement)))


def vote(ctx, verdicts: str, first: int = 0) -> float | None:
    """One vote per letter (u: useful, n: noise), each on an alert of its own; the alert accuracy stored last."""
    percent = None
    for i, letter in enumerate(verdicts, start=first):
        with ctx.transaction() as session:
            episode = AlertEpisode(team_id=TEAM, rule="ApiErrorRateHigh", fingerprint=f"f{i}", status="resolved",
                                   settled=True, started_at=ctx.now(), fired_at=ctx.now())
            session.add(episode)
            session.flush()
            verdict = "useful" if letter == "u" else "noise"
            percent = actions.feedback(ctx, session, TEAM, episode.id, f"U{i}", verdict).percent
    return percent


@pytest.fixture
def team(ctx):
    with ctx.transaction() as session:
        ensure(session, TEAM)
    return ctx


def test_one_useful_vote_is_100_percent_alert_accuracy_but_no_celebration(team):
    store(team, "alert_accuracy_percentage", 80.0)  # an earlier value, below the >90 % target
    assert vote(team, "u") == 100.0
    assert vote(team, "nnn", first=1) == 25.0  # three clicks later: the 100 % meant nothing
    assert posts(team) == [] and achievements(team) == []
    assert vote(team, "uuuuuu", first=4) == 70.0  # 10 votes, below the >90 % target
    assert posts(team) == []
    vote(team, "u" * 20, first=10)  # 27 of 30 useful: 90 % is not >90 %
    assert posts(team) == []
    assert vote(team, "u", first=30) == pytest.approx(28 / 31 * 100)
    (post,) = posts(team)
    assert post.key == "celebrate:alert_accuracy_percentage:target:1"
    assert json.loads(post.payload)["text"] == "🎉 Alert accuracy reached its target: 90.32%"


def test_the_minimum_number_of_votes_is_configurable(settings, tmp_path):
    config = tmp_path / "team.yml"
    config.write_text("reports:\n  celebration_min_samples: 3\n", encoding="utf-8")
    ctx = build_context(settings.model_copy(update={"aurum_config": config}))
    with ctx.transaction() as session:
        ensure(session, TEAM)
    vote(ctx, "uu")
    assert posts(ctx) == []
    vote(ctx, "u", first=2)  # the third vote makes the 100 % count
    assert [p.key for p in posts(ctx)] == ["celebrate:alert_accuracy_percentage:target:1"]
    ctx.engine.dispose()


@pytest.mark.parametrize("kpi", ["deployment_failures", "dependency_conflicts"])
def test_a_problem_count_back_at_0_is_a_recovery_not_a_milestone(team, kpi):
    store(team, kpi, 1, 0, 1, 0, 0, 1, 0)
    assert posts(team) == [] and achievements(team) == []
    with team.reading() as session:
        state = session.scalars(select(KpiCrossing).where(KpiCrossing.kpi == kpi)).one()
    assert state.reached and state.crossings == 3  # the state is kept: phase completion still reads the target


def test_velocity_above_its_band_is_at_risk_on_the_card_and_not_celebrated(team):
    velocity = team.catalog.get("story_points_completed_per_sprint")
    store(team, velocity.key, 35)  # first sight
    store(team, velocity.key, 50, start=1)  # into the 40–60 band: target reached
    store(team, velocity.key, 70, 66, start=2)  # above the band, beyond the seed's stretch goal of 65
    with team.reading() as session:
        card = kpis.status(team, session, TEAM, velocity)
    assert card.latest.value == 66 and card.state == "at_risk"
    assert [p.key for p in posts(team)] == ["celebrate:story_points_completed_per_sprint:target:1"]
    store(team, velocity.key, 58, start=4)  # back into the band
    texts = [json.loads(p.payload)["text"] for p in posts(team)]
    assert texts == ["🎉 Sprint velocity reached its target: 50 points",
                     "🎉 Sprint velocity reached its target: 58 points"]  # never "beat its stretch goal"


@pytest.mark.parametrize("key", ["story_points_completed_per_sprint", "test_coverage_percentage",
                                 "api_error_rate_percentage", "service_availability_percentage"])
def test_the_celebration_levels_follow_the_cards_status(ctx, key):
    kpi = ctx.catalog.get(key)
    low, high = kpi.allowed
    top = high if high is not None else 2 * max(kpi.stretch or 0, kpi.baseline or 0, 100)
    for step in range(401):
        value = (low or 0) + (top - (low or 0)) * step / 400
        found = levels(kpi, value)
        on_card = state_of(kpi, value) == "on_track"
        assert found[TARGET] == on_card, value
        assert not found.get(STRETCH) or on_card, value


def test_a_phase_is_not_complete_on_one_vote_of_alert_accuracy(team):
    meets = {"cache_hit_rate_percentage": 85, "cache_response_time_ms": 30, "cache_memory_usage_gb": 1.5,
             "cache_eviction_rate_percentage": 2, "slo_achievement_percentage": 99.8,
             "incident_recovery_time_minutes": 20, "structured_log_coverage_percentage": 100}
    for i, (key, value) in enumerate(meets.items()):
        store(team, key, value, start=i)
    vote(team, "u")  # the last phase 2 metric: 100 % on one vote
    assert posts(team, "achievement:phase_complete") == []
    vote(team, "u" * 9, first=1)  # ten votes: it counts, and phase 2 is complete
    assert [p.key for p in posts(team, "achievement:phase_complete")] == ["achievement:phase_complete:2:1"]
