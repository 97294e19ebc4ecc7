"""`/report note|notes|budget` and the preview's "Add a note" modal through the real HTTP endpoint, with the
Jira and GitHub links of a note described by local servers speaking those APIs' wire format."""

from __future__ import annotations

import json
import uuid

import pytest
from pydantic import SecretStr

from aurum.reports.narrative_blocks import (
    ADD_NOTE_ACTION,
    CALLBACK_ID,
    KIND_ACTION,
    KIND_BLOCK,
    TEXT_ACTION,
    TEXT_BLOCK,
)
from tests.blockkit import assert_valid_blocks, assert_valid_view, text_of
from tests.fakes.http_api import FakeApi, Reply
from tests.support import is_reply, settled

BUILD = 30  # seconds to wait for a report: charts and queries on a busy CI machine
ADMIN = "UADMIN"


@pytest.fixture
def api():
    with FakeApi() as fake:
        yield fake


@pytest.fixture
def settings(settings, tmp_path, api):
    config = tmp_path / "team.yml"
    config.write_text(f"sources:\n  jira:\n    url: {api.url}\n    board_id: 42\n"
                      f"  github:\n    repository: acme/shop\n    api_url: {api.url}\n", encoding="utf-8")
    return settings.model_copy(update={"aurum_admins": ADMIN, "aurum_config": config,
                                       "jira_token": SecretStr("jira-secret"), "github_token": SecretStr("gh")})


@pytest.fixture(autouse=True)
def here(fake_slack):
    """The conversation where the previews are asked for."""
    fake_slack.add_channel("#here", "C0HERE")


def reply_with(fake_slack, words: str) -> str:
    found = fake_slack.wait_for(lambda c: is_reply(c) and words in c.params["text"], timeout=BUILD)
    return found[-1].params["text"]


def preview(slack, fake_slack, kind: str, user: str = "U7") -> dict:
    title = "Team weekly status" if kind == "weekly" else "Aurum development dashboard"
    def shown(call) -> bool:
        return is_reply(call) and title in text_of(call.params.get("blocks") or [])

    before = len([c for c in fake_slack.calls if shown(c)])
    slack.command("/report", f"{kind} preview", user=user, channel="C0HERE")
    return fake_slack.wait_for(shown, count=before + 1, timeout=BUILD)[-1].params


def section(blocks: list[dict], title: str) -> str:
    return next(b["text"]["text"] for b in blocks if b["type"] == "section" and title in b["text"]["text"])


def test_notes_show_in_the_reports_beside_the_generated_lines_marked_as_written(server, slack, fake_slack):
    slack.command("/report", "note win Shipped the new checkout", user="U1")
    assert "Win note #1 recorded" in reply_with(fake_slack, "Win note #1")
    slack.command("/report", "note commitment Finish the cache rollout", user="U2")
    reply_with(fake_slack, "Commitment note #2")
    for kind, text in (("risk", "Vendor contract ends in March"), ("achievement", "SOC 2 audit passed"),
                       ("focus", "Cut p95 latency")):
        slack.command("/report", f"note {kind} {text}", user="U3")
        reply_with(fake_slack, text)

    weekly = preview(slack, fake_slack, "weekly")
    assert_valid_blocks(weekly["blocks"])
    assert "✍️ <@U1> Shipped the new checkout" in section(weekly["blocks"], "This week's wins")
    assert "✍️ <@U2> Finish the cache rollout" in section(weekly["blocks"], "Next week's commitments")
    assert "*RISK* ✍️ <@U3> Vendor contract ends in March" in section(weekly["blocks"], "Blockers & impediments")

    executive = preview(slack, fake_slack, "exec")
    assert_valid_blocks(executive["blocks"])
    assert "✍️ <@U3> SOC 2 audit passed" in section(executive["blocks"], "Achievements")
    assert "✍️ <@U3> Vendor contract ends in March" in section(executive["blocks"], "Risks & issues")
    assert "✍️ <@U3> Cut p95 latency" in section(executive["blocks"], "Next month focus")

    slack.command("/report", "notes", user="U9")
    listed = reply_with(fake_slack, "Report notes of this period")
    for line in ("#1 *Win*: ✍️ <@U1> Shipped the new checkout", "#3 *Risk*: ✍️ <@U3> Vendor contract",
                 "#5 *Next month focus*: ✍️ <@U3> Cut p95 latency"):
        assert line in listed


