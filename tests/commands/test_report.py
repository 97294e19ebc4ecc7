"""`/blocker`, `/sprint`, `/report`, `/roadmap` and the App Home through the real HTTP endpoint."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aurum import demo
from tests.blockkit import assert_valid_blocks, assert_valid_view, text_of
from tests.support import chart_alt_texts, is_reply


@pytest.fixture
def settings(settings, tmp_path):
    config = tmp_path / "team.yml"
    config.write_text("reports:\n  scrum_masters: [U0SM1, U0SM2]\n", encoding="utf-8")
    settings.aurum_config = config
    return settings


def load_demo(runtime, team_id: str) -> None:
    with runtime.ctx.transaction() as session:
        demo.load(session, runtime.ctx.catalog, team_id, runtime.ctx.now() - timedelta(days=2))


BUILD = 30  # seconds to wait for a report: charts and queries on a busy CI machine


def ephemeral_with(fake_slack, words: str):
    return fake_slack.wait_for(lambda c: is_reply(c) and words in c.params["text"],
                               timeout=BUILD)[0].params


def test_blocker_add_list_done(server, slack, fake_slack):
    slack.command("/blocker", "add Trino pool exhausted, assigned to <@U0JOHN|john>", user="U1")
    added = ephemeral_with(fake_slack, "Blocker #")
    assert "assigned to <@U0JOHN>" in added["text"]
    slack.command("/blocker", "list", user="U2")
    listed = ephemeral_with(fake_slack, "Open blockers")
    assert "#1 Trino pool exhausted" in listed["text"]
    slack.command("/blocker", "done 1", user="U2")
    assert "resolved" in ephemeral_with(fake_slack, "✅ Blocker #1")["text"]
    slack.command("/blocker", "done 1", user="U2")
    assert "No open blocker #1" in ephemeral_with(fake_slack, "No open blocker")["text"]
    assert "Which one?" in slack.command("/blocker", "done x").json()["text"]


def test_sprint_end_posts_the_retrospective_to_the_channel_and_each_scrum_master(runtime, server, slack, fake_slack):
    channel = fake_slack.add_channel("#scrum-masters")
    slack.command("/sprint", "start Sprint 24 50", user="U0SM1")
    ephemeral_with(fake_slack, "Sprint 24 started, 50 points committed")
    slack.command("/sprint", "start Sprint 25", user="U0SM1")
    assert "Sprint 24' is still active" in ephemeral_with(fake_slack, "still active")["text"]
    slack.command("/sprint", "progress 30", user="U0SM1")
    ephemeral_with(fake_slack, "30 points done")
    slack.command("/sprint", "end 46", user="U0SM1")
    posts = fake_slack.wait_for("chat.postMessage", count=3, timeout=BUILD)
    by_channel = {p.params["channel"]: p.params for p in posts}
    assert set(by_channel) == {channel, "DU0SM1", "DU0SM2"}
    text = text_of(by_channel[channel]["blocks"])
    assert "*Committed vs completed*: 46/50 points (92%)" in text and "*Carry-over*: 4 points" in text
    assert "inside the 40–60 target" in text
    assert_valid_blocks(by_channel[channel]["blocks"])
    fake_slack.wait_for("files.completeUploadExternal", timeout=BUILD)
    (chart,) = fake_slack.files.values()
    assert chart.bytes.startswith(b"\x89PNG") and chart.channel == channel
    ((_name, alt),) = chart_alt_texts(fake_slack)
    assert alt.startswith("Bar chart, Committed vs completed, last sprints: velocity") and "target 40-60" in alt
    slack.command("/report", "sprint", user="U1")
    assert "already posted" in ephemeral_with(fake_slack, "already posted")["text"]
    assert len(fake_slack.calls_to("chat.postMessage")) == 3


def test_report_preview_goes_only_to_the_asker(runtime, server, slack, fake_slack):
    load_demo(runtime, fake_slack.team_id)
    slack.command("/report", "weekly preview", user="U7", channel="C0HERE")
    preview = fake_slack.wait_for(is_reply, timeout=BUILD)[0].params
    assert preview["user"] == "U7" and preview["channel"] == "C0HERE"
    assert "Team weekly status" in text_of(preview["blocks"])
    assert_valid_blocks(preview["blocks"])
    fake_slack.wait_for("files.completeUploadExternal", timeout=BUILD)
    (chart,) = fake_slack.files.values()
    assert chart.channel == "DU7" and chart.bytes.startswith(b"\x89PNG")
    assert not fake_slack.calls_to("chat.postMessage")


def test_report_now_posts_once_per_period(runtime, server, slack, fake_slack):
    load_demo(runtime, fake_slack.team_id)
    channel = fake_slack.add_channel("#roadmap-updates")
    slack.command("/report", "exec", user="U7")
    post = fake_slack.wait_for("chat.postMessage", timeout=BUILD)[0].params
    assert post["channel"] == channel and "Aurum development dashboard" in text_of(post["blocks"])
    slack.command("/report", "exec", user="U7")
    assert "already posted" in ephemeral_with(fake_slack, "already posted")["text"]
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert "Usage: `/report" in slack.command("/report", "yearly").json()["text"]


def test_quarterly_pack_attaches_the_markdown_draft(runtime, server, slack, fake_slack):
    load_demo(runtime, fake_slack.team_id)
    fake_slack.add_channel("#roadmap-updates")
    slack.command("/report", "quarterly", user="U7")
    fake_slack.wait_for("files.completeUploadExternal", timeout=BUILD)
    (draft,) = fake_slack.files.values()
    assert draft.filename.endswith("-achievements.md") and draft.bytes.startswith(b"# Q")


def test_roadmap_posts_phases_with_their_metrics(runtime, server, slack, fake_slack):
    load_demo(runtime, fake_slack.team_id)
    slack.command("/roadmap", "", channel="C0ROAD")
    post = fake_slack.wait_for("chat.postMessage", timeout=BUILD)[0].params
    assert post["channel"] == "C0ROAD"
    text = text_of(post["blocks"])
    assert all(f"*Phase {n}: " in text for n in (1, 2, 3, 4)) and "Cache hit rate" in text
    assert_valid_blocks(post["blocks"])


def test_app_home_publishes_a_valid_view(runtime, server, slack, fake_slack):
    load_demo(runtime, fake_slack.team_id)
    assert slack.event({"type": "app_home_opened", "user": "U7", "tab": "home", "channel": "D7"}).status_code == 200
    fake_slack.wait_for("views.publish", timeout=BUILD)
    (published,) = fake_slack.views
    assert published["user_id"] == "U7"
    view = published["view"]
    assert_valid_view(view)
    text = text_of(view["blocks"])
    for part in ("KPI statuses", "Latest team survey", "Active alerts", "Recent recognition",
                 "Next scheduled events", "Team weekly status"):
        assert part in text


def test_sprint_end_without_points_asks_for_them(server, slack, fake_slack):
    slack.command("/sprint", "start Sprint 9", user="U0SM1")
    ephemeral_with(fake_slack, "Sprint 9 started")
    slack.command("/sprint", "end", user="U0SM1")
    assert "`/sprint end 46`" in ephemeral_with(fake_slack, "How many points")["text"]
    assert not fake_slack.calls_to("chat.postMessage")
    assert "not a number of points completed" in slack.command("/sprint", "end lots", user="U0SM1").json()["text"]
