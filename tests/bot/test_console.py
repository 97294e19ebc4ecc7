"""The local console runs the same handlers as Slack and prints readable replies and chart paths."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from aurum import demo
from bot.compose import build_console
from bot.console import ConsoleDelivery, blocks_to_text, repl
from bot.runtime import CONSOLE_TEAM, register_workspace
from tests.support import ROOT


def test_demo_command_prints_the_card_and_a_png_path(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
    env.update(PYTHONPATH=str(ROOT), AURUM_CHART_DIR=str(tmp_path / "charts"))
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--database", f"sqlite:///{tmp_path / 'demo.db'}",
         "-c", "/kpi latency 90d", "-c", "/kpi lantency"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Loaded" in out and "demo snapshots" in out
    assert "API p95 response time" in out and "285 ms" in out and "<200 ms" in out and "350 ms" in out
    assert "did you mean `latency`" in out
    chart = Path(next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("📈")))
    assert chart.read_bytes().startswith(b"\x89PNG")


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
    assert "Unknown command /nope" in text
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
