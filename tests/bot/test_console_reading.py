"""The console reads like Slack: mentions by name, no escapes, the console user an admin, and figures a person can
use (no 'target no target', progress in words, whole points, forecasts within two years, phase outlooks)."""

from __future__ import annotations

import io

import pytest

from aurum import demo
from aurum.kpis import formatting
from bot.compose import build_console
from bot.console import ConsoleDelivery, as_slack_sends, repl
from bot.runtime import CONSOLE_TEAM, register_workspace


@pytest.fixture
def console(settings, tmp_path):
    runtime = build_console(settings.model_copy(update={"slack_bot_token": None}),
                            delivery=ConsoleDelivery(tmp_path / "charts", io.StringIO()))
    register_workspace(runtime)
    with runtime.ctx.transaction() as session:
        demo.load(session, runtime.ctx.catalog, CONSOLE_TEAM, runtime.ctx.now())

    def run(*lines: str) -> str:
        out = io.StringIO()
        runtime.delivery.out = out  # type: ignore[attr-defined]
        repl(runtime, io.StringIO("\n".join(lines) + "\n"), out)
        return out.getvalue()

    yield run
    runtime.shutdown()


def test_typed_mentions_and_symbols_come_back_as_typed(console):
    out = console("/kudos @alice code-quality great refactor & <tests> for R&D")
    assert "Code Quality Award* for @alice" in out and "From @you" in out
    assert "> great refactor & <tests> for R&D" in out
    assert "&amp;" not in out and "&lt;" not in out and "&gt;" not in out


def test_the_console_user_is_an_admin(console):
    out = console("/survey", "/survey open", "/survey")
    assert "Only admins" not in out
    assert "`/survey open` opens this period's run now" in out  # before: closed, and what to do
    assert "1. How satisfied are you with development velocity?" in out  # after: the questions


def test_slack_would_send_the_text_encoded_with_the_mentions_resolved():
    assert as_slack_sends("@alice & @nobody <b>") == "<@U0ALICE|alice> &amp; @nobody &lt;b&gt;"


def test_the_roadmap_gives_each_phase_an_outlook_from_the_demo_history(console):
    out = console("/roadmap")
    assert out.count("Outlook: ") == 4 and "not available yet" not in out
    assert "Outlook: expected around" in out or "Outlook: not at the current trend" in out
    assert "(target no target)" not in out


def test_a_forecast_date_past_two_years_is_refused_with_the_furthest_date(console):
    out = console("/kpi latency forecast 2030-01-01")
    assert "2030-01-01 is too far ahead: forecasts look at most two years ahead" in out
    assert "0 ms expected" not in out


@pytest.mark.parametrize(("pct", "said"), [
    (-1100, "behind the baseline: further from the goal than when tracking started"),
    (0, "0% of the way"), (42.5, "42.5% of the way"), (100, "100% of the way"), (113.3, "past the goal")])
def test_progress_is_said_in_words_outside_0_to_100(pct, said):
    assert formatting.progress(pct) == said


def test_a_kpi_without_a_target_shows_no_target_note(ctx):
    untargeted = next(k for k in ctx.catalog if k.target is None)
    assert formatting.target_note(untargeted) == ""
    targeted = next(k for k in ctx.catalog if k.target is not None)
    assert formatting.target_note(targeted).startswith(" (target ")
