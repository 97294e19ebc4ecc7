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
