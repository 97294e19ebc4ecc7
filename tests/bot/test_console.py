"""The local console runs the same handlers as Slack and prints readable replies and chart paths."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

from aurum import demo
from bot.app import unknown_command
from bot.compose import build_console, build_web
from bot.console import ConsoleDelivery, blocks_to_text, repl
from bot.runtime import CONSOLE_TEAM, register_workspace
from tests.support import ROOT, is_reply


def _demo(tmp_path, *commands: str) -> subprocess.CompletedProcess:
    """`aurum demo -c …` as a user runs it, with a bot token in the environment (which the demo does not use)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
    env.update(PYTHONPATH=str(ROOT), AURUM_CHART_DIR=str(tmp_path / "charts"), SLACK_BOT_TOKEN="xoxb-not-for-the-demo")
    arguments = [part for command in commands for part in ("-c", command)]
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--database", f"sqlite:///{tmp_path / 'demo.db'}", *arguments],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_demo_command_prints_the_card_and_a_png_path_and_exits_0(tmp_path):
    result = _demo(tmp_path, "/kpi latency 90d", "/KPI uptime")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no library's warning reaches the user
    out = result.stdout
    assert "Loaded" in out and "demo snapshots" in out
    assert "API p95 response time" in out and "285 ms" in out and "<200 ms" in out and "350 ms" in out
    assert "System uptime" in out  # another case: answered as /kpi
    chart = Path(next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("📈")))
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_demo_command_that_fails_prints_why_and_exits_1(tmp_path):
    result = _demo(tmp_path, "/kpi latency", "/kpi lantency", "/help", "/kpis")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert "API p95 response time" in out  # the good command before ran as usual
    assert "did you mean `latency`" in out
    known = "Its commands: `/kpi`, `/alerts`, `/survey`, `/blocker`, `/sprint`, `/report`, `/roadmap`, `/kudos` " \
            "(try `/kpi help`)."
    assert f"aurum> /help\nAurum has no command `/help`. {known}\n" in out
    assert f"aurum> /kpis\nAurum has no command `/kpis`. {known}\n" in out
    unknown = _demo(tmp_path, "/kpi foo")  # the demo data are loaded: only the command's answer
    assert unknown.returncode == 1 and unknown.stderr == ""
    assert unknown.stdout.startswith("aurum> /kpi foo\nUnknown KPI 'foo'\n")
    survey = _demo(tmp_path, "/survey answer 42")  # refused in its ack, as /kpi's bad input is
    assert survey.returncode == 1 and survey.stderr == ""
    assert "42 is out of range: choose a number from 1 to 10." in survey.stdout


def test_repl_reads_commands_until_quit(settings, tmp_path):
    out = io.StringIO()
    delivery = ConsoleDelivery(tmp_path / "charts", out)
    runtime = build_console(settings.model_copy(update={"slack_bot_token": None}),
                            delivery=delivery)
    register_workspace(runtime)
    with runtime.ctx.transaction() as session:
        demo.load(session, runtime.ctx.catalog, CONSOLE_TEAM, runtime.ctx.now())
    repl(runtime, io.StringIO("kpi\n/kpi record coverage 83\n/nope\n/kpi coverage 7d\nquit\n/kpi\n"), out)
    text = out.getvalue()
    assert "Commands start with a slash" in text
    assert "Recorded *Code coverage* = 83%" in text
    assert "Aurum has no command `/nope`. Its commands: `/kpi`," in text
    assert "Code coverage" in text and "83%" in text
    assert len(delivery.files) == 1  # the command after quit never ran
    runtime.shutdown()


def test_blocks_render_as_text():
    text = blocks_to_text([{"type": "header", "text": {"type": "plain_text", "text": "Title"}},
                           {"type": "section", "text": {"type": "mrkdwn", "text": "body"},
                            "fields": [{"type": "mrkdwn", "text": "*Value*\n42"}]},
                           {"type": "context", "elements": [{"type": "mrkdwn", "text": "a"},
                                                            {"type": "mrkdwn", "text": "b"}]}])
    assert text == "Title\n=====\nbody\n  *Value*: 42\n  a · b"


def test_slack_answers_a_command_in_another_case_and_names_the_commands_for_an_unknown_one(
        slack, fake_slack, caplog):
    caplog.set_level(logging.DEBUG, logger="slack_bolt")
    recorded = slack.command("/KPI", "record coverage 83")
    assert recorded.status_code == 200
    (reply,) = fake_slack.wait_for(is_reply)
    assert reply.params["text"].startswith("Code coverage: 83%")
    for typed in ("/help", "/kpis"):
        answer = slack.command(typed, "")
        assert answer.status_code == 200
        assert answer.json() == {"response_type": "ephemeral", "text": unknown_command(typed)}
    assert unknown_command("/help") == ("Aurum has no command `/help`. Its commands: `/kpi`, `/alerts`, `/survey`, "
                                        "`/blocker`, `/sprint`, `/report`, `/roadmap`, `/kudos` (try `/kpi help`).")
    assert not [r for r in caplog.records if r.name.startswith("slack_bolt") and r.levelno >= logging.WARNING]


def test_a_bot_token_in_the_environment_brings_no_bolt_warning(settings, monkeypatch, caplog):
    monkeypatch.setenv("SLACK_BOT_TOKEN", settings.slack_bot_token.get_secret_value())  # as `aurum serve` runs
    caplog.set_level(logging.DEBUG, logger="slack_bolt")
    build_web(settings, work_process=False).shutdown()
    build_console(settings.model_copy(update={"slack_bot_token": None})).shutdown()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
