"""Escalation to a local PagerDuty Events API stand-in and a local SMTP server; failures never hold back Slack."""

from __future__ import annotations

import pytest
from prometheus_client import generate_latest
from typer.testing import CliRunner

from aurum.alerts import actions
from bot.cli import app as cli
from bot.metrics import BotMetrics
from storage import queue
from tests.alerts.conftest import ROUTING_KEY
from tests.alerts.support import ALERT_CHANNELS, TEAM, deliver, record, use_config

ERRORS = "api_error_rate_percentage"


@pytest.fixture
def alerting(runtime, fake_slack, clock):
    runtime.ctx.clock = clock
    for name in ALERT_CHANNELS:
        fake_slack.add_channel(name)
    return runtime


def test_pagerduty_gets_trigger_then_resolve_with_one_dedup_key(alerting, pagerduty, clock):
    ctx = alerting.ctx
    record(ctx, ERRORS, 3.0)
    deliver(alerting)
    clock.advance(minutes=5)
    record(ctx, ERRORS, 0.1)
    deliver(alerting)
    assert [e["event_action"] for e in pagerduty.events] == ["trigger", "resolve"]
    assert {e["dedup_key"] for e in pagerduty.events} == {pagerduty.events[0]["dedup_key"]}
    assert all(e["routing_key"] == ROUTING_KEY for e in pagerduty.events)
    trigger = pagerduty.events[0]["payload"]
    assert trigger["severity"] == "critical" and trigger["source"] == "aurum"
    assert trigger["summary"] == "API error rate is 3%, above 1%"
    assert trigger["custom_details"]["value"] == 3.0


def test_acknowledging_in_slack_acknowledges_the_pagerduty_incident(alerting, pagerduty):
    ctx = alerting.ctx
    record(ctx, ERRORS, 3.0)
    deliver(alerting)
    with ctx.transaction() as session:
        actions.acknowledge(ctx, session, TEAM, 1, "U0ONCALL")
    deliver(alerting)
    assert [e["event_action"] for e in pagerduty.events] == ["trigger", "acknowledge"]


def test_pagerduty_outage_is_retried_and_never_holds_back_the_slack_message(alerting, pagerduty, fake_slack, clock):
    ctx = alerting.ctx
    pagerduty.failures = [500, 503]
    record(ctx, ERRORS, 3.0)
    deliver(alerting)
    assert len(fake_slack.calls_to("chat.postMessage", failed=False)) == 1  # Slack got it already
    assert pagerduty.events == []
    with ctx.reading() as session:
        (task,) = queue.listing(session, kinds=["pagerduty"])
    assert task.status == "pending" and "500" in (task.last_error or "")
    for _ in range(3):
        clock.advance(minutes=1)
        deliver(alerting)
    assert [e["event_action"] for e in pagerduty.events] == ["trigger"]
    with ctx.reading() as session:
        (task,) = queue.listing(session, kinds=["pagerduty"])
    assert task.status == "done" and task.attempts == 3


def test_deployment_failure_posts_in_deployments_and_emails_the_engineering_leads(alerting, mailbox, fake_slack,
                                                                                  pagerduty):
    ctx = alerting.ctx
    use_config(ctx, {"alerts": {"engineering_leads": ["lead@example.com", "cto@example.com"]}})
    box, _port = mailbox
    record(ctx, "deployment_failures", 1)
    deliver(alerting)
    (message,) = [m for m in fake_slack.messages(fake_slack.channel_id("#deployments")) if not m.get("thread_ts")]
    assert "DeploymentFailed" in message["text"]
    (mail,) = box.messages
    recipients, content = mail
    assert recipients == ["lead@example.com", "cto@example.com"]
    assert "Subject: [CRITICAL] DeploymentFailed: The latest production deployment failed" in content
    assert pagerduty.events == []  # this rule asks for e-mail only


def test_unconfigured_pagerduty_marks_the_task_dead_and_says_why(alerting, settings, fake_slack):
    alerting.settings.pagerduty_routing_key = None
    record(alerting.ctx, ERRORS, 3.0)
    deliver(alerting)
    with alerting.ctx.reading() as session:
        (task,) = queue.listing(session, kinds=["pagerduty"])
    assert task.status == "dead" and task.last_error == "PAGERDUTY_ROUTING_KEY is not set"
    assert len(fake_slack.calls_to("chat.postMessage", failed=False)) == 1


def test_failed_escalations_are_listed_by_the_cli_and_counted_on_metrics(alerting, pagerduty, fake_slack, clock,
                                                                         settings, monkeypatch):
    ctx = alerting.ctx
    pagerduty.failures = [503, 400]  # an outage (retried), then a refusal (dead: PagerDuty will never take it)
    record(ctx, ERRORS, 3.0)
    deliver(alerting)
    clock.advance(minutes=1)
    deliver(alerting)
    assert pagerduty.events == []
    assert len(fake_slack.calls_to("chat.postMessage", failed=False)) == 1
    with ctx.reading() as session:
        (task,) = queue.listing(session, kinds=["pagerduty"])
    assert task.status == "dead" and task.attempts == 2

    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    listing = CliRunner().invoke(cli, ["outbox"])
    assert listing.exit_code == 0, listing.output
    (summary,) = [line for line in listing.output.splitlines() if line.startswith("Other tasks")]
    assert "dead: 1" in summary
    (row,) = [line for line in listing.output.splitlines() if line.startswith("task #")]
    assert row.split()[:5] == ["task", f"#{task.id}", "dead", "pagerduty", "pd:1:trigger"]
    assert "refused the event (400)" in row
    dead_only = CliRunner().invoke(cli, ["outbox", "--status", "dead"])
    assert [line.split()[:3] for line in dead_only.output.splitlines() if line.startswith("task #")] == [
        ["task", f"#{task.id}", "dead"]]

    exposition = generate_latest(BotMetrics(ctx).registry).decode()
    assert 'aurum_alert_tasks_total{kind="pagerduty",result="retry"} 1.0' in exposition
    assert 'aurum_alert_tasks_total{kind="pagerduty",result="dead"} 1.0' in exposition
    assert 'aurum_alert_tasks{status="dead"} 1.0' in exposition
