"""The one text policy (aurum.core.text): hostile text typed into every free-text field, driven through the signed
endpoint, never reaches Slack as a special mention, a link the person typed, a control or bidi character, double
escaping or more than its field's cap, and never crashes a request."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from aurum.core import tokens as api_tokens
from aurum.core.errors import InputError
from aurum.core.text import CAPS, cleaned, escape, outgoing, typed
from aurum.surveys import answers
from storage.queue import QueuedTask
from tests.support import settled
from tests.surveys.support import seed_run, view_submission

# --- the policy's halves, by example ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("sent", "meant"), [
    ("R&amp;D &lt;!channel&gt;", "R&D <!channel>"),  # what Slack sends for typed "R&D <!channel>"
    ("&amp;lt;b&amp;gt;", "&lt;b&gt;"),  # typed "&lt;b&gt;": decoded once, not twice
    ("ping <!channel> and <!here|here> <!everyone>", "ping @channel and here @everyone"),
    ("ask <!subteam^S0123|@platform> now", "ask @platform now"),
    ("thanks <@U0123ABC|ana> and <@W0456>", "thanks <@U0123ABC> and <@W0456>"),
    ("see <https://evil.example/x|the docs> or <https://evil.example>",
     "see the docs (https://evil.example/x) or https://evil.example"),
    ("in <#C0123|general>", "in #general"),
    ("left\u202eright\u2066 bell\x07 esc\x1b[31m", "leftright bell esc[31m"),
    ("tab\tand\nnew line", "tab\tand\nnew line"),
])
def test_typed_text_is_what_the_person_meant(sent, meant):
    assert typed(sent) == meant


def test_escaping_what_was_meant_shows_what_was_typed():
    shown = escape(typed("R&amp;D &lt;!channel&gt; <!channel>"))
    assert shown == "R&amp;D &lt;!channel&gt; @channel"  # Slack renders: R&D <!channel> @channel


def test_each_field_has_a_cap_and_longer_text_is_refused_not_cut():
    for field, cap in CAPS.items():
        assert cleaned("x" * cap, field) == "x" * cap
        with pytest.raises(InputError, match=rf"Keep the {field} to {cap:,} characters \(yours has {cap + 1:,}\)"):
            cleaned("x" * (cap + 1), field)


def test_nothing_leaves_as_a_special_mention_or_a_bidi_override():
    sent = outgoing({"text": "a <!channel> b\u202e", "blocks": [{"text": {"text": "<!here>", "type": "mrkdwn"}}],
                     "n": 3, "ok": True})
    assert sent == {"text": "a &lt;!channel&gt; b", "blocks": [{"text": {"text": "&lt;!here&gt;", "type": "mrkdwn"}}],
                    "n": 3, "ok": True}


# --- the property, end to end ----------------------------------------------------------------------------------------

FRAGMENTS = [
    "<!channel>", "<!here>", "<!everyone>", "<!subteam^S0123|@platform>", "<!date^1392734382^{date}|Feb 18>",
    "<https://evil.example/steal|click here>", "<https://evil.example>", "<mailto:x@evil.example|mail>",
    "<@U0SOMEONE|bob>", "<#C0CHAN|general>", "*bold*", "_it_", "~gone~", "`code`", "```block```", ">quote",
    "R&amp;D", "&lt;!channel&gt;", "&lt;https://evil.example|x&gt;", "&gt;", "&amp;", "\u202e", "\u2066", "\u200f",
    "\x07", "\x1b[31m", "\x7f", "\x85", "café", "🚀", "{FILL}",
]
FILLERS = {"blocker": "Б", "kudos reason": "Д", "commitment": "Ж", "sprint name": "З", "silence reason": "Л",
           "survey answer": "Ф", "report note": "Н"}
hostile = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(alphabet="abc xyz", min_size=1, max_size=5)),
                   min_size=1, max_size=6).map(" ".join)
ADMIN = "UADMIN"


def _strings(value: Any) -> list[str]:
    """Every string of a call's arguments but a file's alt text: plain text for screen readers, where `<…>` is
    read out as typed and nothing is a mention or a link."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() if key != "alt_txt" for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _sent(fake, since: int, acks: list[str]) -> list[str]:
    """Every string Slack received (Web API arguments, response_url payloads) since call `since`, and the acks."""
    return [s for call in fake.calls[since:] for s in _strings(call.params)] + acks