def test_a_note_is_deleted_by_its_author_or_an_admin_only(server, slack, fake_slack):
    slack.command("/report", "note risk Key person on leave", user="U1")
    reply_with(fake_slack, "Risk note #1")
    slack.command("/report", "note win Released 2.0", user="U1")
    reply_with(fake_slack, "Win note #2")
    slack.command("/report", "note delete 1", user="U2")
    assert "Only <@U1> (who wrote note #1) or admins can delete it." in reply_with(fake_slack, "Only <@U1>")
    slack.command("/report", "note delete 1", user=ADMIN)
    assert "Note #1 deleted" in reply_with(fake_slack, "deleted")
    slack.command("/report", "note delete 1", user="U1")
    assert "No report note #1" in reply_with(fake_slack, "No report note")
    slack.command("/report", "note delete #2", user="U1")
    assert "Note #2 deleted" in reply_with(fake_slack, "Note #2 deleted")


@pytest.mark.parametrize(("text", "answer"), [
    ("note gossip Bob is late", "'gossip' is not a kind of note; use one of risk, achievement, focus, win"),
    ("note risk", "Say what the risk is: `/report note risk <text>`."),
    ("note risk " + "x" * 501, "Keep the report note to 500 characters (yours has 501)"),
    ("note delete one", "Which one? `/report note delete 12`"),
    ("budget lots of 400k", "'lots' is not an amount of money spent; write it like 120000, 120k or 1.2m."),
    ("budget 120k 400k", "Usage: `/report budget <spent> of <quarterly budget>`"),
    ("budget 120k of 0", "The quarterly budget must be above 0."),
])
def test_bad_input_is_answered_in_the_ack_with_how_to_fix_it(server, slack, text, answer):
    assert answer in slack.command("/report", text, user="U1").json()["text"]


def test_the_budget_is_entered_by_admins_and_shown_in_the_executive_dashboard(server, slack, fake_slack):
    slack.command("/report", "budget 120k of 400k", user="U1")
    refused = reply_with(fake_slack, "Only admins")
    assert "Only admins can enter the budget" in refused and "AURUM_ADMINS" in refused
    slack.command("/report", "budget 100k of 400k", user=ADMIN)
    reply_with(fake_slack, "Budget recorded")
    slack.command("/report", "budget $120,000 of $400,000", user=ADMIN)
    recorded = reply_with(fake_slack, "$120K of $400K")
    assert "30% used" in recorded and "of the quarter gone" in recorded and "2 entries this quarter" in recorded

    executive = preview(slack, fake_slack, "exec")
    assert "*Budget*: 30% utilized ($120K of $400K quarterly)" in section(executive["blocks"], "Overall progress")
    budget = section(executive["blocks"], "💰 Budget")
    assert "$120K of $400K spent in 20" in budget and "even pace of $133K/month" in budget
    assert "Entered by <@UADMIN>" in budget


def note_submission(kind: str | None, text: str | None, user: str = "U1", channel: str = "C0HERE") -> dict:
    kind_value = {"type": "static_select", "selected_option": {"value": kind} if kind else None}
    return {
        "type": "view_submission", "token": "legacy", "api_app_id": "A0001", "trigger_id": "t.x",
        "team": {"id": "T0001", "domain": "test"}, "user": {"id": user, "team_id": "T0001"},
        "view": {"id": f"V{uuid.uuid4().hex[:8]}", "type": "modal", "callback_id": CALLBACK_ID, "team_id": "T0001",
                 "private_metadata": json.dumps({"channel": channel}), "hash": "1", "blocks": [],
                 "title": {"type": "plain_text", "text": "Add a report note"},
                 "state": {"values": {KIND_BLOCK: {KIND_ACTION: kind_value},
                                      TEXT_BLOCK: {TEXT_ACTION: {"type": "plain_text_input", "value": text}}}}},
    }


