"""One Slack message per alert episode, through the outbox and the fake Slack Web API."""

from __future__ import annotations

import pytest

from aurum.alerts import actions
from tests.alerts.support import ALERT_CHANNELS, TEAM, deliver, record, tick, valid_blocks
from tests.support import chart_alt_texts

ERRORS = "api_error_rate_percentage"


@pytest.fixture
def alerting(runtime, fake_slack, clock):
    runtime.ctx.clock = clock
    for name in ALERT_CHANNELS:
        fake_slack.add_channel(name)
    return runtime


def _posts(fake_slack, channel="#critical-alerts"):
    cid = fake_slack.channel_id(channel)
    return [c for c in fake_slack.calls_to("chat.postMessage", failed=False) if c.params["channel"] == cid]


def _top_level(fake_slack, channel="#critical-alerts"):
    return [m for m in fake_slack.messages(fake_slack.channel_id(channel)) if not m.get("thread_ts")]


def _replies(fake_slack, channel="#critical-alerts"):
    return [m for m in fake_slack.messages(fake_slack.channel_id(channel)) if m.get("thread_ts")]


def _text(message) -> str:
    return message["text"] + " " + str(message.get("blocks"))


def test_one_firing_gives_exactly_one_message_and_value_changes_update_it(alerting, fake_slack, clock):
    ctx = alerting.ctx
    record(ctx, ERRORS, 0.4)
    deliver(alerting)
    assert not fake_slack.calls_to("chat.postMessage")  # below the threshold: nothing

    clock.advance(minutes=1)
    record(ctx, ERRORS, 2.5)
    deliver(alerting)
    (message,) = _top_level(fake_slack)
    assert "Critical · ApiErrorRateHigh" in _text(message) and "2.5%" in _text(message) and ">1%" in _text(message)
    valid_blocks(message["blocks"])
    assert [b["type"] for b in message["blocks"]][-1] == "actions"
    chart = next(iter(fake_slack.files.values()))
    assert chart.bytes.startswith(b"\x89PNG") and chart.thread_ts == message["ts"]
    ((_name, alt),) = chart_alt_texts(fake_slack)
    assert ctx.catalog.get(ERRORS).name in alt and "latest 2.5%" in alt and "threshold >1%" in alt

    for value in (2.5, 3.75, 3.75):
        clock.advance(minutes=1)
        record(ctx, ERRORS, value)
        tick(ctx)
        deliver(alerting)
    (message,) = _top_level(fake_slack)
    assert "3.75%" in _text(message)
    assert len(_posts(fake_slack)) == 1  # the episode's one message (the chart is a file in its thread)
    assert len(fake_slack.calls_to("chat.update")) == 1  # 2.5 → 3.75 once; the repeats changed nothing


def test_resolution_edits_the_message_and_replies_in_its_thread(alerting, fake_slack, clock):
    ctx = alerting.ctx
    record(ctx, ERRORS, 2.0)
    deliver(alerting)
    clock.advance(minutes=12)
    record(ctx, ERRORS, 0.3)
    deliver(alerting)
    (message,) = _top_level(fake_slack)
    assert "Resolved · ApiErrorRateHigh" in _text(message) and "after 12 min" in _text(message)
    assert "Acknowledge" not in _text(message)
    valid_blocks(message["blocks"])
    (reply,) = [r for r in _replies(fake_slack) if not r.get("files")]
    assert reply["thread_ts"] == message["ts"] and reply["text"].startswith("✅ Resolved after 12 min")
    assert len(_posts(fake_slack)) == 2  # the message and its thread reply


def test_acknowledge_stops_the_reminders(alerting, fake_slack, clock):
    ctx = alerting.ctx
    record(ctx, ERRORS, 2.0)
    deliver(alerting)
    clock.advance(hours=3, minutes=59)
    record(ctx, ERRORS, 2.0)  # still bad (the collector keeps sending)
    deliver(alerting)
    assert not [r for r in _replies(fake_slack) if "Still firing" in r["text"]]
    clock.advance(minutes=1)
    record(ctx, ERRORS, 2.0)
    tick(ctx)
    deliver(alerting)
    (reminder,) = [r for r in _replies(fake_slack) if "Still firing" in r["text"]]
    assert "after 4 h" in reminder["text"]

    with ctx.transaction() as session:
        episode = actions.acknowledge(ctx, session, TEAM, 1, "U0LEAD")
    assert episode.acked_by == "U0LEAD"
    deliver(alerting)
    assert "Acknowledged by <@U0LEAD>" in _text(_top_level(fake_slack)[0])
    for _ in range(3):
        clock.advance(hours=4)
        record(ctx, ERRORS, 2.0)
        tick(ctx)
        deliver(alerting)
    assert len([r for r in _replies(fake_slack) if "Still firing" in r["text"]]) == 1
    assert "Critical · ApiErrorRateHigh" in _text(_top_level(fake_slack)[0])  # still firing, just quiet


def test_reminders_repeat_while_nobody_acknowledges(alerting, fake_slack, clock):
    ctx = alerting.ctx
    record(ctx, ERRORS, 2.0)
    deliver(alerting)
    for _ in range(3):
        clock.advance(hours=4)
        record(ctx, ERRORS, 2.0)
        tick(ctx)
        deliver(alerting)
    reminders = [r for r in _replies(fake_slack) if "Still firing" in r["text"]]
    assert [r["text"].split(":")[0] for r in reminders] == [
        "⏰ Still firing after 4 h", "⏰ Still firing after 8 h", "⏰ Still firing after 12 h"]


