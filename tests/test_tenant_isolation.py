"""Tenant isolation: two workspaces with different data; nothing of one ever shows in the other.

Both workspaces are installed through OAuth and hold recognisable data of every kind (KPI values, a firing alert,
survey answers, blockers, commitments, a sprint, kudos). Every surface is run by both; everything Slack receives
with a workspace's bot token (message texts and blocks, views, uploaded files) must hold that workspace's markers
and none of the other's, and go to that workspace's channels. `test_every_surface_has_an_isolation_case` fails when
a slash command or a command module is added without a case here.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

import commands
from aurum.core import ingest, tokens
from aurum.core.jobs import JobRunner
from aurum.kpis import service as kpis
from aurum.recognition import kudos as recognition
from aurum.reports import sprints
from aurum.surveys import runs
from bot.cli import app as cli
from storage import notes
from storage.alerts import AlertEpisode
from storage.events import DeploymentEvent
from storage.live import LiveDashboard
from storage.rollups import KpiSnapshot, SnapshotBase
from storage.surveys import SurveyAnswer, SurveyRun
from tests.settings.support import option, submission, text
from tests.support import SlackSender, install_workspace, is_reply, replies, settled, token_team, wait_until
from tests.surveys.support import answer, seed_run, view_submission

COVERAGE, LATENCY, ERRORS = "test_coverage_percentage", "api_response_time_p95", "api_error_rate_percentage"
MIGRATION = "api_migration_completion_percentage"  # a success metric of phase 1: on the roadmap
SURVEY_PEOPLE = 5  # the default anonymity threshold: results show from five answers


@dataclass(frozen=True)
class Tenant:
    channel: str
    values: dict[str, float]
    markers: dict[str, str]  # kind of data → text that only this workspace's data produces

    @property
    def admin(self) -> str:
        return f"UADMIN{self.channel}"


TRENDS = {"T0AAA": (1.0, "↑ 1 pts per week"), "T0BBB": (-2.0, "↓ 2 pts per week")}  # coverage per week, as shown
TEAMS = {
    "T0AAA": Tenant("C0AAA", {COVERAGE: 13.7, LATENCY: 123.0, ERRORS: 3.14, MIGRATION: 37.7}, {
        "coverage": "13.7%", "roadmap": "37.7%", "latency": "123 ms", "alert": "3.14%",
        "blocker": "Walrus pipeline stuck", "commitment": "Heron migration", "sprint": "Sprint Lynx",
        "kudos": "UKUDOSAAA",
        "survey": "Marten flaky builds", "forecast": TRENDS["T0AAA"][1]}),
    "T0BBB": Tenant("C0BBB", {COVERAGE: 87.3, LATENCY: 987.0, ERRORS: 5.77, MIGRATION: 58.1}, {
        "coverage": "87.3%", "roadmap": "58.1%", "latency": "987 ms", "alert": "5.77%",
        "blocker": "Yak database locked", "commitment": "Ibis rollout", "sprint": "Sprint Puma", "kudos": "UKUDOSBBB",
        "survey": "Osprey slow reviews", "forecast": TRENDS["T0BBB"][1]}),
}
ANY = ["chat.postMessage", "chat.postEphemeral", "response_url", "chat.update", "views.publish", "views.open",
       "files.*"]


@dataclass(frozen=True)
class Surface:
    command: str
    text: str
    expected: tuple[str, ...] = ()  # marker kinds the asker's workspace must see
    methods: tuple[str, ...] = ("response_url", "chat.postEphemeral")  # Slack methods that carry the answer


SURFACES = {
    "kpi card": Surface("/kpi", "coverage", ("coverage",), ("chat.postMessage",)),
    "kpi card, private": Surface("/kpi", "latency private", ("latency",)),
    "kpi help (catalogue with values)": Surface("/kpi", "help", ("coverage", "latency")),
    "kpi dashboard": Surface("/kpi", "dashboard", ("coverage", "latency"), ("chat.postMessage",)),
    "kpi live dashboard": Surface("/kpi", "dashboard live 1", ("coverage", "latency"), ("chat.postMessage",)),
    "kpi forecast": Surface("/kpi", "coverage forecast private", ("forecast",)),
    "kpi sources": Surface("/kpi", "sources"),
    "alerts firing": Surface("/alerts", "", ("alert",)),
    "alerts rules": Surface("/alerts", "rules"),
    "alerts history": Surface("/alerts", "history", ("alert",)),
    "survey form": Surface("/survey", "", (), ("views.open",)),
    "survey status": Surface("/survey", "status"),
    "survey results": Surface("/survey", "results", ("survey",)),
    "survey export (CSV by DM)": Surface("/survey", "export", ("survey",), ("files.completeUploadExternal",)),
    "roadmap": Surface("/roadmap", "", ("roadmap",), ("chat.postMessage",)),
    "roadmap, private": Surface("/roadmap", "private", ("roadmap",)),
    "report weekly (posted)": Surface("/report", "weekly", ("coverage", "blocker", "commitment"),
                                      ("chat.postMessage",)),
    "report weekly preview": Surface("/report", "weekly preview", ("coverage", "blocker", "commitment")),
    "report sprint preview": Surface("/report", "sprint preview", ("sprint",)),
    "report exec preview": Surface("/report", "exec preview", ("coverage",)),
    "report quarterly preview": Surface("/report", "quarterly preview"),
    "sprint status": Surface("/sprint", "", ("sprint",)),
    "blocker list": Surface("/blocker", "list", ("blocker",)),
    "kudos leaderboard": Surface("/kudos", "leaderboard", ("kudos",)),
    "kudos given": Surface("/kudos", "<@UFRIEND> mentorship paired on the rollout", (), ("chat.postMessage",)),
}
# Command modules whose interactions (buttons, modals, events) have their own isolation test below.
INTERACTIONS = {
    "alerts": "test_a_button_naming_another_workspaces_ids_changes_nothing_of_it",
    "kpi": "test_a_button_naming_another_workspaces_ids_changes_nothing_of_it",
    "survey_modal": "test_a_survey_answer_sent_to_another_workspaces_run_is_refused",
    "kudos": "test_a_button_naming_another_workspaces_ids_changes_nothing_of_it",
    "home": "test_app_home_shows_each_workspace_only_its_own_data",
    "settings": "test_a_setting_changed_in_one_workspace_leaves_the_others_alone",
}


@pytest.fixture
def two_workspaces(oauth_runtime, oauth_server, fake_slack):
    ctx = oauth_runtime.ctx
    ctx.admins = frozenset(t.admin for t in TEAMS.values())
    for name in ctx.config.channels.model_dump().values():
        fake_slack.add_channel(name)
    for team, tenant in TEAMS.items():
        fake_slack.add_channel(f"team-{team.lower()}", tenant.channel)  # the workspace's channel, the bot is in it
        install_workspace(oauth_server.url, fake_slack, team)
        plant(ctx, team, tenant)
    settled(ctx, 60)  # the alerts and survey results are sent
    return oauth_server


def plant(ctx, team: str, tenant: Tenant) -> None:
    """Data of every kind, each carrying one of the workspace's markers."""
    now, marks = ctx.now(), tenant.markers
    with ctx.transaction() as session:
        slope = TRENDS[team][0]  # three weeks of coverage ending at today's value: enough to forecast
        ingest.store(ctx, session, team, [
            SnapshotBase(kpi=COVERAGE, value=round(tenant.values[COVERAGE] - slope * (21 - i) / 7, 2),
                         at=now - timedelta(days=21 - i), source="test") for i in range(21)])
        for key, value in tenant.values.items():  # the error rate fires ApiErrorRateHigh at once
            kpis.record(ctx, session, team, ctx.catalog.get(key), value)
        notes.add(session, team, notes.BLOCKER, marks["blocker"], tenant.admin, now)
        notes.add(session, team, notes.COMMITMENT, marks["commitment"], tenant.admin, now)
        sprints.start(ctx, session, team, marks["sprint"], 30, tenant.admin)
        recognition.give(ctx, session, team, tenant.admin, marks["kudos"], "code_quality", "raised the coverage")
    people = [f"U{team}{i}" for i in range(SURVEY_PEOPLE)]
    run = seed_run(ctx, team, people, period="2026-W01")
    for person in people:
        answer(ctx, team, person, run.id, {"q_velocity": "8", "q_priorities": "6", "q_blockers": marks["survey"],
                                           "q_keep_doing": "Pairing"})
    with ctx.transaction() as session:
        runs.close(ctx, session, session.get(SurveyRun, run.id))  # posts the results to the team's channels