def test_the_preview_button_opens_the_note_form_and_its_submission_stores_the_note(runtime, server, slack,
                                                                                 fake_slack):
    weekly = preview(slack, fake_slack, "weekly", user="U1")
    (button,) = [e for b in weekly["blocks"] if b["type"] == "actions" for e in b["elements"]
                 if e["action_id"] == ADD_NOTE_ACTION]
    assert button["value"] == "win"
    slack.interaction({"type": "block_actions", "user": {"id": "U1", "team_id": "T0001"},
                       "channel": {"id": "C0HERE"}, "container": {"type": "message", "channel_id": "C0HERE"},
                       "actions": [{**button, "block_id": "report_add_note", "action_ts": "1.0"}]})
    fake_slack.wait_for("views.open")
    view = fake_slack.views[0]["view"]
    assert_valid_view(view)
    assert view["callback_id"] == CALLBACK_ID
    assert json.loads(view["private_metadata"]) == {"channel": "C0HERE"}

    refused = slack.interaction(note_submission("win", "   ")).json()
    assert refused["response_action"] == "errors" and "Say what the win is" in refused["errors"][TEXT_BLOCK]
    assert "Pick a kind" in slack.interaction(note_submission(None, "x")).json()["errors"][KIND_BLOCK]
    too_long = slack.interaction(note_submission("risk", "y" * 501)).json()["errors"][TEXT_BLOCK]
    assert "Keep the report note to 500 characters" in too_long

    hostile = "Team <!channel> R&D *bold* <https://evil.example|click> \u202e done"
    assert slack.interaction(note_submission("win", hostile)).status_code == 200
    confirmed = fake_slack.wait_for(lambda c: is_reply(c) and "Win note #1" in c.params["text"], timeout=BUILD)
    assert confirmed[-1].params["channel"] == "C0HERE" and confirmed[-1].params["user"] == "U1"
    weekly = preview(slack, fake_slack, "weekly", user="U1")
    wins = section(weekly["blocks"], "This week's wins")
    assert "✍️ <@U1> Team &lt;!channel&gt; R&amp;D *bold* &lt;https://evil.example|click&gt;  done" in wins
    assert "\u202e" not in wins


JIRA_ISSUE = {"id": "10001", "key": "PROJ-123", "self": "https://acme.atlassian.net/rest/api/2/issue/10001",
              "fields": {"summary": "Checkout times out <b>", "status": {
                  "name": "In Progress", "statusCategory": {"key": "indeterminate", "name": "In Progress"}}}}
GITHUB_ISSUE = {"number": 12, "title": "Cache stampede on deploy", "state": "open",
                "html_url": "https://github.com/acme/shop/issues/12", "user": {"login": "ana"}, "labels": []}


def test_issue_links_are_described_after_the_ack_cached_and_left_plain_when_the_lookup_fails(
        runtime, server, slack, fake_slack, api):
    api.on("GET", "/rest/api/2/issue/PROJ-123", Reply(JIRA_ISSUE))
    api.on("GET", "/repos/acme/shop/issues/12", Reply(GITHUB_ISSUE))
    slack.command("/report", "note risk Checkout PROJ-123 and https://github.com/acme/shop/issues/12, also NOPE-9",
                  user="U1")
    reply_with(fake_slack, "Risk note #1")
    settled(runtime.ctx)
    jira_call = api.calls("/rest/api/2/issue/PROJ-123")[0]
    assert jira_call.headers["Authorization"] == "Bearer jira-secret"
    assert jira_call.param("fields") == "summary,status"
    assert api.calls("/repos/acme/shop/issues/12")[0].headers["Authorization"] == "Bearer gh"
    assert len(api.calls("/rest/api/2/issue/NOPE-9")) == 1  # 404: not retried, the link stays plain

    slack.command("/report", "note focus Close PROJ-123 and acme/shop#12", user="U2")
    reply_with(fake_slack, "note #2")
    settled(runtime.ctx)
    assert len(api.calls("/rest/api/2/issue/PROJ-123")) == 1  # cached
    assert len(api.calls("/repos/acme/shop/issues/12")) == 1

    executive = preview(slack, fake_slack, "exec")
    risks = section(executive["blocks"], "Risks & issues")
    assert ("✍️ <@U1> Checkout PROJ-123 and https://github.com/acme/shop/issues/12, also NOPE-9 _(PROJ-123: "
            "Checkout times out &lt;b&gt; · In Progress; acme/shop#12: Cache stampede on deploy · open)_") in risks
    assert "(PROJ-123: Checkout times out &lt;b&gt; · In Progress; acme/shop#12: Cache stampede on deploy · open)" \
        in section(executive["blocks"], "Next month focus")


def test_hostile_text_in_a_note_reaches_the_report_as_plain_words(server, slack, fake_slack):
    slack.command("/report", "note win <!channel> R&amp;D &lt;!here&gt; <https://evil.example|click> "
                             "*bold* \u202eeno <@U0ANA|ana>", user="U1")
    reply_with(fake_slack, "Win note #1")
    wins = section(preview(slack, fake_slack, "weekly")["blocks"], "This week's wins")
    assert ("✍️ <@U1> @channel R&amp;D &lt;!here&gt; click (https://evil.example) *bold* eno <@U0ANA>"
            in wins)
    assert "<!" not in wins and "<http" not in wins and "\u202e" not in wins
