"""`/kudos` through the real HTTP endpoint: the public shout-out, no self-kudos, the daily limit, the leaderboard,
escaping, and the weekly summary's one-click Confirm."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from aurum import demo
from aurum.recognition.kudos import SUGGEST_CONFIRM_ACTION, SUGGEST_USER_ACTION
from aurum.reports import weekly
from storage.recognition import Kudos
from tests.blockkit import assert_valid_blocks, text_of
from tests.support import is_reply


def test_kudos_posts_a_public_shout_out_with_the_reason_escaped(runtime, server, slack, fake_slack):
    channel = fake_slack.add_channel("#engineering")
    response = slack.command("/kudos", "<@U2BOB|bob> code-quality raised DAO coverage <!channel> <https://x.io|here>",
                             user="U1ANA")
    assert response.status_code == 200 and response.text == ""
    post = fake_slack.wait_for("chat.postMessage")[0].params
    assert post["channel"] == channel
    text = text_of(post["blocks"])
    assert "*Code Quality Award* for <@U2BOB>" in text and "From <@U1ANA>" in text
    assert "raised DAO coverage @channel here (https://x.io)" in text  # the words, no ping, the link's address shown
    assert "<!channel>" not in text and "<https" not in text and "<!channel>" not in post["text"]
    assert_valid_blocks(post["blocks"])
    confirm = fake_slack.wait_for(is_reply)[0].params
    assert confirm["user"] == "U1ANA" and "(1 of 5 today)" in confirm["text"]


def test_self_kudos_is_refused_in_the_ack(server, slack, fake_slack):
    body = slack.command("/kudos", "<@U1ANA|ana> innovation I am great", user="U1ANA").json()
    assert body["response_type"] == "ephemeral"
    assert body["text"].startswith("You can't give kudos to yourself")
    assert not fake_slack.calls_to("chat.postMessage")


def test_bad_award_and_missing_reason_explain_the_form(server, slack):
    assert "Which award?" in slack.command("/kudos", "<@U2BOB> bestest thanks", user="U1").json()["text"]
    assert "Say why" in slack.command("/kudos", "<@U2BOB> mentorship", user="U1").json()["text"]
    assert "Start with the person" in slack.command("/kudos", "bob mentorship thanks", user="U1").json()["text"]


def test_daily_limit_per_giver(runtime, server, slack, fake_slack):
    fake_slack.add_channel("#engineering")
    for i in range(5):
        slack.command("/kudos", f"<@U{i}PEER> mentorship pairing session {i}", user="U1ANA")
    fake_slack.wait_for("chat.postMessage", count=5)
    slack.command("/kudos", "<@U9PEER> mentorship one more", user="U1ANA")
    refusal = fake_slack.wait_for(lambda c: is_reply(c) and "daily limit" in c.params["text"])
    assert refusal[0].params["text"].startswith("You've given 5 kudos today, the daily limit of 5.")
    slack.command("/kudos", "<@U9PEER> mentorship from someone else", user="U2BOB")  # another giver still can
    fake_slack.wait_for("chat.postMessage", count=6)
    with runtime.ctx.reading() as session:
        assert len(list(session.scalars(select(Kudos)))) == 6


def test_leaderboard_counts_this_month(runtime, server, slack, fake_slack):
    fake_slack.add_channel("#engineering")
    slack.command("/kudos", "<@U2BOB> performance cut p95 by 40%", user="U1ANA")
    slack.command("/kudos", "<@U2BOB> innovation new cache idea", user="U3CAT")
    slack.command("/kudos", "<@U3CAT> mentorship onboarding buddy", user="U1ANA")
    fake_slack.wait_for("chat.postMessage", count=3)
    slack.command("/kudos", "leaderboard month", user="U1ANA")
    board = fake_slack.wait_for(lambda c: is_reply(c) and "leaderboard" in c.params["text"])
    text = text_of(board[0].params["blocks"])
    assert text.index("🥇 <@U2BOB> — 2 kudos") < text.index("🥈 <@U3CAT> — 1 kudos")
    assert_valid_blocks(board[0].params["blocks"])


def test_weekly_candidate_confirmed_with_one_click_once(runtime, server, slack, fake_slack):
    ctx = runtime.ctx  # the real clock: the outbox worker delivers by it
    fake_slack.add_channel("#engineering")
    with ctx.transaction() as session:
        demo.load(session, ctx.catalog, fake_slack.team_id, ctx.now() - timedelta(days=1))
    with ctx.reading() as session:
        data = weekly.compute(ctx, session, fake_slack.team_id)
    message = weekly.render(data)
    assert_valid_blocks(message)
    (suggestion,) = [s for s in data.suggestions if s.award == "code_quality"]
    block = next(b for b in message if b["type"] == "actions" and b["block_id"].endswith("code_quality"))
    button = next(e for e in block["elements"] if e["action_id"] == SUGGEST_CONFIRM_ACTION)

    def click(user: str):
        return slack.interaction({
            "type": "block_actions", "user": {"id": user}, "channel": {"id": "C0RU"},
            "actions": [{"action_id": SUGGEST_CONFIRM_ACTION, "block_id": block["block_id"],
                         "value": button["value"], "type": "button"}],
            "state": {"values": {block["block_id"]: {SUGGEST_USER_ACTION: {"type": "users_select",
                                                                           "selected_user": "U2BOB"}}}},
        })

    assert click("U1ANA").status_code == 200
    shout = fake_slack.wait_for("chat.postMessage", timeout=15)[0].params
    assert "*Code Quality Award* for <@U2BOB>" in text_of(shout["blocks"])
    click("U3CAT")
    again = fake_slack.wait_for(lambda c: is_reply(c) and "already confirmed" in c.params["text"])
    assert "<@U1ANA>" in again[0].params["text"]
    with ctx.reading() as session:
        (stored,) = session.scalars(select(Kudos))
    assert stored.suggestion_key == suggestion.key and json.loads(button["value"])["key"] == suggestion.key


def test_a_forged_suggestion_button_is_refused(runtime, server, slack, fake_slack):
    value = json.dumps({"award": "code_quality", "reason": "x", "key": "x" * 500})
    slack.interaction({"type": "block_actions", "user": {"id": "U1ANA"}, "channel": {"id": "C0RU"},
                       "actions": [{"action_id": SUGGEST_CONFIRM_ACTION, "block_id": "kudos_suggest:code_quality",
                                    "value": value, "type": "button"}],
                       "state": {"values": {"kudos_suggest:code_quality": {
                           SUGGEST_USER_ACTION: {"type": "users_select", "selected_user": "U2BOB"}}}}})
    refusal = fake_slack.wait_for(is_reply)[0].params
    assert "not one of Aurum's kudos suggestions" in refusal["text"]
    with runtime.ctx.reading() as session:
        assert not list(session.scalars(select(Kudos)))
