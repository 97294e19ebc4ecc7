"""Who a survey asks: every member of the team channel (all pages), a user group, or a list — never the bot."""

from __future__ import annotations

from sqlalchemy import select

from aurum.config import parse_config
from aurum.surveys import runs
from storage.surveys import SurveyRespondent


def _asked(runtime) -> list[str]:
    with runtime.ctx.reading() as session:
        return sorted(session.scalars(select(SurveyRespondent.user_id)))


def test_all_pages_of_the_team_channel_are_asked_but_not_the_bot(runtime, fake_slack):
    channel = fake_slack.add_channel("#engineering")
    members = [f"U{i:04d}" for i in range(450)]
    fake_slack.set_members(channel, [*members[:10], fake_slack.bot_user_id, *members[10:]])
    with runtime.ctx.transaction() as session:
        outcome = runs.open_run(runtime.ctx, session, fake_slack.team_id, "team", "2026-W48")
    assert outcome == "opened 2026-W48 for 450 people"
    assert _asked(runtime) == members
    assert len(fake_slack.calls_to("conversations.members")) == 3  # 200 + 200 + 50


def test_a_user_group_minus_exclusions(runtime, fake_slack):
    runtime.ctx.config = parse_config({"surveys": {"exclude": ["U3"], "team": {"audience": {"usergroup": "S0ENG"}}}})
    fake_slack.set_members("S0ENG", ["U1", "U2", "U3"])
    with runtime.ctx.transaction() as session:
        runs.open_run(runtime.ctx, session, fake_slack.team_id, "team", "2026-W48")
    assert _asked(runtime) == ["U1", "U2"]


def test_nobody_to_ask_opens_nothing(runtime, fake_slack):
    with runtime.ctx.transaction() as session:
        outcome = runs.open_run(runtime.ctx, session, fake_slack.team_id, "stakeholder", "2026-12")
    assert outcome == "nobody to ask: set surveys.stakeholder.audience in the config file"
    assert _asked(runtime) == []
