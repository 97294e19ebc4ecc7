"""Text no database stores (a NUL, a lone UTF-16 surrogate) is refused at the edge with what is wrong and how to fix
it, before anything is stored; never "try again". Run with AURUM_TEST_DB=postgres too: there PostgreSQL itself
refuses such text, which is why the edges must."""

from __future__ import annotations

import json

import pytest

from aurum.kpis import live
from aurum.reports import notes
from tests.support import is_reply, replies, statuses, wait_until
from tests.surveys.support import block_action

HOSTILE = [("nul", "\x00", "NUL character"), ("surrogate", "\ud800", "unpaired UTF-16 surrogate")]
COMMANDS = [
    ("/blocker", "add Trino pool {} exhausted"),
    ("/kudos", "@U2 teamwork for fixing the {} build"),
    ("/alerts", "silence latency 2h deploy {} window"),
    ("/kpi", "record coverage 82.5 {}"),
    ("/sprint", "goal Ship {} search"),
    ("/survey", "answer 8 | 7 | flaky {} CI | pairing"),
]


def _requests(runtime) -> int:
    return sum(statuses(runtime.ctx, ("request",)).values())


@pytest.mark.parametrize(("command", "text"), COMMANDS, ids=[c for c, _ in COMMANDS])
def test_a_nul_in_a_command_is_refused_in_the_ack(runtime, server, slack, fake_slack, command, text):
    """(A command's text comes form-encoded as UTF-8: a surrogate's bytes there decode to U+FFFD, which is stored.)"""
    message = "NUL character"
    response = slack.command(command, text.format("\x00"))
    assert response.status_code == 200
    answer = response.json()["text"]
    assert message in answer and ("Remove it" in answer or "Retype" in answer)
    assert "try again" not in answer
    assert _requests(runtime) == 0  # nothing stored, not even the request's work
    with runtime.ctx.reading() as session:
        assert notes.open_blockers(session, fake_slack.team_id) == []


def test_a_valid_unusual_text_is_stored(runtime, server, slack, fake_slack):
    text = "Trino pool 🚀 exhausted — naïve retry, tab\there"
    assert slack.command("/blocker", f"add {text}").text == ""
    reply = fake_slack.wait_for(is_reply)[0].params
    assert "recorded" in reply["text"]
    with runtime.ctx.reading() as session:
        assert [n.text for n in notes.open_blockers(session, fake_slack.team_id)] == [text]


@pytest.mark.parametrize(("char", "message"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_button_value_is_refused_before_it_is_stored(runtime, server, slack, fake_slack, char, message):
    assert slack.interaction(block_action(live.STOP_ACTION, f"1{char}")).status_code == 200
    answer = wait_until(lambda: [r for r in fake_slack.responses if message in r.get("text", "")])[0]["text"]
    assert "try again" not in answer
    assert _requests(runtime) == 0


def test_hostile_text_escaped_in_a_kudos_suggestion_is_refused(runtime, server, slack, fake_slack):
    from aurum.recognition import kudos as recognition

    value = json.dumps({"key": "2026-W48:shipped", "award": "shipped", "reason": "a \u0000 b"})  # escaped: \\u0000
    payload = block_action(recognition.SUGGEST_CONFIRM_ACTION, value, user="U1")
    payload["actions"][0]["block_id"] = "suggest"
    payload["state"] = {"values": {"suggest": {recognition.SUGGEST_USER_ACTION: {"selected_user": "U2"}}}}
    assert slack.interaction(payload).status_code == 200
    answer = wait_until(lambda: [r for r in fake_slack.responses if "NUL character" in r.get("text", "")])[0]
    assert "try again" not in answer["text"]
    assert not [r for r in replies(fake_slack) if "confirmed" in (r.params.get("text") or "")]
