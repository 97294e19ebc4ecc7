"""At start, and in `aurum check`, the bot asks Slack whether it can post in every channel the config names."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from aurum.config import load_config
from bot.app import web_client
from bot.channel_check import channel_problems
from bot.compose import build_web
from bot.runtime import check_configured_channels
from bot.settings import Settings
from bot.web import create_web_app
from tests.support import BOT_TOKEN, install_workspace, running

CHANNELS = ("channels:\n  roadmap_updates: '#general'\n  scrum_masters: '#scrum'\n  team: '#randomm'\n"
            "  critical_alerts: '#general'\n  performance_alerts: '#general'\n  quality_alerts: '#general'\n"
            "  tech_debt: '#general'\n  deployments: '#general'\n")
GOOD = CHANNELS.replace("#scrum", "#general").replace("#randomm", "#general")
PROBLEMS = [
    "#scrum (channels.scrum_masters): Slack knows no such channel, or it is private and I am not in it. Correct the "
    "name in the config file, create the channel, or `/invite @Aurum` in it",
    "#randomm (channels.team): Slack knows no such channel, or it is private and I am not in it. Correct the name in "
    "the config file, create the channel, or `/invite @Aurum` in it",
    "#eng-news (ops.heartbeat_channel): I am not in it: messages reach it, charts and files do not. "
    "`/invite @Aurum` in #eng-news",
]


@pytest.fixture
def team_config(settings: Settings, fake_slack, tmp_path) -> Settings:
    fake_slack.add_channel("scrum", private=True, bot_member=False)  # private, and the bot is not in it
    fake_slack.add_channel("random")  # the config has a typo: #randomm
    fake_slack.add_channel("eng-news", bot_member=False)  # public: posts go through chat:write.public
    path = tmp_path / "team.yml"
    path.write_text(CHANNELS + "ops:\n  heartbeat_channel: '#eng-news'\n")
    return settings.model_copy(update={"aurum_config": path})


def test_each_channel_the_bot_cannot_use_is_named_with_its_keys_and_the_fix(team_config):
    uses = load_config(team_config.aurum_config).posting_channels()
    assert uses == {"#general": ["channels.roadmap_updates", "channels.critical_alerts", "channels.deployments",
                                 "channels.performance_alerts", "channels.quality_alerts", "channels.tech_debt"],
                    "#scrum": ["channels.scrum_masters"], "#randomm": ["channels.team"],
                    "#eng-news": ["ops.heartbeat_channel"]}
    assert channel_problems(web_client(team_config), uses) == PROBLEMS


def test_a_channel_named_by_id_is_looked_up_by_id(settings, fake_slack):
    private = fake_slack.add_channel("leads", private=True)  # the bot is in it
    assert channel_problems(web_client(settings), {private: ["reports.exec_channel"], "C0MISSING": ["ops.x"]}) == [
        "C0MISSING (ops.x): Slack knows no such channel, or it is private and I am not in it. Correct the name in "
        "the config file, create the channel, or `/invite @Aurum` in it"]


def test_serve_logs_the_channels_it_cannot_use_at_start(team_config, caplog):
    caplog.set_level(logging.WARNING, logger="bot.channel_check")
    runtime = build_web(team_config, work_process=False)
    try:
        with running(create_web_app(runtime)):
            pass
    finally:
        runtime.shutdown()
    logged = [r.getMessage() for r in caplog.records if r.name == "bot.channel_check"]
    assert logged == [f"channel problem: {p}" for p in PROBLEMS]


def _check(env: dict[str, str], cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", "check"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.getcwd(), **env}, cwd=cwd, timeout=60)


def test_aurum_check_lists_the_channels_to_fix_and_exits_1(team_config, fake_slack, tmp_path):
    result = _check({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": fake_slack.base_url,
                     "AURUM_CONFIG": str(team_config.aurum_config)}, tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == [f"Configuration OK: {team_config.aurum_config}.", *PROBLEMS]
    assert not (tmp_path / "aurum.db").exists()  # a check writes nothing


def test_aurum_check_passes_a_config_whose_channels_all_work(fake_slack, tmp_path):
    path = tmp_path / "team.yml"
    path.write_text(GOOD)
    result = _check({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": fake_slack.base_url,
                     "AURUM_CONFIG": str(path)}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"Configuration OK: {path}.",
                                          "All 1 configured channels take the bot's messages and charts."]


def test_with_oauth_each_installed_workspace_is_checked(oauth_runtime, oauth_server, fake_slack):
    assert install_workspace(oauth_server.url, fake_slack, fake_slack.team_id, "Test Team").status_code == 200
    fake_slack.add_channel("roadmap-updates", bot_member=False)
    problems = check_configured_channels(oauth_runtime)
    assert "#roadmap-updates (channels.roadmap_updates): I am not in it: messages reach it, charts and files do " \
           "not. `/invite @Aurum` in #roadmap-updates" in problems
    assert "#engineering (channels.team): Slack knows no such channel, or it is private and I am not in it. " \
           "Correct the name in the config file, create the channel, or `/invite @Aurum` in it" in problems
