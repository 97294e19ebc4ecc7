"""`aurum config export` / `aurum config import`: the settings as a config file, out and in, checked as the file is."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import app
from bot.compose import build_context
from bot.settings import Settings, SettingsError
from storage import settings as store

TEAM = "T0001"
CONFIG = """\
channels:
  roadmap_updates: '#roadmap'
kpis:
  api_response_time_p95:
    target: '<180'
schedules:
  weekly_summary: 0 9 * * 1
surveys:
  threshold: 4
"""


def _aurum(database_url: str, *args: str | Path, config: Path | None = None):
    env = {"DATABASE_URL": database_url, "AURUM_CONFIG": str(config) if config else None, "SLACK_BOT_TOKEN": None,
           "SLACK_SIGNING_SECRET": None}
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_export_import_on_a_fresh_database_and_export_again_give_the_same_settings(tmp_path):
    first_db, fresh_db = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    exported = _aurum(first_db, "config", "export", "--team", TEAM, config=_file(tmp_path, "aurum.yml", CONFIG))
    assert exported.exit_code == 0, exported.output
    assert yaml.safe_load(exported.stdout) == yaml.safe_load(CONFIG)  # never edited: the config file is the seed

    imported = _aurum(fresh_db, "config", "import", _file(tmp_path, "out.yml", exported.stdout), "--team", TEAM)
    assert imported.exit_code == 0, imported.output
    again = _aurum(fresh_db, "config", "export", "--team", TEAM)  # no config file: the database's settings
    assert again.exit_code == 0, again.output
    assert yaml.safe_load(again.stdout) == yaml.safe_load(exported.stdout)


def test_an_import_is_logged_setting_by_setting(tmp_path, database_url):
    _aurum(database_url, "config", "import", _file(tmp_path, "a.yml", CONFIG), "--team", TEAM)
    changed = CONFIG.replace("'<180'", "'<150'")
    result = _aurum(database_url, "config", "import", _file(tmp_path, "b.yml", changed), "--team", TEAM)
    assert result.exit_code == 0 and "1 setting(s) changed" in result.stdout, result.output
    ctx = build_context(Settings(_env_file=None, database_url=database_url))
    try:
        with ctx.reading() as session:
            latest = store.recent_changes(session, TEAM, limit=1)[0]
            assert store.version(session, TEAM) == 2
    finally:
        ctx.engine.dispose()
    assert (latest.path, latest.before, latest.after, latest.user_id) == (
        "kpis.api_response_time_p95.target", '"<180"', '"<150"', "cli")


@pytest.mark.parametrize("text", [
    "kpis:\n  lantency:\n    target: '<180'\n",
    "schedules:\n  weekly_sumary: 0 9 * * 1\n",
    "surveys:\n  threshold: many\n",
    "channels: [a, b]\n",
    "channels:\n  team: '#x'\n bad: yaml\n",
])
def test_a_bad_import_is_refused_with_the_messages_of_a_bad_file_and_nothing_changes(tmp_path, database_url, text):
    _aurum(database_url, "config", "import", _file(tmp_path, "good.yml", CONFIG), "--team", TEAM)
    bad = _file(tmp_path, "bad.yml", text)
    with pytest.raises(SettingsError) as as_file:
        build_context(Settings(_env_file=None, database_url=database_url, aurum_config=bad))
    refused = _aurum(database_url, "config", "import", bad, "--team", TEAM)
    assert refused.exit_code == 2
    assert refused.stderr == f"Configuration problem:\n{as_file.value}\n"
    exported = _aurum(database_url, "config", "export", "--team", TEAM)
    assert yaml.safe_load(exported.stdout) == yaml.safe_load(CONFIG)