def _fill(text: str, field: str) -> str:
    return text.replace("{FILL}", FILLERS[field] * 10_000)


def _breaches(strings: list[str]) -> list[str]:
    found = []
    for s in strings:
        if "<!" in s:
            found.append(f"special mention: {s[:120]!r}")
        if re.search(r"<(https?|mailto):[^>]*evil", s):
            found.append(f"typed link: {s[:120]!r}")
        if re.search(r"&amp;(amp|lt|gt);", s):
            found.append(f"double escaped: {s[:120]!r}")
        if re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f]", s):
            found.append(f"control or bidi character: {s[:120]!r}")
        for field, letter in FILLERS.items():
            run = max((len(m) for m in re.findall(f"{letter}+", s)), default=0)
            if run > CAPS[field]:
                found.append(f"{field} past its cap: {run} characters")
    return found


@pytest.fixture
def admin(fake_slack, runtime):
    fake_slack.set_user(ADMIN, is_admin=True)
    for channel in set(vars(runtime.ctx.config.channels).values()):  # every post has somewhere to land
        if isinstance(channel, str) and channel.startswith("#"):
            fake_slack.add_channel(channel)
    return ADMIN


@pytest.fixture
def survey_run(runtime, fake_slack, admin):
    """The team survey open, the admin asked (one run for every example: a later answer replaces an earlier one)."""
    return seed_run(runtime.ctx, fake_slack.team_id, [admin])


@settings(max_examples=10, deadline=None, database=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=hostile)
def test_hostile_text_in_every_field_reaches_slack_harmless(runtime, server, slack, fake_slack, survey_run, text):
    ctx = runtime.ctx
    since, acks, statuses = len(fake_slack.calls), [], []
    survey = ctx.config.surveys.survey("team")

    def command(name: str, line: str) -> None:
        response = slack.command(name, line, user=ADMIN)
        statuses.append(response.status_code)
        if response.content and response.headers.get("content-type", "").startswith("application/json"):
            acks.extend(_strings(response.json()))

    command("/blocker", f"add {_fill(text, 'blocker')}")
    command("/kudos", f"<@U0OTHER> code-quality {_fill(text, 'kudos reason')}")
    command("/kudos", f"team customer-impact {_fill(text, 'kudos reason')}")
    command("/alerts", f"silence ApiLatencyHigh 2h {_fill(text, 'silence reason')}")
    command("/sprint", f"start {_fill(text, 'sprint name')} 40")
    command("/sprint", f"commit {_fill(text, 'commitment')}")
    command("/report", f"note risk {_fill(text, 'report note')}")
    command("/report", f"note win {_fill(text, 'report note')}")
    command("/survey", f"answer 8 | 7 | {_fill(text, 'survey answer')} | {_fill(text, 'survey answer')}")
    form = {field.block_id: ("7" if field.question.type == "scale" else _fill(text, "survey answer"))
            for field in answers.fields(survey)}
    submitted = slack.interaction(view_submission(survey, survey_run.id, form, user=ADMIN))
    statuses.append(submitted.status_code)
    if submitted.content:
        acks.extend(_strings(submitted.json()))
    settled(ctx)
    command("/blocker", "list")
    command("/report", "weekly preview")
    command("/report", "exec preview")
    command("/report", "notes")
    command("/sprint", "end 38")
    settled(ctx)
    assert all(code < 500 for code in statuses), statuses
    with ctx.reading() as session:
        dead = session.execute(select(QueuedTask.kind, QueuedTask.last_error).where(QueuedTask.status == "dead"))
        assert not dead.all()
    assert _breaches(_sent(fake_slack, since, acks)) == []


@settings(max_examples=10, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=hostile)
def test_hostile_text_pushed_is_refused_with_a_reason(runtime, server, text):
    with runtime.ctx.transaction() as session:
        token = api_tokens.create(session, "T0001", "hostile", scopes="push").secret
    pushed = {"metrics": [{"kpi": f"latency{_fill(text, 'blocker')}", "value": 1, "source": f"ci{text}"}]}
    response = httpx.post(f"{server.url}/api/v1/metrics", headers={"Authorization": f"Bearer {token}"},
                          json=pushed, timeout=10)
    assert response.status_code in (404, 422), response.text  # names are [A-Za-z0-9_.:/@-]{1,80}; KPIs are known
    assert "Traceback" not in response.text and response.json()["detail"]
