"""Tenant isolation: two workspaces with different data; nothing of one ever shows in the other.

Each surface is run by both workspaces; everything Slack receives for a workspace (identified by the bot token
the call is made with) must hold that workspace's numbers and none of the other's. Add new surfaces (Home tab,
reports, push API, exports, …) to SURFACES or as their own test below, with the same two workspaces.
"""

from __future__ import annotations

import json

import httpx
import pytest
from typer.testing import CliRunner

from aurum import kpis
from bot.cli import app as cli
from tests.support import SlackSender, install_workspace, token_team, wait_until

TEAMS = {
    # team: (channel, {kpi: value}, markers only this team's data produces)
    "T0AAA": ("C0AAA", {"test_coverage_percentage": 13.7, "api_response_time_p95": 123.0}, ["13.7%", "123 ms"]),
    "T0BBB": ("C0BBB", {"test_coverage_percentage": 87.3, "api_response_time_p95": 987.0}, ["87.3%", "987 ms"]),
}
# surface: (/kpi text, Slack methods whose calls carry what the workspace sees, markers expected there)
SURFACES = {
    "kpi card": ("coverage", ["chat.postMessage"], [0]),
    "kpi card, private": ("latency private", ["chat.postEphemeral"], [1]),
    "kpi help (catalogue with values)": ("help", ["chat.postEphemeral"], [0, 1]),
    "dashboard": ("dashboard", ["chat.postMessage"], [0, 1]),
}


@pytest.fixture
def two_workspaces(oauth_runtime, oauth_server, fake_slack):
    ctx = oauth_runtime.ctx
    for team, (_channel, values, _markers) in TEAMS.items():
        install_workspace(oauth_server.url, fake_slack, team)
        with ctx.transaction() as session:
            for key, value in values.items():
                kpis.record(ctx, session, team, ctx.catalog.get(key), value)
    return oauth_server


def _seen_by(fake_slack, team: str, methods: list[str]) -> str:
    calls = [c for c in fake_slack.calls if c.method in methods and token_team(c) == team]
    return "\n".join(json.dumps(c.params, ensure_ascii=False) for c in calls)


@pytest.mark.parametrize("surface", list(SURFACES))
def test_a_surface_shows_each_workspace_only_its_own_data(surface, two_workspaces, fake_slack):
    text, methods, expected = SURFACES[surface]
    for team, (channel, _values, _markers) in TEAMS.items():
        sender = SlackSender(two_workspaces.url, team_id=team)
        assert sender.command("/kpi", text, user=f"U{team}", channel=channel).status_code == 200
        sender.close()
    for team in TEAMS:
        wait_until(lambda t=team: any(token_team(c) == t for c in fake_slack.calls if c.method in methods),
                   timeout=30, message=f"{surface} for {team}")
    for team, (_channel, _values, markers) in TEAMS.items():
        seen = _seen_by(fake_slack, team, methods)
        others = [m for other, (_c, _v, ms) in TEAMS.items() if other != team for m in ms]
        for index in expected:
            assert markers[index] in seen, f"{surface}: {team} does not see its own {markers[index]}"
        for marker in others:
            assert marker not in seen, f"{surface}: {team} sees {marker} of another workspace"
    # And every call went to the workspace's own channels with its own token.
    for call in fake_slack.calls:
        team = token_team(call)
        if team in TEAMS and "channel" in call.params and call.method.startswith("chat."):
            assert call.params["channel"] in (TEAMS[team][0], f"U{team}")


def test_metrics_label_each_workspaces_values_with_its_own_team(two_workspaces):
    exposition = httpx.get(two_workspaces.url + "/metrics").text
    assert 'roadmap_test_coverage{team_id="T0AAA"} 13.7' in exposition
    assert 'roadmap_test_coverage{team_id="T0BBB"} 87.3' in exposition
    assert 'roadmap_api_response_time_p95{team_id="T0AAA"} 123.0' in exposition
    assert 'roadmap_api_response_time_p95{team_id="T0BBB"} 987.0' in exposition


def test_cli_export_of_one_workspace_holds_only_its_data(two_workspaces, oauth_settings, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", oauth_settings.database_url)
    for team, (_channel, values, _markers) in TEAMS.items():
        result = CliRunner().invoke(cli, ["kpi", "coverage", "--json", "--team", team])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["value"] == values["test_coverage_percentage"]
    ambiguous = CliRunner().invoke(cli, ["kpi", "coverage", "--json"])
    assert ambiguous.exit_code != 0 and "--team" in ambiguous.output


def test_ids_of_another_workspace_in_a_request_reach_nothing_of_it(two_workspaces, oauth_runtime, fake_slack):
    """A request signed for workspace A that names B's channel or user gets A's data only (every query is scoped
    by the request's own team), answered with A's token; B's data is untouched."""
    sender = SlackSender(two_workspaces.url, team_id="T0AAA")
    sender.command("/kpi", "record coverage 12.5", user="UT0BBB", channel="C0BBB")
    wait_until(lambda: any(token_team(c) == "T0AAA" for c in fake_slack.calls_to("chat.postEphemeral")), 30,
               "the reply")
    sender.close()
    (reply,) = [c for c in fake_slack.calls_to("chat.postEphemeral") if token_team(c) == "T0AAA"]
    assert "12.5%" in json.dumps(reply.params) and "87.3%" not in json.dumps(reply.params)
    ctx = oauth_runtime.ctx
    with ctx.reading() as session:
        coverage = ctx.catalog.get("test_coverage_percentage")
        assert kpis.status(ctx, session, "T0BBB", coverage).latest.value == 87.3
        assert kpis.status(ctx, session, "T0AAA", coverage).latest.value == 12.5
