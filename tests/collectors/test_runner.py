"""Collection end to end: the scheduled job stores values and health; a failing source stores nothing and its
KPIs turn stale on the card; `/kpi sources` and `aurum collect` report it."""

from __future__ import annotations

import math

import pytest
import yaml
from hypothesis import given
from slack_sdk.models.blocks import Block
from sqlalchemy import select
from typer.testing import CliRunner

from aurum.collectors import health, runner
from aurum.collectors.errors import CollectorError
from aurum.core.jobs import JobRunner
from aurum.kpis import service as kpis
from bot import cli
from bot.compose import build_context
from bot.settings import SettingsError
from storage import sources as repo
from tests.fakes.http_api import Reply
from tests.kpis.ranges import HTTP, KPIS, entries
from tests.support import is_reply

TEAM = "T0001"


def vector(value: str) -> dict:
    return {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [0, value]}]}}


@pytest.fixture
def config_file(tmp_path, api):
    path = tmp_path / "team.yml"
    queries = {"api_response_time_p95": "p95", "requests_per_second": "rps"}
    prometheus = {"url": api.url, "defaults": False, "queries": queries}
    path.write_text(yaml.safe_dump({"sources": {"prometheus": prometheus}}))
    return path


@pytest.fixture
def collecting(settings, config_file):
    ctx = build_context(settings.model_copy(update={"aurum_config": config_file}))
    now = ctx.now().replace(second=30)
    ctx.clock = lambda: now
    with ctx.transaction() as session:
        from storage.workspaces import ensure

        ensure(session, TEAM)
    yield ctx
    ctx.engine.dispose()


def answers(api, p95: Reply, rps: Reply) -> None:
    api.on("POST", "/api/v1/query", lambda r: p95 if r.form()["query"] == ["p95"] else rps)


def latency(ctx):
    with ctx.reading() as session:
        return kpis.status(ctx, session, TEAM, ctx.catalog.get("api_response_time_p95"))


def test_job_stores_values_and_health_then_a_failure_stores_nothing(collecting, api):
    ctx = collecting
    job = JobRunner(ctx)
    assert job.cron(job.jobs["collect_prometheus"]) == "*/5 * * * *"
    answers(api, Reply(vector("240")), Reply(vector("NaN")))
    (outcome,) = job.run_now("collect_prometheus", TEAM)
    assert outcome.result == "stored 1 values, no data for 1"
    status = latency(ctx)
    assert status.latest.value == 240 and status.latest.source == "prometheus" and not status.stale
    with ctx.reading() as session:
        row = repo.all_health(session, TEAM)["prometheus"]
        assert row.last_stored == 1 and row.last_error is None and row.next_run_at is not None
        assert kpis.status(ctx, session, TEAM, ctx.catalog.get("requests_per_second")).latest is None

    answers(api, Reply({"error": "denied"}, 401), Reply(vector("1")))
    later = runner.next_run(ctx, "prometheus")
    ctx.clock = lambda: later  # the next period
    (outcome,) = job.run_now("collect_prometheus", TEAM)
    assert outcome.result == "failed: /api/v1/query: the credentials were refused (401)"
    status = latency(ctx)
    assert status.latest.value == 240 and status.stale  # the last good value, shown as stale
    with ctx.reading() as session:
        note = health.stale_note(session, TEAM, status, ctx.now())
        assert "Prometheus* failed just now: /api/v1/query: the credentials were refused (401)" in note
        assert len(list(kpis.series_since(session, TEAM, "api_response_time_p95", ctx.now().replace(year=2000)))) == 1


def test_a_second_run_in_the_same_period_does_not_ask_again(collecting, api):
    answers(api, Reply(vector("240")), Reply(vector("5")))
    job = JobRunner(collecting)
    job.run_now("collect_prometheus", TEAM)
    asked = len(api.calls())
    assert [o.result for o in job.run_now("collect_prometheus", TEAM)] == ["already ran"]
    assert len(api.calls()) == asked


def test_unknown_kpi_in_sources_is_refused_with_the_field(settings, tmp_path):
    path = tmp_path / "team.yml"
    path.write_text(yaml.safe_dump({"sources": {"script": [{"kpi": "dependancy_conflicts", "command": "true"}]}}))
    with pytest.raises(SettingsError, match=r"team.yml: sources.script.0.kpi: unknown KPI 'dependancy_conflicts'; "
                                            r"did you mean dependency_conflicts"):
        build_context(settings.model_copy(update={"aurum_config": path}))


