"""The `teams:` section and which team a request is about."""

from __future__ import annotations

import pytest

from aurum.config import ConfigError, parse_config
from aurum.core.errors import InputError
from aurum.squads import teams
from storage.types import DEFAULT_SQUAD

TEAMS = {
    "platform": {"members": {"usergroup": "S0PLATFORM"}},
    "payments": {"name": "Payments", "default": True, "members": {"channel": "#payments"},
                 "channels": {"roadmap_updates": "#payments-roadmap"}, "scrum_masters": ["U0SM"],
                 "sprint_board": "42", "kpis": {"latency": {"target": "<150"}}},
}


def test_without_teams_there_is_one_implicit_team_holding_every_row():
    config = parse_config({})
    assert teams.all_squads(config) == [teams.IMPLICIT]
    assert teams.default_squad(config).stored == DEFAULT_SQUAD


def test_the_team_marked_default_holds_the_rows_from_before_teams():
    squads = {s.key: s for s in teams.all_squads(parse_config({"teams": TEAMS}))}
    assert squads["payments"].stored == DEFAULT_SQUAD
    assert squads["platform"].stored == "platform"
    assert squads["payments"].label == "Payments" and squads["platform"].label == "platform"
    first = {s.key: s.stored for s in teams.all_squads(parse_config({"teams": {
        "platform": TEAMS["platform"], "payments": {"members": {"channel": "#payments"}}}}))}
    assert first == {"platform": DEFAULT_SQUAD, "payments": "payments"}  # none marked: the first listed


@pytest.mark.parametrize(("teams_section", "expected"), [
    ({"Pay ments": {"members": {"channel": "#p"}}}, "team key 'Pay ments': use lower-case letters"),
    ({"a": {"members": {"channel": "#a"}, "default": True}, "b": {"members": {"channel": "#b"}, "default": True}},
     "teams a, b are all marked default: true; mark one"),
    ({"a": {"members": {}}}, "give exactly one of usergroup (e.g. S0PAYMENTS) or channel"),
    ({"a": {"members": {"channel": "#a"}, "channels": {"team": "payments"}}}, "'payments' is not a channel"),
    ({"a": {"members": {"channel": "#a"}, "kpis": {"latncy": {"target": "<1"}}}}, "teams.a.kpis:"),
    ({"a": {"members": {"channel": "#a"}, "sprint_board": "board 7"}}, "teams.a.sprint_board"),
])
def test_a_mistake_in_teams_is_refused_with_what_to_write(teams_section, expected):
    with pytest.raises(ConfigError) as error:
        parse_config({"teams": teams_section})
    assert expected in str(error.value)


def test_a_teams_kpi_overrides_apply_over_the_workspaces(ctx):
    ctx.config = parse_config({"kpis": {"coverage": {"target": ">70"}}, "teams": TEAMS})
    payments = teams.by_key(ctx.config, "payments")
    scoped = teams.scope(ctx, payments)
    assert scoped.catalog.get("api_response_time_p95").goal == 150
    assert scoped.catalog.get("test_coverage_percentage").goal == 70  # the workspace's override stays
    assert scoped.squad == DEFAULT_SQUAD and ctx.catalog is not scoped.catalog
    assert teams.scope(ctx, teams.by_key(ctx.config, "platform")).squad == "platform"


def test_a_team_sees_its_own_channels_over_the_workspaces():
    config = parse_config({"teams": TEAMS})
    payments, platform = teams.by_key(config, "payments"), teams.by_key(config, "platform")
    assert teams.channel(config, payments, "roadmap_updates") == "#payments-roadmap"
    assert teams.channel(config, platform, "roadmap_updates") == "#roadmap-updates"
    assert teams.channel(config, payments, "#elsewhere") == "#elsewhere"


def test_an_unknown_team_is_answered_with_the_teams_there_are():
    with pytest.raises(InputError) as error:
        teams.by_key(parse_config({"teams": TEAMS}), "paymnets")
    assert "unknown team 'paymnets'; did you mean 'payments'? Teams: payments, platform" in str(error.value)
    with pytest.raises(InputError) as error:
        teams.by_key(parse_config({}), "payments")
    assert "This workspace has no teams, so `team:payments` names nothing" in str(error.value)


def test_the_team_named_then_the_channels_team_then_the_askers_then_the_default(runtime, fake_slack):
    ctx = runtime.ctx
    ctx.config = parse_config({"teams": TEAMS})
    team = fake_slack.team_id
    fake_slack.set_members("S0PLATFORM", ["U0PLAT"])
    fake_slack.set_members(fake_slack.add_channel("#payments"), ["U0PAY"])
    assert teams.which(ctx, team, "U0PLAT", "C0ANY", "random", named="payments").key == "payments"
    assert teams.which(ctx, team, "U0PLAT", "C0PAY", "payments").key == "payments"  # typed in #payments
    assert teams.which(ctx, team, "U0PLAT", "C0ROAD", "payments-roadmap").key == "payments"
    assert teams.which(ctx, team, "U0PLAT", "C0ANY", "random").key == "platform"  # a member of S0PLATFORM
    assert teams.which(ctx, team, "U0PAY", "C0ANY", "random").key == "payments"  # a member of #payments
    assert teams.which(ctx, team, "U0NOBODY", "C0ANY", "random").key == "payments"  # the default team


def test_a_team_whose_channel_cannot_be_read_does_not_stop_the_others(runtime, fake_slack):
    ctx = runtime.ctx
    ctx.config = parse_config({"teams": {"ghost": {"members": {"channel": "C0GHOST"}}, **TEAMS}})
    fake_slack.set_members("S0PLATFORM", ["U0PLAT"])
    assert teams.which(ctx, fake_slack.team_id, "U0PLAT", "C0ANY", "random").key == "platform"