def seen_by(fake_slack, team: str, methods: list[str] | tuple[str, ...] = tuple(ANY), since: int = 0) -> str:
    """Everything Slack received with the workspace's bot token by these methods (from call number `since` on),
    uploaded files included."""
    def wanted(method: str) -> bool:
        return any(method == m or (m.endswith("*") and method.startswith(m[:-1])) for m in methods)

    calls = [c for c in fake_slack.calls[since:] if wanted(c.method) and token_team(c) == team and not c.failed]
    parts = [json.dumps(c.params, ensure_ascii=False) for c in calls]
    for call in calls:
        for entry in call.params.get("files") or [] if call.method == "files.completeUploadExternal" else []:
            parts.append(fake_slack.files[entry["id"]].bytes.decode("utf-8", "replace"))
    return "\n".join(parts)


def assert_isolated(fake_slack) -> None:
    """Nothing any workspace received names another's data, and every message went to its own channels."""
    for team in TEAMS:
        seen = seen_by(fake_slack, team)
        for other, tenant in TEAMS.items():
            for kind, marker in tenant.markers.items() if other != team else []:
                assert marker not in seen, f"{team} sees {other}'s {kind} ({marker})"
    named = {f"#{c}" for c in fake_slack._named} | set(fake_slack._named.values())
    for call in fake_slack.calls:
        team = token_team(call)
        # Uploads go to the URL files.getUploadURLExternal gave (no token); OAuth's code exchange has none.
        assert team in TEAMS or call.method in ("oauth.v2.access", "upload"), f"{call.method} with an unknown token"
        if call.method.startswith("chat.") and "channel" in call.params:
            own = {TEAMS[team].channel, f"D{TEAMS[team].channel}"} | _people(team)
            assert call.params["channel"] in own | named, f"{team} posted to {call.params['channel']}"