def test_sources_overview_blocks(collecting, api):
    answers(api, Reply({"error": "x"}, 404), Reply(vector("1")))
    JobRunner(collecting).run_now("collect_prometheus", TEAM)
    with collecting.reading() as session:
        states = health.states(collecting, session, TEAM)
    message = health.overview(states, collecting.now(), collecting.tz)
    for block in message:
        assert Block.parse(block).to_dict() == block
    text = str(message)
    assert "🔴 *Prometheus* `*/5 * * * *`" in text and "never succeeded yet" in text and "not found (404)" in text
    assert "next run" in text and "GitHub (`github`)" in text


def test_kpi_sources_command_answers_privately(runtime, server, slack, fake_slack):
    slack.command("/kpi", "sources", user="U9")
    reply = fake_slack.wait_for(is_reply, timeout=15)[0].params
    assert reply["user"] == "U9"
    assert "No source is configured yet." in str(reply["blocks"])


def test_cli_collect_dry_run_then_for_real(collecting, settings, config_file, api):
    answers(api, Reply(vector("231.5")), Reply(vector("12")))
    env = {"DATABASE_URL": settings.database_url, "AURUM_CONFIG": str(config_file), "SLACK_BOT_TOKEN": ""}
    cli_runner = CliRunner()
    dry = cli_runner.invoke(cli.app, ["collect", "prometheus", "--dry-run", "--team", TEAM], env=env)
    assert dry.exit_code == 0, dry.output
    assert "prometheus: api_response_time_p95 = 231.5 at" in dry.output and "would store 2 values" in dry.output
    assert latency(collecting).latest is None
    real = cli_runner.invoke(cli.app, ["collect", "--team", TEAM], env=env)
    assert "✓ prometheus: stored 2 values" in real.output
    assert latency(collecting).latest.value == 231.5
    bad = cli_runner.invoke(cli.app, ["collect", "jira", "--team", TEAM], env=env)
    assert bad.exit_code == 1 and "✗ jira: not configured" in bad.output
    assert not math.isnan(latency(collecting).latest.value)


@pytest.fixture
def every_kpi(settings, tmp_path, api):
    """Prometheus, asked for the KPIs of ask(keys) (each query is the KPI's key); the fake answers `values`, else an
    empty vector (no data)."""
    path = tmp_path / "every.yml"
    path.write_text(yaml.safe_dump({"sources": {"prometheus": {"url": api.url, "defaults": False}}}))
    ctx = build_context(settings.model_copy(update={"aurum_config": path}))
    values: dict[str, str] = {}
    empty = {"status": "success", "data": {"resultType": "vector", "result": []}}
    api.on("POST", "/api/v1/query", lambda r: Reply(vector(values[q]) if (q := r.form()["query"][0]) in values
                                                    else empty))

    def ask(keys) -> None:
        prometheus = ctx.config.sources.prometheus.model_copy(update={"queries": {k: k for k in keys}})
        ctx.config = ctx.config.model_copy(update={"sources": ctx.config.sources.model_copy(
            update={"prometheus": prometheus})})

    ask(kpi.key for kpi in KPIS)
    yield ctx, values, ask
    ctx.engine.dispose()


def _stored(ctx, key: str) -> list[float]:
    with ctx.reading() as session:
        return [v for _at, v in kpis.series_since(session, TEAM, key, ctx.now().replace(year=2000))]


def _collect(ctx) -> str:
    """What the scheduled job does, without its once-per-minute claim."""
    try:
        fetched = runner.fetch(ctx, "prometheus")
    except CollectorError as exc:
        with ctx.transaction() as session:
            runner.record_failure(ctx, session, TEAM, exc)
        return runner.outcome(exc)
    with ctx.transaction() as session:
        return runner.outcome(fetched, runner.save(ctx, session, TEAM, "prometheus", fetched))


@HTTP
@given(entry=entries())
def test_a_source_answering_an_impossible_value_is_a_source_error_and_stores_nothing(every_kpi, entry):
    ctx, values, ask = every_kpi
    kpi, value, good = entry
    before = _stored(ctx, kpi.key)
    ask([kpi.key, "requests_per_second" if kpi.key != "requests_per_second" else "cpu_usage_percentage"])  # + no data
    values.clear()
    values[kpi.key] = repr(value)
    outcome = _collect(ctx)
    with ctx.reading() as session:
        row = repo.all_health(session, TEAM)["prometheus"]
    if good:
        assert outcome.startswith("stored 1 values"), outcome
        assert _stored(ctx, kpi.key) == [*before, value]
    else:  # the source's error, in words for /kpi sources
        assert outcome.startswith("stored 0 values"), outcome
        assert f"errors: impossible value: {kpi.name} (`{kpi.key}`) cannot be" in outcome
        assert row.last_error_at is not None and f"(`{kpi.key}`) cannot be" in row.last_error
        assert _stored(ctx, kpi.key) == before


