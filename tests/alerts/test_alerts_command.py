"""`/alerts` and the alert buttons through the real HTTP endpoint, with signed Slack requests."""

from __future__ import annotations

import json
import uuid

import pytest
from slack_sdk.models.blocks import Block
from sqlmodel import select

from aurum.kpis import service as kpis
from commands.alerts import BUTTONS
from storage.alerts import AlertSilence
from tests.alerts.support import ALERT_CHANNELS, TEAM, record, valid_blocks
from tests.support import is_reply

ERRORS = "api_error_rate_percentage"


@pytest.fixture
def firing(runtime, server, fake_slack):
    """ApiErrorRateHigh firing, its message delivered by the server's own workers."""
    for name in ALERT_CHANNELS:
        fake_slack.add_channel(name)
    record(runtime.ctx, ERRORS, 2.0)
    message = fake_slack.wait_for(lambda c: c.method == "chat.postMessage" and not c.params.get("thread_ts"))[0]
    # The chart is rendered by the alert task worker; let it finish before the test can end and stop the workers.
    fake_slack.wait_for("files.completeUploadExternal", timeout=30)
    return message


def press(slack, fake_slack, action_id: str, value: str, user: str = "U0ONCALL") -> None:
    cid = fake_slack.channel_id("#critical-alerts")
    response = slack.interaction({
        "type": "block_actions", "user": {"id": user, "team_id": TEAM}, "api_app_id": "A0001", "token": "legacy",
        "trigger_id": f"trigger.{uuid.uuid4().hex}", "channel": {"id": cid, "name": "critical-alerts"},
        "container": {"type": "message", "channel_id": cid, "message_ts": "1.0"},
        "response_url": "https://hooks.slack.invalid/actions/1",
        "actions": [{"type": "button", "action_id": action_id, "block_id": "alert_actions_1", "value": value,
                     "action_ts": "1.1"}],
    })
    assert response.status_code == 200


