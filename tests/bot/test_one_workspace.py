"""One workspace for every writer: the CLI writes under the bot token's workspace (learnt from auth.test once, then
remembered), data stored under the console workspace before Slack was connected is adopted by the real workspace
when it registers, and the CLI refuses rather than guess (Slack unreachable and the workspace unknown; several
OAuth workspaces without --team). Rows are counted, not only messages."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from aurum.kpis import service as kpis
from bot.compose import build_context
from bot.settings import Settings
from bot.web import create_web_app
from storage import claims, rollups, surveys
from storage.adopt import adopt, register, teams_with_data
from storage.api_tokens import ApiToken
from storage.claims import JobClaim
from storage.db import session_scope
from storage.rollups import KpiHour, KpiSnapshot
from storage.surveys import SurveyAnswer, SurveyRespondent, SurveyRun
from storage.workspaces import CONSOLE_TEAM, Workspace, ensure
from tests.support import (
    BOT_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    ROOT,
    SIGNING_SECRET,
    SlackSender,
    free_port,
    process_env,
    running,
)

pytestmark = pytest.mark.timeout(300)  # real processes on a shared machine: each start takes seconds


def _aurum(*args: str, **settings: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=process_env(**settings),
                          capture_output=True, text=True, timeout=240)


def _token_env(database_url: str, api_url: str) -> dict[str, str]:
    return dict(database_url=database_url, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                slack_api_url=api_url)


def _snapshots(ctx, team_id: str | None = None, kpi: str | None = None) -> int:
    query = select(func.count()).select_from(KpiSnapshot)
    if team_id is not None:
        query = query.where(KpiSnapshot.team_id == team_id)
    if kpi is not None:
        query = query.where(KpiSnapshot.kpi == kpi)
    with ctx.reading() as session:
        return session.scalar(query)


def _card_fields(call) -> str:
    return " ".join(f["text"] for b in call.params["blocks"] if b["type"] == "section" for f in b.get("fields", []))


def test_values_recorded_before_the_first_start_show_on_the_slack_card(runtime, fake_slack, database_url):
    # Before Slack was connected (no token): stored under the console workspace, which `workspace list` shows.
    early = _aurum("record", "coverage", "82", database_url=database_url)
    assert early.returncode == 0, early.stderr[-3000:]
    listed = _aurum("workspace", "list", database_url=database_url)
    assert CONSOLE_TEAM in listed.stdout and "before Slack was connected" in listed.stdout, listed.stdout
    # With the bot token, before the first `aurum serve`: the token's workspace, learnt from auth.test.
    env = _token_env(database_url, fake_slack.base_url)
    recorded = _aurum("record", "latency", "285", **env)
    assert recorded.returncode == 0, recorded.stderr[-3000:]
    assert [c.method for c in fake_slack.calls] == ["auth.test"]
    # Learning the workspace registered it, and it adopted the console's value right then.
    assert _snapshots(runtime.ctx, fake_slack.team_id, "api_response_time_p95") == 1
    assert _snapshots(runtime.ctx, fake_slack.team_id) == 2 and _snapshots(runtime.ctx, CONSOLE_TEAM) == 0
    # Later commands need no network: the workspace is remembered.
    again = _aurum("record", "latency", "290", "--at", "2020-01-01T00:00", **env)
    assert again.returncode == 0, again.stderr[-3000:]
    assert [c.method for c in fake_slack.calls] == ["auth.test"]

    # A value an older version stored under the console workspace with the token set: adopted when `aurum serve`
    # registers the workspace at start-up.
    with session_scope(runtime.ctx.engine) as session:
        kpis.record(runtime.ctx, session, CONSOLE_TEAM, runtime.ctx.catalog.resolve("uptime"), 99.5,
                    source="cli")
    with running(create_web_app(runtime)) as server:
        slack = SlackSender(server.url, team_id=fake_slack.team_id, fake=fake_slack)
        try:
            slack.command("/kpi", "latency", channel="C0CHAN")
            (latency,) = fake_slack.wait_for("chat.postMessage")
            slack.command("/kpi", "coverage", channel="C0CHAN")
            coverage = fake_slack.wait_for("chat.postMessage", count=2)[1]
            slack.command("/kpi", "uptime", channel="C0CHAN")
            uptime = fake_slack.wait_for("chat.postMessage", count=3)[2]
        finally:
            slack.close()
    assert "285 ms" in _card_fields(latency)
    assert "82%" in _card_fields(coverage) and "no data" not in _card_fields(coverage).lower()
    assert "99.5" in _card_fields(uptime), _card_fields(uptime)
    assert _snapshots(runtime.ctx, fake_slack.team_id) == 4 and _snapshots(runtime.ctx) == 4
    assert _snapshots(runtime.ctx, CONSOLE_TEAM) == 0
    with runtime.ctx.reading() as session:
        assert session.get(Workspace, CONSOLE_TEAM) is None
        assert teams_with_data(session) == {fake_slack.team_id}
    listed = _aurum("workspace", "list", **env)
    assert fake_slack.team_id in listed.stdout and CONSOLE_TEAM not in listed.stdout, listed.stdout


def test_slack_unreachable_and_workspace_unknown_is_refused_and_nothing_stored(ctx, database_url):
    env = _token_env(database_url, f"http://127.0.0.1:{free_port()}/api/")  # nobody listens there
    for command in (["record", "latency", "285"], ["collect", "prometheus"]):
        refused = _aurum(*command, **env)
        assert refused.returncode == 2, refused.stdout + refused.stderr[-3000:]
        assert "not known yet" in refused.stderr and "--team" in refused.stderr, refused.stderr[-3000:]
        assert "Nothing was stored" in refused.stderr
    assert _snapshots(ctx) == 0
    with ctx.reading() as session:
        assert session.scalar(select(func.count()).select_from(Workspace)) == 0
    named = _aurum("record", "latency", "285", "--team", "T0001", **env)  # the way out the message gives
    assert named.returncode == 0, named.stderr[-3000:]
    assert _snapshots(ctx, "T0001") == 1 and _snapshots(ctx) == 1


def test_oauth_with_two_workspaces_refuses_a_write_without_team_and_lists_them(ctx, database_url, fake_slack):
    with session_scope(ctx.engine) as session:
        ensure(session, "T0AAA", "Team A")
        ensure(session, "T0BBB", "Team B")
    env = dict(database_url=database_url, slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET,
               slack_signing_secret=SIGNING_SECRET, slack_api_url=fake_slack.base_url)
    refused = _aurum("record", "latency", "285", **env)
    assert refused.returncode == 2, refused.stdout + refused.stderr[-3000:]
    assert "T0AAA  Team A" in refused.stderr and "T0BBB  Team B" in refused.stderr and "--team" in refused.stderr
    assert _snapshots(ctx) == 0
    picked = _aurum("record", "latency", "285", "--team", "T0BBB", **env)
    assert picked.returncode == 0, picked.stderr[-3000:]
    assert _snapshots(ctx, "T0BBB") == 1 and _snapshots(ctx) == 1
    assert not fake_slack.calls


def _counts(session) -> dict[str, int]:
    tables = (KpiSnapshot, KpiHour, JobClaim, SurveyRun, SurveyRespondent, SurveyAnswer, ApiToken, Workspace)
    return {model.__name__: session.scalar(select(func.count()).select_from(model)) for model in tables}


def test_adopting_the_console_workspace_twice_moves_everything_once_and_keeps_the_real_rows(tmp_path):
    ctx = build_context(Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'adopt.db'}"))
    real, latency = "T0001", ctx.catalog.resolve("latency")
    at = datetime(2026, 11, 2, 9, tzinfo=UTC)
    try:
        with session_scope(ctx.engine) as session:
            ensure(session, CONSOLE_TEAM, "Local console")
            ensure(session, real, "Real")
            for team, value in ((CONSOLE_TEAM, 300.0), (real, 250.0)):  # the same KPI and time in both
                kpis.record(ctx, session, team, latency, value, at, source="cli")
            kpis.record(ctx, session, CONSOLE_TEAM, latency, 280.0, at + timedelta(hours=1), source="cli")
            for team in (CONSOLE_TEAM, real):
                claims.try_claim(session, team, "weekly_summary", "2026-W45", "test")
            claims.try_claim(session, CONSOLE_TEAM, "weekly_summary", "2026-W44", "test")
            for team in (CONSOLE_TEAM, real):  # one survey period in both; the console's has a respondent
                run = surveys.add_run(session, SurveyRun(team_id=team, survey="team", period="2026-W45",
                                                         opens_at=at, closes_at=at + timedelta(days=3)))
                surveys.add_respondents(session, team, run.id, ["U1"])
            session.add(ApiToken(team_id=CONSOLE_TEAM, name="ci", prefix="aur_x", token_hash="0" * 64,
                                 scopes="push", created_by="cli"))
        with session_scope(ctx.engine) as session:
            before = _counts(session)
            report = register(session, real, "Real")
        assert report["kpi_snapshot"] == (1, 1) and report["job_claim"] == (1, 1) and report["api_token"] == (1, 0)
        assert report["survey_run"] == (0, 1)
        with session_scope(ctx.engine) as session:
            after = _counts(session)
            assert adopt(session, CONSOLE_TEAM, real) == {}  # the second run finds nothing to move
            assert _counts(session) == after
            assert teams_with_data(session) == {real}
            kept = session.scalars(select(KpiSnapshot.value).where(KpiSnapshot.team_id == real)
                                   .order_by(KpiSnapshot.at)).all()
            assert kept == [250.0, 280.0]  # the clash kept the real workspace's value, the other one moved
            assert session.scalar(select(func.count()).select_from(KpiHour).where(KpiHour.team_id == real)) == 2
            assert sum(count for _, _, count, _, _ in rollups.rows(session, real)) == 2  # daily rollups too
        assert after == {**before, "KpiSnapshot": 2, "KpiHour": 2, "JobClaim": 2, "SurveyRun": 1,
                         "SurveyRespondent": 1, "Workspace": 1}
    finally:
        ctx.engine.dispose()
