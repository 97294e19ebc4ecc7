"""`aurum record` and `aurum kpi NAME --json` through Typer's CliRunner, against the test database."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import given
from typer.testing import CliRunner

from aurum.kpis import service as kpis
from bot import cli
from tests.kpis.ranges import HTTP, entries
from tests.support import BOT_TOKEN, SIGNING_SECRET, free_port

TEAM = "T0001"


@pytest.fixture
def aurum(settings):
    env = {"DATABASE_URL": settings.database_url, "SLACK_BOT_TOKEN": "", "AURUM_TIMEZONE": "UTC"}
    runner = CliRunner()
    return lambda *args: runner.invoke(cli.app, list(args), env=env)


def stored(ctx, key: str) -> list[float]:
    with ctx.reading() as session:
        return [v for _at, v in kpis.series_since(session, TEAM, key, ctx.now() - timedelta(days=3650))]


@HTTP
@given(entry=entries())
def test_record_stores_a_possible_value_once_and_refuses_the_rest_with_exit_2(ctx, aurum, entry):
    kpi, value, good = entry
    before = stored(ctx, kpi.key)
    result = aurum("record", kpi.key, repr(value), "--team", TEAM)
    if good:
        assert result.exit_code == 0, result.output
        assert stored(ctx, kpi.key) == [*before, value]
    else:
        assert result.exit_code == 2, result.output
        assert f"(`{kpi.key}`) cannot be" in result.output and "Nothing was stored." in result.output
        assert stored(ctx, kpi.key) == before


def test_record_refuses_the_issues_examples(ctx, aurum):
    uptime = aurum("record", "uptime", "150", "--team", TEAM)
    assert uptime.exit_code == 2
    assert "System uptime (`service_availability_percentage`) cannot be 150; allowed: 0 to 100 (percent)" \
        in uptime.output
    latency = aurum("record", "latency", "-5", "--team", TEAM)  # a negative value, not an unknown option
    assert latency.exit_code == 2 and "cannot be -5; allowed: 0 or more (ms)" in latency.output
    assert stored(ctx, "service_availability_percentage") == stored(ctx, "api_response_time_p95") == []


def test_kpi_json_carries_every_number_of_the_catalogue_entry(ctx, aurum):
    assert aurum("record", "velocity", "47", "--team", TEAM).exit_code == 0
    result = aurum("kpi", "velocity", "--json", "--team", TEAM)
    assert result.exit_code == 0, result.output
    assert "40–60 points" in result.output and "\\u2013" not in result.output  # UTF-8, not escaped
    data = json.loads(result.output)
    assert {k: data[k] for k in ("kpi", "unit", "value", "target", "baseline", "status")} == {
        "kpi": "story_points_completed_per_sprint", "unit": "points", "value": 47.0, "target": "40–60 points",
        "baseline": 35.0, "status": "on_track"}
    assert {k: data[k] for k in ("direction", "target_bounds", "current_target", "phase_targets", "stretch_goal",
                                 "stretch_label", "final_target", "range", "range_text")} == {
        "direction": "higher", "target_bounds": {"op": "range", "low": 40.0, "high": 60.0}, "current_target": 50.0,
        "phase_targets": {}, "stretch_goal": 65.0, "stretch_label": "stretch goal", "final_target": None,
        "range": [0.0, None], "range_text": "0 or more (points)"}
    # the keys of before are all still there
    assert {"name", "at", "source", "change", "change_pct", "progress_pct", "next_phase_target", "stale"} <= set(data)
    coverage = json.loads(aurum("kpi", "coverage", "--json", "--team", TEAM).output)
    assert coverage["phase_targets"] == {"1": 82.0} and coverage["final_target"] == 85.0
    assert coverage["target"] == ">80%" and coverage["range"] == [0.0, 100.0]
    uptime = aurum("kpi", "uptime", "--json", "--team", TEAM).output
    assert '"target": "≥99.9%"' in uptime


def test_kpi_refuses_a_database_file_that_is_not_there_and_creates_none(tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    runner = CliRunner()
    env = {"DATABASE_URL": None, "SLACK_BOT_TOKEN": None, "AURUM_CONFIG": None}
    result = runner.invoke(cli.app, ["kpi", "latency"], env=env)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr == (
        f"No database at {elsewhere / 'aurum.db'} (DATABASE_URL is sqlite:///aurum.db): nothing was read, and no "
        "empty database was created.\nSet DATABASE_URL to the bot's database (e.g. sqlite:////srv/aurum/aurum.db or "
        "postgres://…), or run the command in the folder that holds it. To try the bot with demo data, run "
        "`aurum demo` (it keeps them in aurum-demo.db).\n")
    assert list(elsewhere.iterdir()) == []
    (elsewhere / "aurum-demo.db").touch()  # `aurum demo` ran here
    again = runner.invoke(cli.app, ["kpi", "latency", "--json"], env=env)
    assert again.exit_code == 2
    assert again.stderr.endswith(" This folder holds the demo's data: DATABASE_URL=sqlite:///aurum-demo.db reads "
                                 "them.\n")
    assert sorted(p.name for p in elsewhere.iterdir()) == ["aurum-demo.db"]
    absolute = runner.invoke(cli.app, ["forecast", "latency"], env={**env, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert absolute.exit_code == 2 and absolute.stderr.startswith(f"No database at {tmp_path / 'x.db'} (DATABASE_URL")


def test_token_revoke_takes_the_id_or_the_first_characters_as_listed_or_the_whole_token(ctx, aurum):
    from aurum.core import tokens

    with ctx.transaction() as session:
        made = [tokens.create(session, TEAM, name) for name in ("one", "two", "three", "four")]
    first, second, third, fourth = made
    assert aurum("token", "revoke", str(first.token.id)).output == f"Revoked token #1 {first.token.prefix}… (one).\n"
    by_prefix = aurum("token", "revoke", f"{second.token.prefix}…")  # copied from `aurum token list`
    assert by_prefix.exit_code == 0 and by_prefix.output == f"Revoked token #2 {second.token.prefix}… (two).\n"
    assert aurum("token", "revoke", third.secret).output == f"Revoked token #3 {third.token.prefix}… (three).\n"
    assert aurum("token", "revoke", f"#{fourth.token.id}").exit_code == 0
    with ctx.reading() as session:
        assert all(tokens.verify(session, token.secret) is None for token in made)
    unknown = aurum("token", "revoke", "aur_nothing")
    assert unknown.exit_code == 2
    assert unknown.stderr == ("No API token 'aur_nothing'. Name it by its id or its first characters, as `aurum token "
                              "list` shows them (e.g. 3 or aur_jfVNDg), or give the whole token.\n")
    with ctx.transaction() as session:
        for _ in range(100):  # enough tokens for two to begin alike
            tokens.create(session, TEAM, "many")
        names = [t.prefix for t in tokens.repo.listing(session)]
    start = next(p[:5] for p in names if sum(q.startswith(p[:5]) for q in names) > 1)
    ambiguous = aurum("token", "revoke", start)
    assert ambiguous.exit_code == 2 and ambiguous.stderr.startswith(f"'{start}' begins ")
    assert ambiguous.stderr.endswith("): give more characters, or the id.\n")


def test_kpi_with_a_bot_token_prints_no_warning_and_names_the_url_slack_is_not_reached_at(ctx, settings, fake_slack):
    env = {"DATABASE_URL": settings.database_url, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": fake_slack.base_url,
           "SLACK_SIGNING_SECRET": SIGNING_SECRET, "AURUM_TIMEZONE": "UTC"}
    runner = CliRunner()
    known = runner.invoke(cli.app, ["kpi", "velocity", "--json"], env=env)  # asks Slack which workspace: T0001
    assert known.exit_code == 0 and known.stderr == "", known.stderr
    assert json.loads(known.stdout)["kpi"] == "story_points_completed_per_sprint"
    assert [call.method for call in fake_slack.calls] == ["auth.test"]

    url = f"http://127.0.0.1:{free_port()}/api/"  # nobody listens there; a token whose workspace is not known yet
    unknown = runner.invoke(cli.app, ["kpi", "velocity"], env={**env, "SLACK_BOT_TOKEN": "xoxb-another-one",
                                                               "SLACK_API_URL": url})
    assert unknown.exit_code == 2 and unknown.stdout == ""
    assert unknown.stderr == (
        "The Slack workspace of SLACK_BOT_TOKEN is not known yet, and Slack could not tell it. Slack's Web API cannot "
        f"be reached at {url}auth.test (URLError: [Errno 111] Connection refused). Check SLACK_API_URL (unset, it is "
        "https://slack.com/api/) and that this machine reaches it (network, proxy, firewall).\nNothing was stored. "
        "Run the command again once Slack answers (the workspace is then remembered and later commands need no "
        "network), or name it with --team T… (your workspace's team id, as `aurum workspace list` shows it once the "
        "bot has connected).\n")
