"""Every acknowledged request is done exactly once, in the conversation it came from, as Slack behaves.

The ack function only answers Slack: the request's work is stored in the ack (aurum.core.after_ack) and done once
by a queue worker; replies go by the request's response_url; nothing an ack function does is run again.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest
import yaml

from aurum import demo
from aurum.core.outbox import CANNOT_POST
from commands.survey_modal import NOT_OPENED
from storage.db import session_scope
from tests.support import ROOT, is_reply, settled, statuses, wait_until

MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
# A typical request of each slash command of the manifest (most answer in the work after the ack).
TYPICAL = {"/kpi": "latency", "/alerts": "", "/survey": "status", "/roadmap": "private", "/report": "weekly preview",
           "/sprint": "", "/blocker": "list", "/kudos": "leaderboard"}


def _load_demo(runtime, team_id: str) -> None:
    with session_scope(runtime.ctx.engine) as session:
        demo.load(session, runtime.ctx.catalog, team_id, runtime.ctx.now())


def _settled(runtime) -> None:
    settled(runtime.ctx)


def _twice(fake) -> dict[str, int]:
    """Web API calls (and response_url posts) made twice with the same arguments."""
    seen = Counter(f"{c.method} {json.dumps(c.params, sort_keys=True, default=str)}"
                   for c in fake.calls if not c.failed and c.method not in ("auth.test", "upload"))
    return {call[:160]: n for call, n in seen.items() if n > 1}


@pytest.mark.work_process
def test_every_command_of_the_manifest_is_done_once_in_aurum_serves_mode(runtime, server, slack, fake_slack):
    _load_demo(runtime, fake_slack.team_id)
    commands = [c["command"] for c in MANIFEST["features"]["slash_commands"]]
    assert set(commands) == set(TYPICAL), "a command of the manifest without a typical request here"
    for command in commands:
        assert slack.command(command, TYPICAL[command], user="U0ONE").status_code == 200
    _settled(runtime)
    with runtime.ctx.reading() as session:
        from sqlmodel import select

        from storage.queue import QueuedTask
        works = list(session.scalars(select(QueuedTask).where(QueuedTask.kind == "request")))
        outputs = Counter(t.key.rsplit("/", 1)[0] for t in session.scalars(select(QueuedTask))
                          if t.kind != "request" and t.key.startswith("request:"))
    # One stored work per command that has work after the ack, each done in one attempt.
    assert sorted(t.key.split(":")[2] for t in works) == sorted(commands)
    assert {t.status for t in works} == {"done"} and {t.attempts for t in works} == {1}
    assert set(outputs) == {t.key for t in works}, "every command answered something"
    assert not _twice(fake_slack)
    assert not fake_slack.violations


def test_a_reply_reaches_a_private_channel_and_a_dm_the_bot_is_not_in(runtime, server, slack, fake_slack):
    _load_demo(runtime, fake_slack.team_id)
    private = fake_slack.add_channel("secret-project", private=True, bot_member=False)
    dm = fake_slack.add_dm("U0SOLO", bot_member=False)
    for channel in (private, dm):
        slack.command("/kpi", "latency private", user="U0SOLO", channel=channel)
    replies = wait_until(lambda: [r for r in fake_slack.responses if r["channel"] in (private, dm)] if len(
        [r for r in fake_slack.responses if r["channel"] in (private, dm)]) >= 2 else None, message="both replies")
    assert {r["channel"] for r in replies} == {private, dm}
    assert all("API p95 response time" in r["text"] or "latency" in r["text"].lower() for r in replies)
    assert not [c for c in fake_slack.calls_to("chat.postEphemeral") if c.params.get("channel") in (private, dm)]

    # A public card there: Slack refuses the post (the bot is not in), so the card comes by the response_url
    # for everyone in the conversation, and the person learns why its chart is missing.
    for channel in (private, dm):
        slack.command("/kpi", "latency", user="U0SOLO", channel=channel)
    wait_until(lambda: all(len([r for r in fake_slack.responses if r["channel"] == c]) >= 3 for c in (private, dm)),
               message="the cards and the notes")
    _settled(runtime)
    for channel in (private, dm):
        here = sorted([r for r in fake_slack.responses if r["channel"] == channel][1:],
                      key=lambda r: r.get("response_type") != "in_channel")
        assert [r.get("response_type") for r in here] == ["in_channel", "ephemeral"]
        assert "latency" in json.dumps(here[0]["blocks"]).lower()
        assert here[1]["text"] == CANNOT_POST.format(error="channel_not_found")
    assert not fake_slack.violations


def test_a_reply_after_the_response_url_expired_goes_ephemeral(runtime, server, slack, fake_slack):
    body = dict(parse_qsl(slack.command_body("/kudos", "leaderboard", user="U0LATE", channel="C0CHAN")))
    fake_slack.advance(31 * 60)  # Slack's 30 minutes have passed when the work answers
    slack.send(urlencode(body))
    (reply,) = fake_slack.wait_for(lambda c: c.method == "chat.postEphemeral" and not c.failed, fail_fast=False)
    assert reply.params["user"] == "U0LATE" and "leaderboard" in reply.params["text"].lower()
    # The expired URL was tried once, and answered 404 expired_url: that is how the bot learns it expired.
    (expired,) = fake_slack.take_violations()
    assert "expired_url" in expired and len(fake_slack.calls_to("response_url")) == 1


@pytest.mark.parametrize("fault", ["429", "hang"])
def test_survey_answers_slack_in_time_with_one_views_open_when_slack_is_slow(fault, runtime, server, slack,
                                                                              fake_slack):
    if fault == "429":
        fake_slack.fail_next("views.open", status=429, retry_after=5)
    else:
        fake_slack.fail_next("views.open", mode="timeout", delay=10.0)
    started = time.monotonic()
    answer = slack.command("/survey", "", user="U0WAIT")
    took = time.monotonic() - started
    assert answer.status_code == 200
    assert took < 10.0, "the ack waited for Slack's answer to views.open"  # the ack client gives up after 2 s
    assert len(fake_slack.calls_to("views.open")) == 1
    told = fake_slack.wait_for(lambda c: is_reply(c) and "did not open the survey form" in c.params.get("text", ""))
    assert told[0].params["text"].startswith(NOT_OPENED.split("(")[0])


def test_an_event_slack_delivers_three_times_publishes_the_home_tab_once(runtime, server, slack, fake_slack):
    body = json.dumps({"token": "legacy", "team_id": fake_slack.team_id, "api_app_id": "A0001",
                       "type": "event_callback", "event_id": "Ev0AGAIN", "event_time": int(time.time()),
                       "event": {"type": "app_home_opened", "user": "U0HOME", "channel": "D0HOME", "tab": "home"}})
    for retry in range(3):  # Slack's retries: the same body, signed again, with X-Slack-Retry-Num
        headers = slack.headers(body, timestamp=int(time.time()) + retry, content_type="application/json")
        if retry:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        assert slack.send(body, headers=headers).status_code == 200
    fake_slack.wait_for("views.publish")
    _settled(runtime)
    assert len(fake_slack.calls_to("views.publish")) == 1


def test_work_acknowledged_before_a_crash_is_done_by_the_next_start(settings, fake_slack, tmp_path: Path):
    """The work is stored before the ack: a process that dies right after acking loses nothing."""
    from bot.compose import build_web
    from bot.web import create_web_app
    from tests.support import SlackSender, running

    first = build_web(settings, work_process=False)
    with running(create_web_app(first, start_workers=False)) as srv:  # acks, but no worker runs
        sender = SlackSender(srv.url, team_id=fake_slack.team_id, fake=fake_slack)
        for i in range(5):
            assert sender.command("/kudos", "leaderboard", user=f"U0CR{i}").status_code == 200
        sender.close()
    assert statuses(first.ctx, kinds=("request",)) == {"pending": 5}
    first.ctx.engine.dispose()  # the process is gone: nothing of it runs
    assert not [c for c in fake_slack.calls if is_reply(c)]

    second = build_web(settings, work_process=False)
    with running(create_web_app(second)):
        wait_until(lambda: len([c for c in fake_slack.calls if is_reply(c) and not c.failed]) >= 5,
                   message="every acknowledged command's reply")
        _settled(second)
    second.shutdown()
    assert Counter(r["user"] for r in fake_slack.responses) == {f"U0CR{i}": 1 for i in range(5)}


def _interactions(runtime, team_id: str) -> dict[str, dict]:
    """One request of each button and view submission the app registers (tests/surveys/support.py shapes them as
    Slack does); the values name rows that may not exist: the request is still done, once."""
    from aurum.alerts.blocks import ACK
    from aurum.kpis.live import STOP_ACTION
    from aurum.recognition.kudos import SUGGEST_CONFIRM_ACTION, SUGGEST_USER_ACTION
    from aurum.surveys import answers
    from aurum.surveys.blocks import NO_REMINDER_ACTION, TAKE_ACTION
    from tests.commands.test_report_notes import note_submission
    from tests.surveys.support import block_action, seed_run, view_submission

    run = seed_run(runtime.ctx, team_id, ["U1"])
    survey = runtime.ctx.config.surveys.survey("team")
    raw = {field.block_id: "8" for field in answers.fields(survey)}
    return {
        "alert button": block_action(ACK, "404"),
        "kudos confirm": block_action(SUGGEST_CONFIRM_ACTION, json.dumps({"key": "nope", "award": "code_quality"})),
        "kudos person picked": block_action(SUGGEST_USER_ACTION, ""),
        "live dashboard stop": block_action(STOP_ACTION, "404"),
        "survey take": block_action(TAKE_ACTION, str(run.id)),
        "survey no reminder": block_action(NO_REMINDER_ACTION, str(run.id)),
        "survey submission": view_submission(survey, run.id, raw),
        "report note submission": note_submission("risk", "the vendor contract is late", user="U1",
                                                  channel="C0CHAN"),
    }


INTERACTIONS = ("alert button", "kudos confirm", "kudos person picked", "live dashboard stop", "survey take",
                "survey no reminder", "survey submission", "report note submission")
VIEW_WORKS = {"view:report_note": "report note submission"}  # a view submission's work → its case above


@pytest.mark.work_process
@pytest.mark.parametrize("name", INTERACTIONS)
def test_every_button_and_view_submission_is_done_once_in_aurum_serves_mode(name, runtime, server, slack,
                                                                           fake_slack):
    from sqlalchemy import event

    payload = _interactions(runtime, fake_slack.team_id)[name]
    writes: Counter = Counter()

    def count_write(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes[statement.split("(")[0].strip()[:60]] += 1

    event.listen(runtime.ctx.engine, "before_cursor_execute", count_write)  # the web process, where the ack runs
    try:
        assert slack.interaction(payload).status_code == 200
        _settled(runtime)
    finally:
        event.remove(runtime.ctx.engine, "before_cursor_execute", count_write)
    with runtime.ctx.reading() as session:
        from sqlmodel import select

        from storage.queue import QueuedTask
        works = list(session.scalars(select(QueuedTask).where(QueuedTask.kind == "request")))
    assert len(works) <= 1 and all(t.status == "done" and t.attempts == 1 for t in works)
    assert all(n == 1 for n in writes.values()), writes  # the ack wrote each thing once
    assert len(fake_slack.calls_to("views.open")) == (1 if name == "survey take" else 0)
    assert not _twice(fake_slack)
    assert not fake_slack.violations


def test_every_registered_work_is_driven_by_a_case_here(runtime, fake_slack):
    """The cases above are the app's own list: a new command, button or event work without a case fails here."""
    import re

    cases = _interactions(runtime, fake_slack.team_id)
    actions = [p["actions"][0]["action_id"] for p in cases.values() if p.get("type") == "block_actions"]
    for name in runtime.ctx.works:
        kind, _, what = name.partition(":")
        if kind == "command":
            assert what in TYPICAL, f"{name}: no typical request in TYPICAL"
        elif kind == "action":
            assert any(re.fullmatch(what.strip("^$"), a) for a in actions), f"{name}: no button case"
        elif kind == "view":
            assert VIEW_WORKS.get(name) in cases, f"{name}: no view submission case"
        else:
            assert name == "event:app_home_opened", f"{name}: no case"
    assert not MANIFEST["features"].get("shortcuts"), "shortcuts need cases here"
