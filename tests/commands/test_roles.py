"""Roles through signed requests: scrum masters run sprints and delete any report note; everyone else is told who
may."""

from __future__ import annotations

import pytest
import yaml

from tests.support import is_reply

BUILD = 30  # seconds to wait for an answer on a busy CI machine
ADMIN = "UADMIN"
TEAMS = {
    "payments": {"name": "Payments", "default": True, "members": {"channel": "#payments"},
                 "scrum_masters": ["U0SM"], "leads": ["U0LEAD"]},
    "platform": {"members": {"channel": "#platform"}, "scrum_masters": ["U0PSM"]},
}


@pytest.fixture
def settings(settings, tmp_path):
    config = tmp_path / "team.yml"
    config.write_text(yaml.safe_dump({"teams": TEAMS, "surveys": {"scrum_masters": ["U0SURVEYSM"]}}),
                      encoding="utf-8")
    return settings.model_copy(update={"aurum_admins": ADMIN, "aurum_config": config})


def reply_with(fake_slack, words: str) -> str:
    found = fake_slack.wait_for(lambda c: is_reply(c) and words in c.params["text"], timeout=BUILD)
    return found[-1].params["text"]


def test_only_admins_and_the_teams_scrum_masters_start_progress_and_end_its_sprint(server, slack, fake_slack):
    slack.command("/sprint", "start Sprint 7 40 team:payments", user="U0DEV")
    refused = reply_with(fake_slack, "can start, update or end a sprint")
    assert refused.startswith("Only admins or the scrum masters of Payments (<@U0SM>, <@U0SURVEYSM>) can start")
    assert "your user id is `U0DEV`" in refused
    slack.command("/sprint", "start Sprint 7 40 team:payments", user="U0PSM")  # the other team's scrum master
    assert len(fake_slack.wait_for(lambda c: is_reply(c) and "Only admins" in c.params["text"], count=2,
                                   timeout=BUILD)) == 2
    slack.command("/sprint", "start Sprint 7 40 team:payments", user="U0SM")
    reply_with(fake_slack, "Sprint 7 started, 40 points committed")
    slack.command("/sprint", "progress 10 team:payments", user="U0SURVEYSM")
    reply_with(fake_slack, "10 points done")
    slack.command("/sprint", "end 30 team:payments", user=ADMIN)
    reply_with(fake_slack, "Sprint 7 closed with 30 points")


def test_everyone_sees_progress_and_commits(server, slack, fake_slack):
    slack.command("/sprint", "team:platform", user="U0DEV")
    reply_with(fake_slack, "Sprint progress")
    slack.command("/sprint", "commit Finish the cache rollout team:platform", user="U0DEV")
    reply_with(fake_slack, "Commitment #1 recorded")


def test_a_scrum_master_deletes_any_report_note_others_only_their_own(server, slack, fake_slack):
    slack.command("/report", "note risk Key person on leave", user="U1")
    reply_with(fake_slack, "Risk note #1")
    slack.command("/report", "note delete 1", user="U2")
    assert "Only <@U1> (who wrote note #1), admins or the scrum masters of Payments (<@U0SM>, <@U0SURVEYSM>) " \
           "can delete it." in reply_with(fake_slack, "Only <@U1>")
    slack.command("/report", "note delete 1", user="U0SM")
    assert "Note #1 deleted" in reply_with(fake_slack, "Note #1 deleted")