def test_a_source_whose_only_answer_is_impossible_failed(every_kpi, api):
    ctx, _values, _ask = every_kpi
    api.on("POST", "/api/v1/query", Reply(vector("-1")))  # every query: nothing but impossible values
    outcome = _collect(ctx)
    assert outcome.startswith("failed: impossible value: "), outcome
    with ctx.reading() as session:
        assert repo.failing(repo.all_health(session, TEAM)["prometheus"])
    assert all(_stored(ctx, kpi.key) == [] for kpi in KPIS)


def test_an_impossible_value_beside_good_ones_keeps_the_last_good_value_and_shows_in_sources(every_kpi):
    ctx, values, _ask = every_kpi
    values.update(api_response_time_p95="240", test_coverage_percentage="81")
    assert _collect(ctx) == f"stored 2 values, no data for {len(KPIS) - 2}"
    values.update(api_response_time_p95="-5", test_coverage_percentage="182", requests_per_second="12")
    outcome = _collect(ctx)
    assert outcome.startswith(f"stored 1 values, no data for {len(KPIS) - 3}, errors: impossible value: API p95 "
                              "response time")
    assert _stored(ctx, "api_response_time_p95") == [240] and _stored(ctx, "test_coverage_percentage") == [81]
    with ctx.reading() as session:
        states = health.states(ctx, session, TEAM)
        assert kpis.status(ctx, session, TEAM, ctx.catalog.get("api_response_time_p95")).latest.value == 240
    text = str(health.overview(states, ctx.now(), ctx.tz))
    assert "last error just now: impossible value: API p95 response time (`api_response_time_p95`) cannot be -5" \
        in text and "Code coverage (`test_coverage_percentage`) cannot be 182" in text


def test_a_source_of_a_team_stores_for_that_team_and_a_jira_sprint_for_its_boards_team(ctx):
    from datetime import timedelta

    from aurum.collectors.base import Collected, SprintRecord
    from aurum.config import parse_config
    from aurum.squads import teams
    from storage.rollups import SnapshotBase
    from storage.sprints import Sprint

    ctx.config = parse_config({
        "teams": {"payments": {"members": {"channel": "#payments"}, "sprint_board": "7"},
                  "platform": {"members": {"channel": "#platform"}, "sprint_board": "9"}},
        "sources": {"prometheus": {"url": "http://prometheus.invalid", "team": "platform"}}})
    now = ctx.now()
    sprint = {"name": "Sprint Otter", "state": "closed", "start_at": now - timedelta(days=14), "end_at": now,
              "complete_at": now, "committed": 30.0, "completed": 28.0}
    collected = Collected(points=[SnapshotBase(kpi="api_response_time_p95", value=456.0, at=now, source="prometheus")],
                          sprints=[SprintRecord(board="7", sprint_id="1", **sprint),
                                   SprintRecord(board="11", sprint_id="2", **sprint)])
    with ctx.transaction() as session:
        assert runner.save(ctx, session, TEAM, "prometheus", collected) == 1
    platform = teams.scope(ctx, teams.by_key(ctx.config, "platform"))
    latency = ctx.catalog.get("api_response_time_p95")
    with ctx.reading() as session:
        assert kpis.status(platform, session, TEAM, latency).latest.value == 456.0
        assert kpis.status(ctx, session, TEAM, latency).latest is None  # not the default team's (payments)
        boards = {(s.board, s.squad) for s in session.scalars(select(Sprint))}
    assert boards == {("7", ""), ("11", "platform")}  # board 7 is payments' (the default team); 11 nobody's


def test_a_source_naming_a_team_there_is_not_is_refused():
    from aurum.config import ConfigError, parse_config

    with pytest.raises(ConfigError) as error:
        parse_config({"teams": {"payments": {"members": {"channel": "#payments"}}},
                      "sources": {"prometheus": {"url": "http://prometheus.invalid", "team": "paymnts"}}})
    assert "sources.prometheus.team: unknown team 'paymnts'; did you mean 'payments'? Teams: payments" in str(
        error.value)