def test_acknowledge_button_records_who_and_shows_it(firing, slack, fake_slack):
    buttons = [e["action_id"] for b in firing.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["alert_ack", "alert_snooze_1h", "alert_snooze_4h", "alert_snooze_1d", "alert_useful",
                       "alert_noise"]
    assert all(BUTTONS.match(b) for b in buttons)
    press(slack, fake_slack, "alert_ack", "1")
    (update,) = fake_slack.wait_for("chat.update")
    assert "Acknowledged by <@U0ONCALL>" in json.dumps(update.params["blocks"])
    assert "alert_ack" not in json.dumps(update.params["blocks"])
    valid_blocks(update.params["blocks"])


def test_snooze_button_shows_until_when(firing, slack, fake_slack):
    press(slack, fake_slack, "alert_snooze_4h", "1:4h")
    (update,) = fake_slack.wait_for("chat.update")
    assert "Snoozed by <@U0ONCALL> until" in json.dumps(update.params["blocks"])


def test_feedback_buttons_feed_the_alert_accuracy_kpi(firing, runtime, slack, fake_slack):
    press(slack, fake_slack, "alert_useful", "1", user="U1")
    (thanks,) = fake_slack.wait_for(is_reply)
    assert "noted as useful" in thanks.params["text"] and "100% useful" in thanks.params["text"]
    press(slack, fake_slack, "alert_noise", "1", user="U2")  # the latest verdict on an episode counts
    fake_slack.wait_for(is_reply, count=2)
    with runtime.ctx.reading() as session:
        status = kpis.status(runtime.ctx, session, TEAM, runtime.ctx.catalog.get("alert_accuracy_percentage"))
    assert status.latest.value == 0.0 and status.latest.source == "alert_feedback"


def test_alerts_lists_what_is_firing(firing, slack, fake_slack):
    slack.command("/alerts", "")
    (reply,) = fake_slack.wait_for(is_reply)
    assert "ApiErrorRateHigh" in json.dumps(reply.params["blocks"]) and "firing" in json.dumps(reply.params["blocks"])
    valid_blocks(reply.params["blocks"])


def test_alerts_rules_shows_every_rule_with_its_state(firing, slack, fake_slack):
    slack.command("/alerts", "rules")
    (reply,) = fake_slack.wait_for(is_reply)
    text = json.dumps(reply.params["blocks"], ensure_ascii=False)
    for name in ("ApiErrorRateHigh", "ServiceAvailabilityLow", "DeploymentFailed", "ApiLatencyHigh",
                 "TestCoverageLow", "TechnicalDebtHigh"):
        assert name in text
    assert "api_response_time_p95 &gt; 300" in text and "for 10 min" in text and "#performance-alerts" in text
    assert "*firing*" in text
    valid_blocks(reply.params["blocks"])


def test_alerts_history_of_a_kpi(firing, runtime, slack, fake_slack):
    slack.command("/alerts", "history errors")
    (reply,) = fake_slack.wait_for(is_reply)
    text = json.dumps(reply.params["blocks"], ensure_ascii=False)
    assert "ApiErrorRateHigh" in text and "still firing" in text and "Alert accuracy" in text
    valid_blocks(reply.params["blocks"])


def test_silence_is_for_admins_only(server, slack, fake_slack, runtime):
    slack.command("/alerts", "silence ApiLatencyHigh 2h load test", user="U0SOMEONE")
    (refusal,) = fake_slack.wait_for(is_reply)
    assert refusal.params["text"].startswith("Only admins can silence alerts")
    with runtime.ctx.reading() as session:
        assert session.exec(select(AlertSilence)).all() == []


def test_admin_silences_a_rule_and_the_channel_is_told(server, slack, fake_slack):
    cid = fake_slack.add_channel("#performance-alerts")
    slack.command("/alerts", "silence apilatencyhigh 2h load test", user="UADMIN")
    (note,) = fake_slack.wait_for("chat.postMessage")
    assert note.params["channel"] == cid
    assert note.params["text"].startswith("🔕 <@UADMIN> silenced *ApiLatencyHigh* until") and "load test" in \
        note.params["text"]
    (confirm,) = fake_slack.wait_for(is_reply)
    assert "silenced until" in confirm.params["text"]


def test_test_notification_goes_to_the_rules_channel(server, slack, fake_slack):
    cid = fake_slack.add_channel("#performance-alerts")
    slack.command("/alerts", "test ApiLatencyHigh")
    (posted,) = fake_slack.wait_for("chat.postMessage")
    assert posted.params["channel"] == cid and posted.params["text"].startswith("🧪 Test:")
    assert "nobody was paged" in json.dumps(posted.params["blocks"])
    valid_blocks(posted.params["blocks"])


@pytest.mark.parametrize(("text", "expected"), [
    ("silence Nope 2h", "Unknown alert rule 'Nope'"),
    ("silence ApiLatencyHigh soon", "duration 'soon' is not of the form"),
    ("launch", "I don't understand 'launch'"),
    ("test", "I don't understand 'test'"),
])
def test_bad_input_is_answered_in_the_ack(server, slack, text, expected):
    body = slack.command("/alerts", text, user="UADMIN").json()
    assert expected in body["text"]


def test_usage_blocks_are_valid():
    from commands.alerts import USAGE

    Block.parse({"type": "section", "text": {"type": "mrkdwn", "text": USAGE}}).to_dict()


def test_a_slack_workspace_admin_may_silence_without_being_configured(server, slack, fake_slack, runtime):
    fake_slack.add_channel("#performance-alerts")
    fake_slack.set_user("U0WSADMIN", is_admin=True)
    slack.command("/alerts", "silence ApiLatencyHigh 2h load test", user="U0WSADMIN")
    fake_slack.wait_for("chat.postMessage")
    with runtime.ctx.reading() as session:
        assert [s.rule for s in session.exec(select(AlertSilence)).all()] == ["ApiLatencyHigh"]
