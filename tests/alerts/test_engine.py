"""The state machine on hand-made timelines, and the missing-data policies through the database."""

from __future__ import annotations

from datetime import timedelta

from aurum.alerts import engine
from storage import alerts as repo
from tests.alerts.support import T0, TEAM, Clock, record, tick, use_config

MIN = timedelta(minutes=1)


def run(values, hold=0, keep=0, missing="resolve") -> list[str]:
    state, out = engine.INACTIVE, []
    for i, value in enumerate(values):
        holds = None if value is None else value > 1
        result = engine.step(state, holds, value, T0 + i * MIN, hold * MIN, keep * MIN, missing)
        state = result.state
        out.append(state.state[0])  # i(nactive), p(ending), f(iring)
    return out


def test_for_makes_it_pending_first_and_one_false_evaluation_resets_it():
    assert "".join(run([2, 2, 2, 0, 2, 2, 2, 2], hold=3)) == "pppipppf"


def test_without_for_it_fires_at_once_and_resolves_at_once():
    assert "".join(run([0, 2, 2, 0, 0])) == "iffii"


def test_keep_firing_for_holds_it_and_a_true_evaluation_restarts_the_countdown():
    assert "".join(run([2, 0, 0, 2, 0, 0, 0], keep=2)) == "ffffffi"


def test_missing_data_policies():
    assert "".join(run([2, None, None, 2], missing="resolve")) == "fiif"
    assert "".join(run([2, None, None, 0], missing="keep_state")) == "fffi"
    assert "".join(run([None, None, 0], missing="alert")) == "ffi"
    assert "".join(run([None, None, None], hold=1, missing="keep_state")) == "iii"


def test_no_data_alert_fires_with_no_data_in_the_message(ctx):
    clock = Clock()
    ctx.clock = clock
    use_config(ctx, {"alerts": {"rules": {"ApiLatencyHigh": {"missing_data": "alert", "for": "0s",
                                                             "business_hours_only": False}}}})
    record(ctx, "api_response_time_p95", 120.0)
    clock.advance(minutes=20)  # the latest value is older than max_age (15m): no data
    tick(ctx)
    with ctx.reading() as session:
        (episode,) = repo.history(session, TEAM)
    assert episode.no_data and episode.value is None and episode.status == "firing"
    from aurum.alerts.blocks import title

    assert title(episode) == "⚪ No data · ApiLatencyHigh"
    clock.advance(minutes=1)
    record(ctx, "api_response_time_p95", 120.0)
    with ctx.reading() as session:
        (episode,) = repo.history(session, TEAM)
    assert episode.status == "resolved"


def test_keep_state_leaves_a_deployment_failure_firing_until_a_good_deploy(ctx):
    clock = Clock()
    ctx.clock = clock
    record(ctx, "deployment_failures", 1)
    clock.advance(days=40)  # older than its max_age of 30 days: missing, and the rule keeps its state
    tick(ctx)
    with ctx.reading() as session:
        assert repo.states(session, TEAM)[("DeploymentFailed", ctx.config.alerts.rules["DeploymentFailed"]
                                           .fingerprint)].state == "firing"
    record(ctx, "deployment_failures", 0)
    with ctx.reading() as session:
        (episode,) = repo.history(session, TEAM)
    assert episode.status == "resolved"
