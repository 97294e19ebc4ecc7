"""Admins: configured user ids, an admin user group, or Slack workspace admins; protected KPIs take one."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select

from bot.compose import build_web
from bot.roles import AdminCheck
from bot.web import create_web_app
from storage.rollups import KpiSnapshot
from tests.support import SlackSender, running


@pytest.fixture
def client(fake_slack):
    return WebClient(token="xoxb-test", base_url=fake_slack.base_url, retry_handlers=[])


def test_workspace_admins_and_owners_are_admins_and_answers_are_cached(fake_slack, client):
    fake_slack.set_user("UADMIN", is_admin=True)
    fake_slack.set_user("UOWNER", is_owner=True)
    clock = [0.0]
    check = AdminCheck(lambda team: client, clock=lambda: clock[0])
    assert check("T0001", "UADMIN") and check("T0001", "UOWNER")
    assert not check("T0001", "UPLAIN")
    calls = len(fake_slack.calls_to("users.info"))
    fake_slack.set_user("UPLAIN", is_admin=True)
    assert not check("T0001", "UPLAIN")  # cached for a minute
    assert len(fake_slack.calls_to("users.info")) == calls
    clock[0] += 61
    assert check("T0001", "UPLAIN")


def test_an_admin_of_another_workspace_is_not_an_admin_here(fake_slack, client):
    fake_slack.set_user("UGUEST", is_admin=True, team_id="T0OTHER")
    assert not AdminCheck(lambda team: client)("T0001", "UGUEST")


def test_admin_user_group_members_are_admins(fake_slack, client):
    fake_slack.set_usergroup("S0ADMINS", ["UGROUP"])
    fake_slack.set_user("UADMIN", is_admin=True)
    check = AdminCheck(lambda team: client, group="S0ADMINS", workspace_admins=False)
    assert check("T0001", "UGROUP")
    assert not check("T0001", "UADMIN")  # workspace admins do not count when switched off
    assert fake_slack.calls_to("usergroups.users.list")[0].params["usergroup"] == "S0ADMINS"


def test_slack_failures_mean_not_an_admin(fake_slack, client):
    fake_slack.fail_next("users.info", status=500)
    assert not AdminCheck(lambda team: client)("T0001", "UADMIN")


@pytest.fixture
def protected_runtime(settings, tmp_path):
    config = tmp_path / "team.yml"
    config.write_text("kpis:\n  test_coverage_percentage:\n    protected: true\n", encoding="utf-8")
    rt = build_web(settings.model_copy(update={"aurum_config": config, "aurum_admins": "UCONFIGURED"}),
                   work_process=False)
    yield rt
    rt.shutdown()


def _stored(runtime) -> int:
    with runtime.ctx.reading() as session:
        return session.scalar(select(func.count()).select_from(KpiSnapshot))


def test_recording_a_protected_kpi_takes_an_admin(protected_runtime, fake_slack):
    fake_slack.set_user("UADMIN", is_admin=True)
    with running(create_web_app(protected_runtime)) as srv:
        sender = SlackSender(srv.url, team_id=fake_slack.team_id, fake=fake_slack)
        sender.command("/kpi", "record coverage 90", user="UPLAIN")
        refusal = fake_slack.wait_for("chat.postEphemeral")[0].params
        assert refusal["user"] == "UPLAIN"
        assert refusal["text"].startswith("Only admins can record values of Code coverage")
        assert "AURUM_ADMINS" in refusal["text"] and "`UPLAIN`" in refusal["text"]
        assert _stored(protected_runtime) == 0

        sender.command("/kpi", "record coverage 91", user="UADMIN")  # a workspace admin
        sender.command("/kpi", "record coverage 92", user="UCONFIGURED")  # in AURUM_ADMINS
        sender.command("/kpi", "record latency 240", user="UPLAIN")  # not protected
        fake_slack.wait_for("chat.postEphemeral", count=4)
        sender.close()
    assert _stored(protected_runtime) == 3
    telemetry = protected_runtime.ctx.telemetry
    assert telemetry.value("command_outcomes", command="/kpi", outcome="refused") == 1
    assert telemetry.value("command_outcomes", command="/kpi", outcome="ok") == 3
