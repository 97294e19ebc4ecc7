"""The bot's own observability: request ids in JSON logs, /metrics, /healthz and /readyz."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from aurum.core import outbox
from aurum.core.jobs import JobRunner
from bot.compose import build_web
from bot.logs import JsonFormatter, protect
from bot.runtime import register_workspace
from bot.slack_access import REPEAT_LOG
from bot.web import create_web_app
from tests.support import BOT_TOKEN, free_port, is_reply, running, wait_until


def _samples(url: str) -> dict[tuple[str, frozenset], float]:
    exposition = httpx.get(url + "/metrics").text
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(exposition) for s in family.samples}


def _value(samples, metric: str, **labels: str) -> float | None:
    return samples.get((metric, frozenset(labels.items())))


def test_metrics_count_commands_by_name_and_outcome_with_ack_latency(runtime, server, slack, fake_slack):
    slack.command("/kpi", "record coverage 80")
    slack.command("/kpi", "record coverage lots")  # answered in the ack: an input error
    fake_slack.wait_for(is_reply)
    wait_until(lambda: runtime.ctx.telemetry.value("command_outcomes", command="/kpi", outcome="ok"), 10)
    samples = _samples(server.url)
    assert _value(samples, "aurum_slack_requests_total", kind="command", name="/kpi", status="200") == 2
    assert _value(samples, "aurum_command_outcomes_total", command="/kpi", outcome="ok") == 1
    assert _value(samples, "aurum_command_outcomes_total", command="/kpi", outcome="input_error") == 1
    assert _value(samples, "aurum_slack_ack_seconds_count", kind="command") == 2
    assert _value(samples, "aurum_slack_ack_seconds_bucket", kind="command", le="3.0") == 2
    assert _value(samples, "aurum_outbox_deliveries_total", kind="respond", result="sent") == 1


def test_metrics_show_outbox_depth_dead_letters_job_runs_and_collector_errors(runtime, server, fake_slack):
    with runtime.ctx.transaction() as session:
        outbox.post(session, fake_slack.team_id, "#nowhere", "lost", key="dead-one")
    runtime.worker().drain()
    runner = JobRunner(runtime.ctx)
    runner.run_now("heartbeat", team_id="T0001")
    runner.run_now("heartbeat", team_id="T0001")
    runtime.ctx.telemetry.count("collector_errors", source="github")
    samples = _samples(server.url)
    assert _value(samples, "aurum_outbox_messages", status="dead") == 1
    assert _value(samples, "aurum_outbox_messages", status="pending") == 0
    assert _value(samples, "aurum_job_runs_total", job="heartbeat", result="ran") == 1
    assert _value(samples, "aurum_job_runs_total", job="heartbeat", result="already_ran") == 1
    assert _value(samples, "aurum_collector_errors_total", source="github") == 1


def test_telemetry_refuses_undeclared_counters_and_labels(ctx):
    with pytest.raises(KeyError):
        ctx.telemetry.count("no_such_counter")
    with pytest.raises(ValueError):
        ctx.telemetry.count("job_runs", job="x")


def test_the_clock_process_serves_its_own_metrics(runtime):
    from bot.scheduler import serve_metrics

    port = free_port()
    serve_metrics(runtime, port)
    JobRunner(runtime.ctx).run_now("heartbeat", team_id="T0001")
    samples = _samples(f"http://127.0.0.1:{port}")
    assert _value(samples, "aurum_job_runs_total", job="heartbeat", result="ran") == 1


def test_healthz_and_readyz(runtime, server):
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(server.url + "/readyz")
    assert ready.status_code == 200 and ready.json()["migrations_at_head"] is True
    with runtime.ctx.engine.begin() as conn:  # a database one migration behind
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    behind = httpx.get(server.url + "/readyz")
    assert behind.status_code == 503 and behind.json() == {
        "status": "not ready", "database": True, "migrations_at_head": False, "slack": True,
        "reason": "The database is not at this version's newest migration: run `aurum db upgrade`."}


@pytest.fixture
def captured():
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = protect(Keep(level=logging.DEBUG))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield records
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_every_log_line_of_a_request_carries_its_request_id(runtime, server, slack, fake_slack, captured):
    fake_slack.fail_next("response_url", status=500)  # makes the outbox log a warning
    body = slack.command_body("/kpi", "record coverage 83")
    answer = slack.http.post(slack.url, content=body, headers={**slack.headers(body), "X-Request-Id": "req-abc123"})
    assert answer.headers["x-request-id"] == "req-abc123"
    fake_slack.wait_for(is_reply, count=2)
    in_listener = [r for r in captured if r.threadName.startswith("aurum-requests")]
    assert in_listener and {r.request_id for r in in_listener} == {"req-abc123"}
    fresh = slack.command("/kpi", "help")
    assert len(fresh.headers["x-request-id"]) == 16 and fresh.headers["x-request-id"] != "req-abc123"
    line = json.loads(JsonFormatter().format(in_listener[0]))
    assert line["request_id"] == "req-abc123" and line["level"] and line["logger"]


REFUSED = ("Slack refuses SLACK_BOT_TOKEN: {url}auth.test answered invalid_auth. Set SLACK_BOT_TOKEN to the app's "
           "Bot User OAuth Token (xoxb-…, on the app's OAuth & Permissions page at https://api.slack.com/apps; "
           "reinstall the app if it was revoked).")
UNREACHABLE = ("Slack's Web API cannot be reached at {url}auth.test (URLError: [Errno 111] Connection refused). "
               "Check SLACK_API_URL (unset, it is https://slack.com/api/) and that this machine reaches it (network, "
               "proxy, firewall).")

NOT_CONFIRMED = "Slack did not confirm the bot token (the workspace is not registered; a web process is not ready): "
AGAIN = "The bot asks again, waiting longer each time; this is said again every 15 minutes while it lasts."


def _auth_warnings(records: list[logging.LogRecord]) -> list[str]:
    assert not [r for r in records if r.name.startswith("slack_sdk") and r.levelno >= logging.WARNING]
    return [r.getMessage() for r in records if r.name == "bot.slack_access" and r.levelno >= logging.WARNING]


def test_readyz_is_503_while_slack_refuses_the_token_and_the_log_says_so_once(settings, fake_slack, captured):
    fake_slack.refuse_token(BOT_TOKEN)
    runtime = build_web(settings, work_process=False)
    clock = [1000.0]
    runtime.slack.clock = lambda: clock[0]
    problem = REFUSED.format(url=fake_slack.base_url)
    try:
        with running(create_web_app(runtime)) as server:  # its start-up asked Slack (auth.test) once
            refused = httpx.get(server.url + "/readyz")
            assert refused.status_code == 503
            assert refused.json() == {"status": "not ready", "database": True, "migrations_at_head": True,
                                      "slack": False, "reason": problem}
            for _ in range(3):  # the retries, sooner than REPEAT_LOG
                assert register_workspace(runtime) is None
            assert len(fake_slack.calls_to("auth.test")) >= 4
            warnings = _auth_warnings(captured)
            assert warnings == [f"{NOT_CONFIRMED}{problem} {AGAIN}"]
            clock[0] += REPEAT_LOG
            register_workspace(runtime)
            assert len(_auth_warnings(captured)) == 2  # still refused a quarter of an hour later: said again

            fake_slack.refuse_token(BOT_TOKEN, None)  # the token is fixed
            assert register_workspace(runtime) == fake_slack.team_id
            ready = httpx.get(server.url + "/readyz")
            assert ready.status_code == 200 and ready.json() == {"status": "ready", "database": True,
                                                                 "migrations_at_head": True, "slack": True}
    finally:
        runtime.shutdown()


def test_readyz_is_503_while_slack_cannot_be_reached_naming_the_url(settings, captured):
    url = f"http://127.0.0.1:{free_port()}/api/"  # nobody listens there
    runtime = build_web(settings.model_copy(update={"slack_api_url": url}), work_process=False)
    try:
        with running(create_web_app(runtime)) as server:
            answer = httpx.get(server.url + "/readyz")
            assert answer.status_code == 503
            assert answer.json()["slack"] is False and answer.json()["reason"] == UNREACHABLE.format(url=url)
            assert register_workspace(runtime) is None
    finally:
        runtime.shutdown()
    assert _auth_warnings(captured) == [f"{NOT_CONFIRMED}{UNREACHABLE.format(url=url)} {AGAIN}"]


def test_survey_commands_count_their_refusals_and_input_errors(runtime, server, slack, fake_slack):
    slack.command("/survey", "answer 42")  # refused in the ack: out of range
    slack.command("/survey", "export")  # refused after it: only admins export
    fake_slack.wait_for(is_reply)
    wait_until(lambda: runtime.ctx.telemetry.value("command_outcomes", command="/survey", outcome="refused"), 10)
    assert runtime.ctx.telemetry.value("command_outcomes", command="/survey", outcome="input_error") == 1
    assert runtime.ctx.telemetry.value("command_outcomes", command="/survey", outcome="refused") == 1
