"""Every recognition post goes to the channel the config names, and the reply names that channel: `/kudos` (awards
and team achievements) to `reports.recognition_channel`, the bot's own celebrations to `reports.celebrations_channel`.
Through the real HTTP endpoint and the fake Slack Web API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aurum.core import ingest
from bot.compose import build_web
from bot.web import create_web_app
from storage.rollups import SnapshotBase
from tests.blockkit import text_of
from tests.support import SlackSender, is_reply, running


@pytest.fixture
def configured(settings, tmp_path, fake_slack):
    config = tmp_path / "team.yml"
    config.write_text('reports:\n  recognition_channel: "#kudos"\n  celebrations_channel: "#wins"\n',
                      encoding="utf-8")
    runtime = build_web(settings.model_copy(update={"aurum_config": config}), work_process=False)
    channels = {name: fake_slack.add_channel(name) for name in ("#kudos", "#wins", "#engineering")}
    with running(create_web_app(runtime)) as server:
        sender = SlackSender(server.url, team_id=fake_slack.team_id, fake=fake_slack)
        yield runtime, sender, channels
        sender.close()
    runtime.shutdown()


def test_a_team_achievement_by_hand_goes_to_the_recognition_channel_the_reply_names(configured, fake_slack):
    _, slack, channels = configured
    slack.command("/kudos", "team customer-impact NPS up 12 points after the export fix", user="U1ANA")
    (post,) = fake_slack.wait_for("chat.postMessage")
    assert post.params["channel"] == channels["#kudos"]
    assert "NPS up 12 points" in text_of(post.params["blocks"])
    (reply,) = fake_slack.wait_for(is_reply)
    assert reply.params["text"] == "🎉 Customer Impact shared in #kudos."


def test_an_award_goes_to_the_recognition_channel_the_reply_names(configured, fake_slack):
    _, slack, channels = configured
    slack.command("/kudos", "<@U2BOB> mentorship pairing on the DAO layer", user="U1ANA")
    (post,) = fake_slack.wait_for("chat.postMessage")
    assert post.params["channel"] == channels["#kudos"]
    (reply,) = fake_slack.wait_for(is_reply)
    assert reply.params["text"].startswith("🏆 Kudos sent — shared in #kudos (1 of 5 today)")


def test_a_kpi_milestone_goes_to_the_celebrations_channel(configured, fake_slack):
    runtime, _, channels = configured
    ctx = runtime.ctx
    for hours, value in ((2, 79.0), (1, 81.0)):
        with ctx.transaction() as session:
            ingest.store(ctx, session, fake_slack.team_id, [SnapshotBase(
                kpi="test_coverage_percentage", value=value, at=ctx.now() - timedelta(hours=hours), source="ci")])
    (post,) = fake_slack.wait_for("chat.postMessage")
    assert post.params["channel"] == channels["#wins"]
    assert "Code coverage reached its target" in post.params["text"]