def _people(team: str) -> set[str]:
    tenant = TEAMS[team]
    return {tenant.admin, f"D{tenant.admin}"} | {f"U{team}{i}" for i in range(SURVEY_PEOPLE)}


def ask(url: str, team: str, command: str, text: str, fake=None) -> None:
    sender = SlackSender(url, team_id=team, fake=fake)
    try:
        assert sender.command(command, text, user=TEAMS[team].admin, channel=TEAMS[team].channel).status_code == 200
    finally:
        sender.close()


def wait_for_team(fake_slack, team: str, methods, what: str, since: int = 0) -> None:
    wait_until(lambda: seen_by(fake_slack, team, methods, since), 60, f"{what} for {team}")


def assert_each_sees_its_own(fake_slack, expected, methods, what: str, since: int = 0) -> None:
    for team, tenant in TEAMS.items():
        seen = seen_by(fake_slack, team, methods, since)
        for kind in expected:
            assert tenant.markers[kind] in seen, f"{what}: {team} does not see its own {kind}"
    assert_isolated(fake_slack)


@pytest.mark.parametrize("surface", list(SURFACES))
def test_a_command_shows_each_workspace_only_its_own_data(surface, two_workspaces, fake_slack):
    case = SURFACES[surface]
    since = len(fake_slack.calls)
    for team in TEAMS:
        ask(two_workspaces.url, team, case.command, case.text, fake=fake_slack)
    for team in TEAMS:
        wait_for_team(fake_slack, team, case.methods, surface, since)
    assert_each_sees_its_own(fake_slack, case.expected, case.methods, surface, since)


def test_every_surface_has_an_isolation_case():
    manifest = yaml.safe_load((Path(__file__).parent.parent / "manifest.yml").read_text())
    declared = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert declared <= {s.command for s in SURFACES.values()}, "a slash command without a tenant isolation case"
    modules = {m.__name__.removeprefix("commands.") for m in commands.MODULES}
    covered = {s.command.lstrip("/") for s in SURFACES.values()} | set(INTERACTIONS)
    assert modules <= covered, f"command modules without a tenant isolation case: {modules - covered}"
    assert all(name in globals() for name in INTERACTIONS.values())


def test_survey_results_and_alerts_are_posted_to_each_workspace_with_its_own_token(two_workspaces, fake_slack):
    wait_for_team(fake_slack, "T0AAA", ["files.completeUploadExternal"], "the alert chart")
    wait_for_team(fake_slack, "T0BBB", ["files.completeUploadExternal"], "the alert chart")
    assert_each_sees_its_own(fake_slack, ("survey", "alert"), ("chat.postMessage",), "posts of the fixture")


def test_app_home_shows_each_workspace_only_its_own_data(two_workspaces, fake_slack):
    for team, tenant in TEAMS.items():
        sender = SlackSender(two_workspaces.url, team_id=team, fake=fake_slack)
        sender.event({"type": "app_home_opened", "user": tenant.admin, "tab": "home", "channel": "D1"})
        sender.close()
    for team in TEAMS:
        wait_for_team(fake_slack, team, ("views.publish",), "the Home tab")
    assert_each_sees_its_own(fake_slack, ("coverage", "alert", "kudos"), ("views.publish",), "Home tab")
    for call in fake_slack.calls_to("views.publish"):
        assert call.params["user_id"] == TEAMS[token_team(call)].admin


def test_a_setting_changed_in_one_workspace_leaves_the_others_alone(two_workspaces, fake_slack):
    changer = SlackSender(two_workspaces.url, team_id="T0AAA", fake=fake_slack)
    try:
        answer = changer.interaction(submission("kpi", TEAMS["T0AAA"].admin, {
            "kpi": option(LATENCY), "target": text("<150"), "stretch": text(None)}, team_id="T0AAA")).json()
    finally:
        changer.close()
    assert answer["response_action"] == "update"
    since = len(fake_slack.calls)
    for team in TEAMS:
        ask(two_workspaces.url, team, "/kpi", "latency private", fake=fake_slack)
    for team in TEAMS:
        wait_for_team(fake_slack, team, ("response_url", "chat.postEphemeral"), "the KPI card", since)
    targets = {team: seen_by(fake_slack, team, ("response_url", "chat.postEphemeral"), since) for team in TEAMS}
    assert "<150 ms" in targets["T0AAA"] and "<150 ms" not in targets["T0BBB"] and "<200 ms" in targets["T0BBB"]


def test_scheduled_jobs_post_each_workspaces_own_data_to_it(two_workspaces, oauth_runtime, fake_slack):
    """Every job (reports, reminders, survey runs, alerts, live dashboards…) runs for each workspace: what it posts
    goes to that workspace only."""
    runner = JobRunner(oauth_runtime.ctx)
    for name in oauth_runtime.ctx.jobs:
        outcomes = runner.run_now(name)
        assert {o.team_id for o in outcomes} == set(TEAMS), name
    settled(oauth_runtime.ctx, 60)
    assert_each_sees_its_own(fake_slack, ("coverage", "blocker", "commitment"), ("chat.postMessage",), "jobs")