def test_snooze_holds_notifications_until_it_ends(alerting, fake_slack, clock):
    ctx = alerting.ctx
    record(ctx, ERRORS, 2.0)
    deliver(alerting)
    with ctx.transaction() as session:
        actions.snooze(ctx, session, TEAM, 1, "U0ONCALL", "1h")
    deliver(alerting)
    assert "Snoozed by <@U0ONCALL>" in _text(_top_level(fake_slack)[0])
    calls_before = len(fake_slack.calls)

    clock.advance(minutes=30)
    record(ctx, ERRORS, 0.2)  # resolves while snoozed: evaluation goes on, Slack hears nothing yet
    deliver(alerting)
    clock.advance(minutes=29)
    tick(ctx)
    deliver(alerting)
    assert len(fake_slack.calls) == calls_before
    assert "Critical · ApiErrorRateHigh" in _text(_top_level(fake_slack)[0])

    clock.advance(minutes=1, seconds=1)
    tick(ctx)
    deliver(alerting)
    (message,) = _top_level(fake_slack)
    assert "Resolved · ApiErrorRateHigh" in _text(message)
    assert [r["text"][:23] for r in _replies(fake_slack) if not r.get("files")] == ["✅ Resolved after 30 min"]


def test_slack_429_on_post_message_delivers_after_the_wait_once(alerting, fake_slack, clock):
    ctx = alerting.ctx
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=3)
    record(ctx, ERRORS, 2.0)
    deliver(alerting)
    assert [c.failed for c in fake_slack.calls_to("chat.postMessage")] == [True]
    clock.advance(seconds=2)
    deliver(alerting)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # still waiting for Retry-After
    clock.advance(seconds=1)
    deliver(alerting)
    assert [c.failed for c in fake_slack.calls_to("chat.postMessage")] == [True, False]
    assert len(_top_level(fake_slack)) == 1


def test_warning_outside_business_hours_waits_for_the_next_business_morning(alerting, fake_slack, clock):
    ctx = alerting.ctx
    clock.advance(days=5, hours=13)  # Saturday 22:30 UTC
    record(ctx, "test_coverage_percentage", 76.0)
    deliver(alerting)
    assert not _top_level(fake_slack, "#quality-alerts")
    clock.advance(days=1, hours=10, minutes=29)  # Monday 08:59
    tick(ctx)
    deliver(alerting)
    assert not _top_level(fake_slack, "#quality-alerts")
    clock.advance(minutes=1)  # Monday 09:00
    tick(ctx)
    deliver(alerting)
    (message,) = _top_level(fake_slack, "#quality-alerts")
    assert "Warning · TestCoverageLow" in _text(message) and "76%" in _text(message)


def test_critical_alerts_do_not_wait_for_business_hours(alerting, fake_slack, clock):
    clock.advance(days=5, hours=13)  # Saturday night
    record(alerting.ctx, "service_availability_percentage", 98.2)
    deliver(alerting)
    (message,) = _top_level(fake_slack)
    assert "ServiceAvailabilityLow" in _text(message) and "98.2%" in _text(message)


def test_silenced_rule_posts_nothing_and_the_silence_end_lets_it_through(alerting, fake_slack, clock):
    ctx = alerting.ctx
    rule = ctx.config.alerts.rules["ApiErrorRateHigh"]
    from datetime import timedelta

    with ctx.transaction() as session:
        actions.silence(ctx, session, TEAM, rule, timedelta(hours=2), "load test", "UADMIN")
    record(ctx, ERRORS, 5.0)
    deliver(alerting)
    assert not _top_level(fake_slack)
    clock.advance(hours=2, seconds=1)
    record(ctx, ERRORS, 5.0)
    tick(ctx)
    deliver(alerting)
    assert len(_top_level(fake_slack)) == 1


def test_a_warning_that_fired_and_resolved_overnight_is_posted_resolved_in_the_morning(alerting, fake_slack, clock):
    ctx = alerting.ctx
    clock.advance(days=1, hours=12)  # Tuesday 21:30 UTC
    record(ctx, "technical_debt_percentage", 14.0)
    clock.advance(hours=2)
    record(ctx, "technical_debt_percentage", 11.0)
    deliver(alerting)
    assert not fake_slack.calls_to("chat.postMessage")
    clock.advance(hours=9, minutes=30)  # Wednesday 09:00
    tick(ctx)
    deliver(alerting)
    (message,) = _top_level(fake_slack, "#tech-debt")
    assert "Resolved · TechnicalDebtHigh" in _text(message) and "after 2 h" in _text(message)
    assert not _replies(fake_slack, "#tech-debt")  # the message tells it all: no thread reply, no chart
    clock.advance(hours=4)
    tick(ctx)
    deliver(alerting)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_when_a_snooze_ends_on_a_firing_alert_the_message_says_so_and_reminders_resume(alerting, fake_slack, clock):
    ctx = alerting.ctx
    record(ctx, ERRORS, 2.0)
    deliver(alerting)
    with ctx.transaction() as session:
        actions.snooze(ctx, session, TEAM, 1, "U0ONCALL", "4h")
    deliver(alerting)
    assert "Snoozed by <@U0ONCALL>" in _text(_top_level(fake_slack)[0])
    clock.advance(hours=4, seconds=1)
    record(ctx, ERRORS, 2.0)
    tick(ctx)
    deliver(alerting)
    (message,) = _top_level(fake_slack)
    assert "Snoozed" not in _text(message) and "Critical · ApiErrorRateHigh" in _text(message)
    assert [r["text"][:28] for r in _replies(fake_slack) if not r.get("files")] == ["⏰ Still firing after 4 h: 2%"]
