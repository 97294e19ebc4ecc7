"""Settings: defaults, Heroku URLs, and one readable message per problem."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.settings import Settings, SettingsError, load_settings


def test_defaults_without_environment(monkeypatch):
    for name in ("SLACK_BOT_TOKEN", "DATABASE_URL", "AURUM_TIMEZONE", "PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.database_url == "sqlite:///aurum.db"
    assert settings.port == 3000 and settings.aurum_timezone == "UTC"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert not settings.slack_enabled


def test_heroku_postgres_url_is_accepted():
    settings = load_settings(_env_file=None, database_url="postgres://u:p@db.example:5432/aurum")
    assert settings.database_url == "postgresql+psycopg://u:p@db.example:5432/aurum"


def test_admins_and_api_url_normalised():
    settings = load_settings(_env_file=None, aurum_admins="U1, U2,", slack_api_url="http://127.0.0.1:9/api")
    assert settings.admins == {"U1", "U2"}
    assert settings.slack_api_url.endswith("/api/")


def test_every_problem_is_named_once(tmp_path):
    with pytest.raises(SettingsError) as raised:
        load_settings(_env_file=None, aurum_timezone="Mars/Olympus", port=70000, database_url="mysql://x",
                      aurum_config=tmp_path / "missing.yml")
    lines = str(raised.value).splitlines()
    assert len(lines) == 4
    assert any(line.startswith("AURUM_TIMEZONE: unknown time zone 'Mars/Olympus'") for line in lines)
    assert any(line.startswith("PORT:") for line in lines)
    assert any(line.startswith("DATABASE_URL:") for line in lines)
    assert any(line.startswith("AURUM_CONFIG: no such file") for line in lines)


def test_slack_mode_needs_token_and_secret():
    settings = load_settings(_env_file=None, slack_bot_token="xoxp-user-token")
    with pytest.raises(SettingsError) as raised:
        settings.check_for_slack()
    assert "SLACK_BOT_TOKEN must start with xoxb-" in str(raised.value)
    assert "SLACK_SIGNING_SECRET is not set" in str(raised.value)


def _cli(*args: str, env: dict[str, str], cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=60)


def test_cli_exits_non_zero_with_the_message(tmp_path):
    env = {**os.environ, "AURUM_TIMEZONE": "Nowhere/Land", "PYTHONPATH": os.getcwd()}
    result = _cli("kpi", "latency", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "Configuration problem" in result.stderr and "AURUM_TIMEZONE" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_without_slack_credentials_says_what_is_missing(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env["PYTHONPATH"] = os.getcwd()
    result = _cli("serve", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN is not set" in result.stderr


def test_broken_config_file_is_reported_with_its_line(tmp_path):
    config = tmp_path / "team.yml"
    config.write_text("channels:\n  roadmap_updates: [unclosed\n")
    env = {**os.environ, "AURUM_CONFIG": str(config), "PYTHONPATH": os.getcwd()}
    result = _cli("kpi", "latency", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert f"{config}: not valid YAML at line" in result.stderr