def test_live_dashboard_updates_each_workspace_with_its_own_numbers(two_workspaces, oauth_runtime, fake_slack):
    ctx = oauth_runtime.ctx
    for team in TEAMS:
        ask(two_workspaces.url, team, "/kpi", "dashboard live 2", fake=fake_slack)
    wait_until(lambda: len(_rows(ctx, LiveDashboard, "T0AAA") + _rows(ctx, LiveDashboard, "T0BBB")) == 2, 60,
               "the live dashboards")
    settled(ctx, 60)  # the live dashboards are posted
    with ctx.transaction() as session:
        for team, tenant in TEAMS.items():  # new numbers, then a tick a few minutes later
            ingest.store(ctx, session, team, [SnapshotBase(kpi=COVERAGE, value=tenant.values[COVERAGE] + 0.2,
                                                           at=ctx.now(), source="test")])
    since = len(fake_slack.calls)
    clock = ctx.clock
    ctx.clock = lambda: clock() + timedelta(minutes=3)
    assert [o.result for o in JobRunner(ctx).run_now("live_dashboards")] == ["1 edited, 0 ended, 0 unchanged"] * 2
    for team in TEAMS:
        wait_for_team(fake_slack, team, ("chat.update",), "the live update", since)
    updates = {"T0AAA": "13.9%", "T0BBB": "87.5%"}
    for team, marker in updates.items():
        seen = seen_by(fake_slack, team, ("chat.update",))
        assert marker in seen and updates["T0BBB" if team == "T0AAA" else "T0AAA"] not in seen
    assert_isolated(fake_slack)


def test_a_button_naming_another_workspaces_ids_changes_nothing_of_it(two_workspaces, oauth_runtime, fake_slack):
    """Buttons carry row ids in their values; A's click with B's alert episode or live dashboard id is refused."""
    ctx = oauth_runtime.ctx
    ask(two_workspaces.url, "T0BBB", "/kpi", "dashboard live 2", fake=fake_slack)
    wait_until(lambda: _rows(ctx, LiveDashboard, "T0BBB"), 60, "B's live dashboard")
    wait_until(lambda: _rows(ctx, AlertEpisode, "T0BBB"), 60, "B's alert")
    (live,), episodes = _rows(ctx, LiveDashboard, "T0BBB"), _rows(ctx, AlertEpisode, "T0BBB")
    sender = SlackSender(two_workspaces.url, team_id="T0AAA", fake=fake_slack)
    since = len(fake_slack.calls)
    clicks = [("alert_ack", str(episodes[0].id)), ("alert_snooze_1h", f"{episodes[0].id}:1h"),
              ("alert_noise", str(episodes[0].id)), ("live_dashboard_stop", str(live.id)),
              ("kudos_suggest_confirm", json.dumps({"key": "weekly:T0BBB:1", "award": "code_quality",
                                                    "reason": TEAMS["T0BBB"].markers["blocker"]}))]
    for action_id, value in clicks:
        sender.interaction({
            "type": "block_actions", "user": {"id": TEAMS["T0AAA"].admin, "team_id": "T0AAA"},
            "api_app_id": "A0001", "token": "legacy", "trigger_id": f"t.{uuid.uuid4().hex}",
            "channel": {"id": "C0AAA"}, "container": {"type": "message", "channel_id": "C0AAA"},
            "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value,
                         "action_ts": "1.1"}]})
    sender.close()
    wait_until(lambda: len([c for c in fake_slack.calls[since:] if token_team(c) == "T0AAA"
                            and is_reply(c)]) >= 4, 60, "the refusals")
    (live,), after = _rows(ctx, LiveDashboard, "T0BBB"), _rows(ctx, AlertEpisode, "T0BBB")
    assert live.stopped_at is None
    assert [(e.acked_by, e.snoozed_until, e.feedback) for e in after] == [
        (e.acked_by, e.snoozed_until, e.feedback) for e in episodes]
    assert not [c for c in fake_slack.calls[since:] if token_team(c) == "T0BBB"]
    assert_isolated(fake_slack)


def _rows(ctx, model, team: str) -> list:
    with ctx.reading() as session:
        return list(session.scalars(select(model).where(model.team_id == team).order_by(model.id)))


def test_a_survey_answer_sent_to_another_workspaces_run_is_refused(two_workspaces, oauth_runtime, fake_slack):
    ctx = oauth_runtime.ctx
    run_b = seed_run(ctx, "T0BBB", ["UT0AAA0", "UT0BBB0"], period="2026-W02")
    survey = ctx.config.surveys.survey("team")
    raw = {"q_velocity": "1", "q_priorities": "1", "q_blockers": "Intruder", "q_keep_doing": "Intruder"}
    sender = SlackSender(two_workspaces.url, team_id="T0AAA", fake=fake_slack)
    reply = sender.interaction(view_submission(survey, run_b.id, raw, user="UT0AAA0", team_id="T0AAA"))
    sender.close()
    # Answered about A's own (closed) run of week 1; B's open run of week 2 is neither named nor touched.
    assert reply.status_code == 200 and "week 1" in reply.text and "week 2" not in reply.text
    with ctx.reading() as session:
        assert not list(session.scalars(select(SurveyAnswer).where(SurveyAnswer.run_id == run_b.id)))
    assert_isolated(fake_slack)


