"""A mistake in the configuration file stops the bot with the file, the path of the mistake and what was meant."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from aurum.kpis.catalog import Target
from bot.compose import build_context
from bot.settings import SettingsError

JOBS = ("alerts, executive_dashboard, forecast_accuracy, heartbeat, live_dashboards, monthly_review_reminder, "
        "quarterly_review, quarterly_review_reminder, sprint_watch, survey_stakeholder_close, "
        "survey_stakeholder_deliver, survey_stakeholder_open, survey_stakeholder_remind, survey_team_close, "
        "survey_team_deliver, survey_team_open, survey_team_remind, weekly_review_reminder, weekly_summary")
TOP_KEYS = ("alerts, channels, current_phase, kpis, ops, reports, scheduler_grace_minutes, schedules, sources, "
            "surveys, teams")


REFUSALS = {
    "a mistyped KPI gets the names meant": (
        "kpis:\n  lantency:\n    target: '<180'\n",
        "invalid KPI catalogue:\n"
        "  {path}: kpis.lantency: unknown KPI 'lantency'; did you mean 'latency' or 'latency_p99' or "
        "'cache_latency'? Use a key or alias that `/kpi help` lists, or give a new KPI its name, category, unit and "
        "direction"),
    "a KPI nobody knows gets where names are listed": (
        "kpis:\n  happiness:\n    name: Happiness\n",
        "invalid KPI catalogue:\n"
        "  {path}: kpis.happiness: unknown KPI 'happiness'. Use a key or alias that `/kpi help` lists, or give a "
        "new KPI its name, category, unit and direction"),
    "a reversed band gets the band to write": (
        "kpis:\n  velocity:\n    target: 60-40\n",
        "invalid KPI catalogue:\n"
        "  {path}: kpis.velocity.target: 60-40: the lower bound comes first: write 40-60"),
    "a mistyped KPI field gets the field meant": (
        "kpis:\n  api_response_time_p95:\n    tagret: '<180'\n",
        "invalid KPI catalogue:\n"
        "  {path}: kpis.api_response_time_p95.tagret: unknown key 'tagret'; did you mean 'target'? Valid keys: "
        "aliases, baseline, category, definition, direction, goal, key, name, notes, phase, phase_targets, "
        "protected, range, rollup, rollup_weight, source, stretch, stretch_label, target, unit"),
    "an unknown schedule gets the job meant and every job": (
        "schedules:\n  hartbeat: '0 * * * *'\n",
        "invalid configuration:\n"
        "  {path}: schedules.hartbeat: unknown job 'hartbeat'; did you mean 'heartbeat'? Jobs: " + JOBS),
    "a mistyped top-level key gets the key meant": (
        "chanels:\n  team: '#eng'\n",
        "invalid configuration:\n"
        "  {path}: chanels: unknown key 'chanels'; did you mean 'channels'? Valid keys: " + TOP_KEYS),
    "a mistyped channel key gets the key meant": (
        "channels:\n  roadmap_update: '#roadmap'\n  leads: '#leads'\nalerts:\n  rules:\n"
        "    ApiLatencyHigh: {channels: [leads]}\n",
        "invalid configuration:\n"
        "  {path}: channels.roadmap_update: unknown key 'roadmap_update'; did you mean 'roadmap_updates'? Valid keys: "
        "critical_alerts, deployments, performance_alerts, quality_alerts, roadmap_updates, scrum_masters, team, "
        "tech_debt (a channel key of your own counts only where an alert rule, a survey or a report names it)"),
    "an unknown key deep down gets the keys of its place": (
        "sources:\n  prometheus:\n    url: http://prom:9090\n    shedule: '*/5 * * * *'\n",
        "invalid configuration:\n"
        "  {path}: sources.prometheus.shedule: unknown key 'shedule'; did you mean 'schedule'? "
        "Valid keys: defaults, queries, schedule, team, timeout_seconds, url"),
    "an unknown key like no other gets the keys of its place": (
        "ops:\n  pager: '#ops'\n",
        "invalid configuration:\n"
        "  {path}: ops.pager: unknown key 'pager'. Valid keys: admin_channel, heartbeat_channel"),
}


@pytest.mark.parametrize(("text", "expected"), REFUSALS.values(), ids=REFUSALS.keys())
def test_a_mistake_is_refused_with_file_path_and_what_was_meant(settings, tmp_path, text, expected):
    path = tmp_path / "team.yml"
    path.write_text(text)
    settings.aurum_config = path
    with pytest.raises(SettingsError) as raised:
        build_context(settings)
    assert str(raised.value) == expected.format(path=path)


def test_a_kpi_alias_is_a_key_of_kpis_as_in_slash_kpi(settings, tmp_path):
    path = tmp_path / "team.yml"
    path.write_text("kpis:\n  latency:\n    target: '<180'\n  Coverage:\n    protected: true\n")
    settings.aurum_config = path
    ctx = build_context(settings)
    try:
        assert ctx.catalog.get("api_response_time_p95").target == Target(op="<", high=180)
        assert ctx.catalog.get("test_coverage_percentage").protected
        assert "latency" not in ctx.catalog.kpis  # no new KPI named after the alias
    finally:
        ctx.engine.dispose()


def test_aurum_check_prints_the_mistake_and_exits_2(tmp_path):
    path = tmp_path / "team.yml"
    path.write_text(REFUSALS["an unknown schedule gets the job meant and every job"][0])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "AURUM_"))}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "check"], capture_output=True, text=True, cwd=tmp_path,
                            env={**env, "PYTHONPATH": os.getcwd(), "AURUM_CONFIG": str(path)}, timeout=60)
    assert result.returncode == 2
    expected = REFUSALS["an unknown schedule gets the job meant and every job"][1].format(path=path)
    assert result.stderr == f"Configuration problem:\n{expected}\n"
    assert not (tmp_path / "aurum.db").exists()
