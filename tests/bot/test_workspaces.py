"""Many workspaces: OAuth installs, a bot token per workspace, uninstall and token revocation, purge, isolation."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlmodel import SQLModel

from aurum import demo
from aurum.core import outbox, tokens
from aurum.kpis import service as kpis
from bot.cli import app as cli
from storage.purge import EXEMPT_TABLES, purge, team_tables
from storage.queue import QueuedTask
from storage.rollups import KpiSnapshot
from storage.workspaces import Workspace, all_team_ids, ensure
from tests.support import SlackSender, install_workspace, token_team, wait_until


def _wait_for_team_posts(fake, team_id, count=1):
    return fake.wait_for(lambda c: c.method in ("chat.postMessage", "chat.postEphemeral")
                         and token_team(c) == team_id, count=count)


def test_install_flow_stores_the_workspace_token_and_serves_it(oauth_runtime, oauth_server, fake_slack):
    answer = install_workspace(oauth_server.url, fake_slack, "T0AAA", "Team A")
    assert answer.status_code == 200
    bot = oauth_runtime.tokens.store.find_bot(enterprise_id=None, team_id="T0AAA")
    assert bot is not None and bot.bot_token.startswith("xoxb-T0AAA-")
    with oauth_runtime.ctx.reading() as session:
        assert all_team_ids(session) == ["T0AAA"]
        assert session.get(Workspace, "T0AAA").name == "Team A"

    sender = SlackSender(oauth_server.url, team_id="T0AAA", fake=fake_slack)
    assert sender.command("/kpi", "coverage", user="U1", channel="C0CHAN").status_code == 200  # a public card
    (card,) = _wait_for_team_posts(fake_slack, "T0AAA")
    assert card.headers["authorization"] == f"Bearer {bot.bot_token}"
    sender.close()


def test_install_with_a_forged_state_is_refused(oauth_runtime, oauth_server, fake_slack):
    answer = httpx.get(oauth_server.url + "/slack/oauth_redirect",
                       params={"code": fake_slack.oauth_code("T0EVIL"), "state": "made-up"},
                       cookies={"slack-app-oauth-state": "made-up"})
    assert answer.status_code in (400, 401)
    assert oauth_runtime.tokens.store.find_bot(enterprise_id=None, team_id="T0EVIL") is None


def test_single_token_mode_has_no_install_page(server):
    assert httpx.get(server.url + "/slack/install").status_code == 404


def test_a_workspace_that_never_installed_is_refused_and_nothing_stored(oauth_runtime, oauth_server, fake_slack):
    install_workspace(oauth_server.url, fake_slack, "T0AAA")
    stranger = SlackSender(oauth_server.url, team_id="T0NOPE", fake=fake_slack)
    answer = stranger.command("/kpi", "record coverage 12", user="U9", channel="C0X")
    # Bolt refuses before any listener runs (and tells the user through the response_url, unreachable here).
    assert answer.status_code == 200 and "coverage" not in answer.text
    event = stranger.event({"type": "app_home_opened", "user": "U9", "tab": "home"})
    assert event.status_code == 200 and "install" in event.text.lower()
    with oauth_runtime.ctx.reading() as session:
        assert session.scalar(select(func.count()).select_from(KpiSnapshot)) == 0
        assert session.scalar(select(func.count()).select_from(QueuedTask)) == 0
    stranger.close()


def test_uninstall_removes_the_tokens_and_retires_the_workspace(oauth_runtime, oauth_server, fake_slack):
    install_workspace(oauth_server.url, fake_slack, "T0AAA")
    install_workspace(oauth_server.url, fake_slack, "T0BBB")
    oauth_runtime.tokens.client_for("T0AAA")  # cached before the uninstall: must be forgotten
    sender = SlackSender(oauth_server.url, team_id="T0AAA", fake=fake_slack)
    assert sender.event({"type": "app_uninstalled"}).status_code == 200
    store = oauth_runtime.tokens.store
    wait_until(lambda: store.find_installation(enterprise_id=None, team_id="T0AAA") is None, 10, "tokens removed")
    assert store.find_bot(enterprise_id=None, team_id="T0AAA") is None
    assert store.find_bot(enterprise_id=None, team_id="T0BBB") is not None

    def retired():
        with oauth_runtime.ctx.reading() as session:
            return all_team_ids(session) == ["T0BBB"]

    wait_until(retired, 10, "the workspace retired")
    # The outbox can no longer post for it: the message goes straight to the dead letters, with the reason.
    with oauth_runtime.ctx.transaction() as session:
        outbox.post(session, "T0AAA", "C0A", "hello?", key="after-uninstall")

    def settled():  # the server's own outbox workers deliver it
        with oauth_runtime.ctx.reading() as session:
            row = session.scalars(select(QueuedTask).where(QueuedTask.key == "after-uninstall")).one()
        return row if row.status in ("sent", "dead") else None

    row = wait_until(settled, 10, "the message settled")
    assert row.status == "dead" and "not installed" in row.last_error
    # Installing again brings it back.
    install_workspace(oauth_server.url, fake_slack, "T0AAA")
    with oauth_runtime.ctx.reading() as session:
        assert all_team_ids(session) == ["T0AAA", "T0BBB"]
    sender.close()


def test_tokens_revoked_for_the_bot_removes_the_bot_token(oauth_runtime, oauth_server, fake_slack):
    install_workspace(oauth_server.url, fake_slack, "T0AAA")
    sender = SlackSender(oauth_server.url, team_id="T0AAA", fake=fake_slack)
    sender.event({"type": "tokens_revoked", "tokens": {"oauth": ["UINSTALLER"], "bot": ["UBOT"]}})
    wait_until(lambda: oauth_runtime.tokens.store.find_bot(enterprise_id=None, team_id="T0AAA") is None, 10,
               "the bot token removed")

    def retired():
        with oauth_runtime.ctx.reading() as session:
            return all_team_ids(session) == []

    wait_until(retired, 10, "the workspace retired")
    sender.close()


def test_every_table_has_a_team_id_or_a_stated_exemption():
    tables = {t.name: t for t in SQLModel.metadata.sorted_tables}
    missing = [name for name, table in tables.items() if "team_id" not in table.c and name not in EXEMPT_TABLES]
    assert missing == [], f"tables without team_id: {missing}; add the column, or an exemption with its reason"
    assert set(EXEMPT_TABLES) <= set(tables)
    assert {"kpi_snapshot", "queued_task", "job_claim", "workspace", "api_token", "slack_bots",
            "slack_installations"} <= {t.name for t in team_tables()}


def _fill(ctx, team_id: str) -> None:
    with ctx.transaction() as session:
        demo.load(session, ctx.catalog, team_id, ctx.now())
        outbox.post(session, team_id, "C1", "hi", key=f"hello-{team_id}")
        tokens.create(session, team_id, "ci")
        ensure(session, team_id)


def _rows_of(ctx, team_id: str) -> dict[str, int]:
    with ctx.reading() as session:
        return {t.name: session.scalar(select(func.count()).select_from(t).where(t.c.team_id == team_id))
                for t in team_tables()}


def test_purge_deletes_one_workspace_from_every_table(ctx):
    _fill(ctx, "T0AAA")
    _fill(ctx, "T0BBB")
    before_b = _rows_of(ctx, "T0BBB")
    with ctx.transaction() as session:
        deleted = purge(session, "T0AAA")
    assert deleted["kpi_snapshot"] > 0 and deleted["queued_task"] == 1 and deleted["api_token"] == 1
    assert set(_rows_of(ctx, "T0AAA").values()) == {0}
    assert _rows_of(ctx, "T0BBB") == before_b


def test_workspace_purge_command(settings, ctx, monkeypatch):
    from typer.testing import CliRunner

    _fill(ctx, "T0AAA")
    _fill(ctx, "T0BBB")
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["workspace", "purge", "T0AAA", "--yes"])
    assert result.exit_code == 0, result.output
    assert "Deleted" in result.output and "kpi_snapshot" in result.output
    assert set(_rows_of(ctx, "T0AAA").values()) == {0}
    assert _rows_of(ctx, "T0BBB")["kpi_snapshot"] > 0
    refused = CliRunner().invoke(cli, ["workspace", "purge", "T0BBB"], input="n\n")
    assert refused.exit_code != 0 and _rows_of(ctx, "T0BBB")["kpi_snapshot"] > 0


def test_recorded_values_stay_in_their_workspace(ctx):
    coverage = ctx.catalog.get("test_coverage_percentage")
    with ctx.transaction() as session:
        kpis.record(ctx, session, "T0AAA", coverage, 11.5)
    with ctx.reading() as session:
        assert kpis.status(ctx, session, "T0BBB", coverage).latest is None
        assert kpis.status(ctx, session, "T0AAA", coverage).latest.value == 11.5


def test_a_workspace_slack_could_not_name_at_start_up_is_registered_once_slack_answers(runtime, fake_slack, ctx):
    from bot.runtime import start_registration

    fake_slack.fail_next("auth.test", count=1, status=500)
    start_registration(runtime)  # Slack fails: the bot serves anyway and keeps trying in the background
    assert runtime.home.team_id is None
    wait_until(lambda: runtime.home.team_id == fake_slack.team_id, timeout=20)
    with ctx.reading() as session:
        assert fake_slack.team_id in all_team_ids(session)
    assert len(fake_slack.calls_to("auth.test")) == 2