def test_metrics_label_each_workspaces_values_with_its_own_team(two_workspaces):
    exposition = httpx.get(two_workspaces.url + "/metrics").text
    assert 'roadmap_test_coverage{team="default",team_id="T0AAA"} 13.7' in exposition
    assert 'roadmap_test_coverage{team="default",team_id="T0BBB"} 87.3' in exposition
    assert 'roadmap_api_response_time_p95{team="default",team_id="T0AAA"} 123.0' in exposition
    assert 'roadmap_api_response_time_p95{team="default",team_id="T0BBB"} 987.0' in exposition


@pytest.mark.parametrize("args, kind", [
    (["kpi", "coverage", "--json"], "coverage"),
    (["forecast", "coverage"], "coverage"),
    (["token", "list"], "token"),
])
def test_cli_output_for_one_workspace_holds_only_its_data(args, kind, two_workspaces, oauth_runtime,
                                                          oauth_settings, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", oauth_settings.database_url)
    ctx = oauth_runtime.ctx
    with ctx.transaction() as session:
        for team in TEAMS:
            tokens.create(session, team, f"ci-{team}", scopes="write")
    for team in TEAMS:
        result = CliRunner().invoke(cli, [*args, "--team", team])
        assert result.exit_code == 0, result.output
        other = next(t for t in TEAMS if t != team)
        if kind == "token":
            assert f"ci-{team}" in result.output and f"ci-{other}" not in result.output
        elif args[0] == "forecast":
            assert TRENDS[team][1] in result.output and TRENDS[other][1] not in result.output
        else:
            assert TEAMS[team].markers["coverage"].rstrip("%") in result.output
            assert TEAMS[other].markers["coverage"].rstrip("%") not in result.output
    ambiguous = CliRunner().invoke(cli, [*args[:2]] if kind != "token" else ["kpi", "coverage"])
    assert ambiguous.exit_code != 0 and "--team" in ambiguous.output


def test_a_push_api_token_writes_and_reads_only_its_own_workspace(two_workspaces, oauth_runtime):
    ctx = oauth_runtime.ctx
    with ctx.transaction() as session:
        secret = {team: tokens.create(session, team, "ci", scopes="write").secret for team in TEAMS}
    api = httpx.Client(base_url=two_workspaces.url + "/api/v1", timeout=10)
    a = {"Authorization": f"Bearer {secret['T0AAA']}"}
    assert api.post("/metrics", json={"kpi": "coverage", "value": 55.5}, headers=a).status_code == 201
    for smuggled in ({"kpi": "coverage", "value": 1.5, "team_id": "T0BBB"},
                     {"kpi": "coverage", "value": 1.5, "team": "T0BBB"}):
        assert api.post("/metrics", json=smuggled, headers=a).status_code == 422
    # A team named in the query string is not a parameter: the token's own workspace gets the value.
    assert api.post("/metrics?team=T0BBB", json={"kpi": "coverage", "value": 2.5}, headers=a).status_code == 201
    # The same idempotency key and deployment id in both workspaces are two different things: A's request is not
    # answered with B's stored response, and B's deployment keeps its status.
    b = {"Authorization": f"Bearer {secret['T0BBB']}"}
    deploy = {"id": "deploy-1", "status": "success"}
    b_first = api.post("/deployments", json=deploy, headers={**b, "Idempotency-Key": "k1"})
    a_fail = api.post("/deployments", json={**deploy, "status": "failure"}, headers={**a, "Idempotency-Key": "k1"})
    assert b_first.status_code == a_fail.status_code == 201
    assert a_fail.json() != b_first.json()
    api.close()
    coverage = ctx.catalog.get(COVERAGE)
    with ctx.reading() as session:
        assert kpis.status(ctx, session, "T0BBB", coverage).latest.value == 87.3
        assert kpis.status(ctx, session, "T0AAA", coverage).latest.value == 2.5
        deployments = {(d.team_id, d.external_id, d.status) for d in session.scalars(select(DeploymentEvent))}
        assert deployments == {("T0AAA", "deploy-1", "failure"), ("T0BBB", "deploy-1", "success")}
        b_values = set(session.scalars(select(KpiSnapshot.value).where(KpiSnapshot.team_id == "T0BBB")))
    assert not b_values & {55.5, 1.5, 2.5}


def test_ids_of_another_workspace_in_a_request_reach_nothing_of_it(two_workspaces, oauth_runtime, fake_slack):
    """A request signed for workspace A that names B's channel or user gets A's data only (every query is scoped
    by the request's own team), answered with A's token; B's data is untouched."""
    sender = SlackSender(two_workspaces.url, team_id="T0AAA", fake=fake_slack)
    sender.command("/kpi", "record coverage 12.5", user="UT0BBB", channel="C0BBB")
    wait_until(lambda: any(token_team(c) == "T0AAA" for c in replies(fake_slack)), 30,
               "the reply")
    sender.close()
    (reply,) = [c for c in replies(fake_slack) if token_team(c) == "T0AAA"]
    assert "12.5%" in json.dumps(reply.params) and "87.3%" not in json.dumps(reply.params)
    ctx = oauth_runtime.ctx
    with ctx.reading() as session:
        coverage = ctx.catalog.get("test_coverage_percentage")
        assert kpis.status(ctx, session, "T0BBB", coverage).latest.value == 87.3
        assert kpis.status(ctx, session, "T0AAA", coverage).latest.value == 12.5


# ----- teams inside a workspace ------------------------------------------------------------------------------------
# T0AAA has two teams: payments (its default team: the data above) and platform (its own data below, in #platform);
# T0BBB has one (the config is the process's: it names both teams, but T0BBB's data is all its default team's).

PLATFORM_CHANNEL = "C0PLAT"
PLATFORM = {"coverage": "42.4%", "latency": "456 ms", "blocker": "Quokka cache cold",
            "commitment": "Kestrel rollout", "sprint": "Sprint Otter", "kudos": "UKUDOSPLAT", "roadmap": "64.2%"}
GROUPS = {"payments": TEAMS["T0AAA"].markers, "platform": PLATFORM, "T0BBB": TEAMS["T0BBB"].markers}
TEAM_SURFACES = [  # (workspace, channel typed in, command, text, whose data it shows, marker kinds it must hold)
    ("T0AAA", "C0AAA", "/kpi", "latency private team:platform", "platform", ("latency",)),
    ("T0AAA", PLATFORM_CHANNEL, "/kpi", "latency private", "platform", ("latency",)),
    ("T0AAA", "C0AAA", "/kpi", "latency private", "payments", ("latency",)),
    ("T0AAA", PLATFORM_CHANNEL, "/kpi", "latency team:payments private", "payments", ("latency",)),
    ("T0AAA", "C0AAA", "/kpi", "help team:platform", "platform", ("coverage", "latency")),
    ("T0AAA", "C0AAA", "/report", "weekly preview team:platform", "platform", ("coverage", "blocker", "commitment")),
    ("T0AAA", "C0AAA", "/report", "weekly team:payments preview", "payments", ("coverage", "blocker", "commitment")),
    ("T0BBB", "C0BBB", "/kpi", "latency private team:platform", "T0BBB", ()),
    ("T0BBB", "C0BBB", "/kpi", "latency private", "T0BBB", ("latency",)),
    ("T0BBB", "C0BBB", "/report", "weekly preview", "T0BBB", ("coverage", "blocker", "commitment")),
    ("T0AAA", "C0AAA", "/report", "sprint preview team:platform", "platform", ("sprint",)),
    ("T0AAA", PLATFORM_CHANNEL, "/sprint", "", "platform", ("sprint",)),
    ("T0AAA", "C0AAA", "/sprint", "", "payments", ("sprint",)),
    ("T0AAA", "C0AAA", "/blocker", "list team:platform", "platform", ("blocker",)),
    ("T0AAA", PLATFORM_CHANNEL, "/blocker", "list team:payments", "payments", ("blocker",)),
    ("T0BBB", "C0BBB", "/blocker", "list team:platform", "T0BBB", ()),
    ("T0AAA", "C0AAA", "/roadmap", "private team:platform", "platform", ("roadmap",)),
    ("T0AAA", PLATFORM_CHANNEL, "/roadmap", "private", "platform", ("roadmap",)),
    ("T0AAA", "C0AAA", "/roadmap", "private", "payments", ("roadmap",)),
    ("T0BBB", "C0BBB", "/roadmap", "private", "T0BBB", ("roadmap",)),
    ("T0AAA", "C0AAA", "/kudos", "leaderboard team:platform", "platform", ("kudos",)),
    ("T0AAA", PLATFORM_CHANNEL, "/kudos", "leaderboard quarter", "platform", ("kudos",)),
    ("T0AAA", "C0AAA", "/kudos", "leaderboard", "payments", ("kudos",)),
    ("T0BBB", "C0BBB", "/kudos", "leaderboard", "T0BBB", ("kudos",)),
    ("T0AAA", "C0AAA", "/alerts", "team:platform", "platform", ("coverage", "latency")),
    ("T0AAA", PLATFORM_CHANNEL, "/alerts", "", "platform", ("coverage", "latency")),
    ("T0AAA", "C0AAA", "/alerts", "", "payments", ("alert",)),
    ("T0BBB", "C0BBB", "/alerts", "", "T0BBB", ("alert",)),
    ("T0AAA", "C0AAA", "/survey", "export team:platform", "platform", ()),
    ("T0AAA", PLATFORM_CHANNEL, "/survey", "export", "platform", ()),
    ("T0AAA", "C0AAA", "/survey", "export", "payments", ("survey",)),
    ("T0BBB", "C0BBB", "/survey", "export team:payments", "T0BBB", ("survey",)),
    ("T0AAA", "C0AAA", "/survey", "status team:platform", "platform", ()),
]


@pytest.fixture
def teams_in_workspaces(two_workspaces, oauth_runtime, fake_slack):
    from aurum.config import parse_config
    from aurum.reports import notes as team_notes
    from aurum.squads import teams

    ctx = oauth_runtime.ctx
    ctx.config = parse_config({"teams": {
        "payments": {"members": {"channel": "C0AAA"}},
        "platform": {"members": {"channel": PLATFORM_CHANNEL}, "scrum_masters": ["UPLATSM"],
                     "channels": {"scrum_masters": "#platform-sm"}},
    }})
    fake_slack.add_channel("platform", PLATFORM_CHANNEL)
    fake_slack.add_channel("platform-sm", "C0PLATSM")
    platform = teams.scope(ctx, teams.by_key(ctx.config, "platform"))
    with platform.transaction() as session:
        for key, value in ((COVERAGE, 42.4), (LATENCY, 456.0), (MIGRATION, 64.2)):
            kpis.record(platform, session, "T0AAA", platform.catalog.get(key), value)
        team_notes.add_blocker(platform, session, "T0AAA", PLATFORM["blocker"], TEAMS["T0AAA"].admin)
        team_notes.add_commitment(platform, session, "T0AAA", PLATFORM["commitment"], TEAMS["T0AAA"].admin)
        sprints.start(platform, session, "T0AAA", PLATFORM["sprint"], 20, TEAMS["T0AAA"].admin)
        recognition.give(ctx, session, "T0AAA", TEAMS["T0AAA"].admin, PLATFORM["kudos"], "performance", "cache")
    fake_slack.set_members(PLATFORM_CHANNEL, ["UPLATFORM", PLATFORM["kudos"]])
    settled(ctx, 60)
    return two_workspaces


@pytest.mark.parametrize("workspace, channel, command, text, owner, expected", TEAM_SURFACES,
                         ids=[f"{w} {c} {t}" for w, _, c, t, _, _ in TEAM_SURFACES])
def test_each_team_sees_only_its_own_numbers(workspace, channel, command, text, owner, expected,
                                             teams_in_workspaces, oauth_runtime, fake_slack):
    since = len(fake_slack.calls)
    sender = SlackSender(teams_in_workspaces.url, team_id=workspace, fake=fake_slack)
    try:
        assert sender.command(command, text, user=TEAMS[workspace].admin, channel=channel).status_code == 200
    finally:
        sender.close()
    methods = ("response_url", "chat.postEphemeral", "files.*")
    wait_for_team(fake_slack, workspace, methods, f"{command} {text}", since)
    settled(oauth_runtime.ctx, 60)
    seen = seen_by(fake_slack, workspace, methods, since)
    for kind in expected:
        assert GROUPS[owner][kind] in seen, f"{command} {text}: {owner}'s {kind} is not shown"
    for other, markers in GROUPS.items():
        for kind, marker in markers.items() if other != owner else []:
            assert marker not in seen, f"{command} {text} in {workspace} shows {other}'s {kind} ({marker})"


def test_metrics_label_each_teams_values_with_its_team(teams_in_workspaces):
    exposition = httpx.get(teams_in_workspaces.url + "/metrics").text
    assert 'roadmap_test_coverage{team="payments",team_id="T0AAA"} 13.7' in exposition
    assert 'roadmap_test_coverage{team="platform",team_id="T0AAA"} 42.4' in exposition
    assert 'roadmap_test_coverage{team="payments",team_id="T0BBB"} 87.3' in exposition  # its default team
    assert 'roadmap_test_coverage{team="platform",team_id="T0BBB"}' not in exposition  # no data of its own


def test_app_home_shows_the_viewers_team(teams_in_workspaces, fake_slack):
    for workspace, user in (("T0AAA", "UPLATFORM"), ("T0AAA", TEAMS["T0AAA"].admin), ("T0BBB", TEAMS["T0BBB"].admin)):
        since = len(fake_slack.calls)
        sender = SlackSender(teams_in_workspaces.url, team_id=workspace, fake=fake_slack)
        sender.event({"type": "app_home_opened", "user": user, "tab": "home", "channel": "D1"})
        sender.close()
        wait_for_team(fake_slack, workspace, ("views.publish",), f"{user}'s Home", since)
        # The KPI statuses and the team survey; the active alerts that follow are the workspace's, not a team's.
        seen = seen_by(fake_slack, workspace, ("views.publish",), since).split("*Active alerts*")[0]
        owner = "platform" if user == "UPLATFORM" else "payments" if workspace == "T0AAA" else "T0BBB"
        assert GROUPS[owner]["coverage"] in seen, f"{user} does not see {owner}'s coverage"
        for other in set(GROUPS) - {owner}:
            assert GROUPS[other]["coverage"] not in seen, f"{user} sees {other}'s coverage"


def test_alerts_and_celebrations_read_the_default_teams_values_only(teams_in_workspaces, oauth_runtime):
    """Alert rules and milestones are the workspace's: another team's values (platform's 42.4% coverage, below the
    rule's 80%) neither fire nor resolve them, nor update the alert posts."""
    episodes = " ".join(str(e.model_dump()) for e in _rows(oauth_runtime.ctx, AlertEpisode, "T0AAA"))
    assert "13.7" in episodes  # the default team's coverage fired TestCoverageLow
    assert "42.4" not in episodes and "456" not in episodes


def test_a_teams_sprint_retrospective_goes_to_its_own_scrum_masters(teams_in_workspaces, oauth_runtime, fake_slack):
    since = len(fake_slack.calls)
    sender = SlackSender(teams_in_workspaces.url, team_id="T0AAA", fake=fake_slack)
    sender.command("/sprint", "end 18", user=TEAMS["T0AAA"].admin, channel=PLATFORM_CHANNEL)
    sender.close()
    wait_until(lambda: any(PLATFORM["sprint"] in json.dumps(c.params) for c in fake_slack.calls[since:]
                           if c.method == "chat.postMessage"), 60, "the retrospective")
    settled(oauth_runtime.ctx, 60)
    retro = [c.params["channel"] for c in fake_slack.calls[since:] if c.method == "chat.postMessage"
             and "Sprint retrospective" in json.dumps(c.params)]
    assert "C0PLATSM" in retro or "#platform-sm" in retro, retro
    assert len(retro) == 2, retro  # its channel and a DM to its one scrum master, nothing to #scrum-masters
    assert not {"#scrum-masters", fake_slack.channel_id("#scrum-masters")} & set(retro)


def _ask_in(url: str, fake_slack, workspace: str, channel: str, command: str, text: str) -> int:
    since = len(fake_slack.calls)
    sender = SlackSender(url, team_id=workspace, fake=fake_slack)
    try:
        assert sender.command(command, text, user=TEAMS[workspace].admin, channel=channel).status_code == 200
    finally:
        sender.close()
    return since


def test_a_teams_weekly_summary_posted_now_is_that_teams_only(teams_in_workspaces, oauth_runtime, fake_slack):
    since = _ask_in(teams_in_workspaces.url, fake_slack, "T0AAA", "C0AAA", "/report", "weekly team:platform")
    wait_until(lambda: any(PLATFORM["coverage"] in json.dumps(c.params) for c in fake_slack.calls[since:]
                           if c.method == "chat.postMessage"), 60, "platform's weekly summary")
    settled(oauth_runtime.ctx, 60)
    posts = [json.dumps(c.params) for c in fake_slack.calls[since:] if c.method == "chat.postMessage"]
    assert len([p for p in posts if "Team weekly status" in p]) == 1, posts
    assert not [p for p in posts if GROUPS["payments"]["coverage"] in p or GROUPS["payments"]["blocker"] in p]
    answered = seen_by(fake_slack, "T0AAA", ("response_url", "chat.postEphemeral"), since)
    assert "platform's weekly summary" in answered and "is posted" in answered
    again = _ask_in(teams_in_workspaces.url, fake_slack, "T0AAA", "C0AAA", "/report", "weekly team:platform")
    wait_for_team(fake_slack, "T0AAA", ("response_url", "chat.postEphemeral"), "the second answer", again)
    settled(oauth_runtime.ctx, 60)
    assert "already posted" in seen_by(fake_slack, "T0AAA", ("response_url", "chat.postEphemeral"), again)
    assert not [c for c in fake_slack.calls[again:] if c.method == "chat.postMessage"]


def test_survey_status_and_open_are_of_one_team(teams_in_workspaces, oauth_runtime, fake_slack):
    url, methods = teams_in_workspaces.url, ("response_url", "chat.postEphemeral")
    since = _ask_in(url, fake_slack, "T0AAA", PLATFORM_CHANNEL, "/survey", "open")
    wait_for_team(fake_slack, "T0AAA", methods, "the opening", since)
    settled(oauth_runtime.ctx, 60)
    assert "Team Satisfaction Survey of platform: opened" in seen_by(fake_slack, "T0AAA", methods, since)
    with oauth_runtime.ctx.reading() as session:
        opened = [(r.squad, r.state) for r in session.scalars(select(SurveyRun).where(SurveyRun.team_id == "T0AAA"))
                  if r.state == "open"]
    assert opened == [("platform", "open")]
    for channel, typed, shown in ((PLATFORM_CHANNEL, "status", "0 of 2"), ("C0AAA", "status team:platform", "0 of 2"),
                                  ("C0AAA", "status", "No survey is open")):
        since = _ask_in(url, fake_slack, "T0AAA", channel, "/survey", typed)
        wait_for_team(fake_slack, "T0AAA", methods, f"/survey {typed}", since)
        seen = seen_by(fake_slack, "T0AAA", methods, since)
        assert shown in seen, seen
        assert ("The team survey of platform" if "0 of" in shown else "The team survey of payments") in seen


def test_a_teams_survey_export_hides_a_run_that_another_teams_small_run_would_expose(
        teams_in_workspaces, oauth_runtime, fake_slack):
    """Payments' 5 answers of 2026-W01 could be subtracted from the organisation's 7 to show platform's 2: the
    breakdown's rule leaves payments' run out of its export as well."""
    ctx = oauth_runtime.ctx
    run = seed_run(ctx, "T0AAA", ["UPLATFORM", PLATFORM["kudos"]], period="2026-W01", squad="platform")
    for person in ("UPLATFORM", PLATFORM["kudos"]):
        answer(ctx, "T0AAA", person, run.id, {"q_velocity": "3", "q_priorities": "3", "q_blockers": "Tapir",
                                               "q_keep_doing": "Pairing"})
    with ctx.transaction() as session:
        session.get(SurveyRun, run.id).state = "closed"
    since = _ask_in(teams_in_workspaces.url, fake_slack, "T0AAA", "C0AAA", "/survey", "export team")
    wait_for_team(fake_slack, "T0AAA", ("files.*",), "the export", since)
    settled(ctx, 60)
    seen = seen_by(fake_slack, "T0AAA", ("response_url", "chat.postEphemeral", "files.*"), since)
    assert TEAMS["T0AAA"].markers["survey"] not in seen and "Tapir" not in seen
    assert "0 closed runs of payments's team survey" in seen and "1 runs left out" in seen
