"""Security: Slack's signature test vector, the replay window, body limits, injection, foreign workspaces, secrets."""

from __future__ import annotations

import json
import re
import time
from contextlib import closing
from datetime import UTC, datetime

import httpx
import pytest
import time_machine
from pydantic import SecretStr
from slack_bolt import BoltRequest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select

from bot.compose import build_web
from bot.web import create_web_app
from storage.queue import QueuedTask
from storage.rollups import KpiSnapshot
from tests.support import (
    CLIENT_ID,
    SIGNING_SECRET,
    BotProcess,
    SlackSender,
    install_workspace,
    is_reply,
    process_env,
    replies,
    running,
    serve_process,
    wait_until,
)

# Slack's documented example (python-slack-sdk tests/slack_sdk/signature/test_signature_verifier.py).
VECTOR_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
VECTOR_TIMESTAMP = "1531420618"
VECTOR_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&"
    "channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&"
    "response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
    "trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
VECTOR_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
INJECTIONS = ("<!channel>", "<!here>", "<!everyone>", "<https://evil.example|click>", "<@U123>")


def _count(ctx, model) -> int:
    with ctx.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def _vector_request(body: str = VECTOR_BODY, signature: str = VECTOR_SIGNATURE) -> BoltRequest:
    return BoltRequest(body=body, headers={"x-slack-request-timestamp": VECTOR_TIMESTAMP,
                                           "x-slack-signature": signature,
                                           "content-type": "application/x-www-form-urlencoded"})


def test_slacks_documented_signature_vector_passes_our_apps_verifier(settings):
    runtime = build_web(settings.model_copy(update={"slack_signing_secret": SecretStr(VECTOR_SECRET)}),
                        work_process=False)
    try:
        assert SignatureVerifier(VECTOR_SECRET).generate_signature(
            timestamp=VECTOR_TIMESTAMP, body=VECTOR_BODY) == VECTOR_SIGNATURE
        with time_machine.travel(int(VECTOR_TIMESTAMP) + 10, tick=False):
            accepted = runtime.app.dispatch(_vector_request())
            tampered = runtime.app.dispatch(_vector_request(VECTOR_BODY.replace("roadrunner", "coyote")))
            forged = runtime.app.dispatch(_vector_request(signature=VECTOR_SIGNATURE[:-1] + "0"))
        with time_machine.travel(int(VECTOR_TIMESTAMP) + 301, tick=False):
            too_late = runtime.app.dispatch(_vector_request())
    finally:
        runtime.shutdown()
    # verified, then answered by Bolt: /webhook-collect is none of the bot's commands, which the answer lists
    assert accepted.status == 200 and "Aurum has no command `/webhook-collect`" in accepted.body
    assert tampered.status == forged.status == too_late.status == 401


def test_replay_window_is_five_minutes_both_ways(runtime, server, slack, fake_slack):
    now = int(time.time())
    assert slack.send(slack.command_body("/kpi", "record coverage 70"), timestamp=now - 4 * 60).status_code == 200
    for stale in (now - 6 * 60, now + 6 * 60):
        assert slack.send(slack.command_body("/kpi", "record coverage 71"), timestamp=stale).status_code == 401
    fake_slack.wait_for(is_reply)
    assert _count(runtime.ctx, KpiSnapshot) == 1


def test_a_replayed_request_is_not_run_twice(runtime, server, slack, fake_slack):
    body = slack.command_body("/kpi", "record coverage 72")
    headers = slack.headers(body)
    first = slack.send(body, headers=headers)
    again = slack.send(body, headers=headers)
    assert first.status_code == 200 and again.status_code == 200
    assert again.headers.get("x-aurum-replay") == "ignored"
    fake_slack.wait_for(is_reply)
    assert _count(runtime.ctx, KpiSnapshot) == 1
    # A forged copy does not poison the memory of a real request.
    forged = SlackSender(server.url, secret="wrong", fake=fake_slack)
    fresh = slack.command_body("/kpi", "record coverage 73")
    stamp = int(time.time())
    assert forged.send(fresh, timestamp=stamp).status_code == 401
    assert slack.send(fresh, timestamp=stamp).status_code == 200
    forged.close()


@pytest.mark.parametrize("body, content_type, status", [
    (b"{not json", "application/json", 400),  # answered with a sentence, not a stack trace
    (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded", 401),  # not UTF-8: no valid signature
    (b"", "application/x-www-form-urlencoded", 404),  # signed, but nothing Bolt handles
])
def test_garbage_at_the_slack_url_gets_a_clear_answer(runtime, server, slack, body, content_type, status):
    response = httpx.post(server.url + "/slack/events", content=body,
                          headers={**slack.headers(body.decode("latin-1")), "Content-Type": content_type})
    assert response.status_code == status
    if status == 400:
        assert "not a Slack request" in response.text
    assert _count(runtime.ctx, QueuedTask) == 0


@pytest.mark.parametrize("path", ["/slack/events", "/slack/oauth_redirect", "/healthz", "/no/such/route"])
def test_oversized_bodies_are_refused_on_every_route(runtime, server, slack, path):
    big = b"text=" + b"a" * (runtime.settings.aurum_max_body_bytes + 1)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    announced = httpx.post(server.url + path, content=big, headers=form)
    assert announced.status_code == 413

    def chunks():  # no Content-Length: the limit counts what streams in
        for _ in range(12):
            yield b"a" * 100_000

    streamed = httpx.post(server.url + path, content=chunks())
    assert streamed.status_code == 413
    assert _count(runtime.ctx, KpiSnapshot) == 0 and _count(runtime.ctx, QueuedTask) == 0


def test_a_request_from_another_workspace_is_refused_in_single_token_mode(runtime, server, slack, fake_slack):
    slack.command("/kpi", "record coverage 74")  # the token's own workspace (learnt from auth.test): accepted
    fake_slack.wait_for(is_reply)
    other = SlackSender(server.url, team_id="T0OTHER", fake=fake_slack)
    answer = other.event({"type": "app_home_opened", "user": "U1", "tab": "home"})
    assert answer.status_code == 200 and "install" in answer.text.lower()
    other.command("/kpi", "record coverage 1")
    with runtime.ctx.reading() as session:
        teams = set(session.scalars(select(KpiSnapshot.team_id)))
    assert teams == {fake_slack.team_id}
    other.close()


@pytest.fixture
def hostile_config(tmp_path):
    path = tmp_path / "team.yml"
    path.write_text(
        "kpis:\n"
        "  test_coverage_percentage:\n"
        "    name: 'Coverage <!channel> <https://evil.example|click>'\n"
        "    definition: 'Lines hit <@U123> <!here>'\n"
        "    stretch_label: 'moon <!everyone>'\n"
        "    stretch: 99\n"
        "    source: '<https://evil.example|click>'\n"
        "  hostile_metric:\n"
        "    name: 'Hostile <@U123>'\n"
        "    category: '<!channel> category'\n"
        "    unit: count\n"
        "    direction: higher\n"
        "    aliases: [hostile]\n",
        encoding="utf-8")
    return path


def _seen_by_slack(fake_slack) -> str:
    return "\n".join(json.dumps(call.params, ensure_ascii=False) for call in fake_slack.calls
                     if call.method.startswith(("chat.", "files.completeUploadExternal")))


def test_injection_strings_are_neutralised_everywhere(settings, hostile_config, fake_slack):
    runtime = build_web(settings.model_copy(update={"aurum_config": hostile_config}), work_process=False)
    with running(create_web_app(runtime)) as srv:
        sender = SlackSender(srv.url, team_id=fake_slack.team_id, fake=fake_slack)
        acks = []
        for text in ["", "coverage", "coverage help", "dashboard", "record coverage 82", "hostile",
                     "record coverage <!channel>", "<@U123>", "record coverage 1 at <https://evil.example|click>",
                     "coverage <!here>"]:
            acks.append(sender.command("/kpi", text, channel="C0SEC").text)
        wait_until(lambda: len(replies(fake_slack)) >= 3
                   and len(fake_slack.calls_to("chat.postMessage")) >= 3, message="the replies")
        runtime.worker().drain()
        sender.close()
    runtime.shutdown()
    seen = _seen_by_slack(fake_slack) + "\n".join(acks)
    for raw in INJECTIONS:
        assert raw not in seen, f"{raw} reached Slack unescaped"
    assert "&lt;!channel&gt;" in seen and "&lt;@U123&gt;" in seen  # shown, harmlessly


def test_block_kit_of_hostile_names_still_validates(settings, hostile_config):
    from slack_sdk.models.blocks import Block

    from aurum.kpis import blocks
    from aurum.kpis.catalog import load_catalog_file
    from aurum.kpis.status import Point, evaluate

    catalog = load_catalog_file(hostile_config)
    kpi = catalog.get("test_coverage_percentage")
    now = datetime.now(UTC)
    status = evaluate(kpi, Point(at=now, value=80.0, source="<!channel>"), None, now, 1)
    for built in (blocks.kpi_card(status, "30d", now, settings.tz), blocks.kpi_help(catalog, kpi),
                  blocks.catalog_overview(catalog, {kpi.key: status}), blocks.recorded(status, now, settings.tz)):
        for block in built:
            Block.parse(block).to_dict()
        assert not any(raw in json.dumps(built) for raw in INJECTIONS)


def _assert_clean(logs: str, secrets: dict[str, str]) -> None:
    assert '"level": "debug"' in logs and "request_id" in logs  # the capture really saw everything
    for name, value in secrets.items():
        assert value not in logs, f"{name} appears in the logs"
    assert not re.search(r"xox[bpe]-[0-9A-Za-z]", logs), "a Slack token appears in the logs"
    assert all(json.loads(line) for line in logs.splitlines() if line.startswith("{"))


def test_secrets_never_reach_the_logs(tmp_path, database_url, fake_slack):
    secrets = {"slack_bot_token": "xoxb-1234-5678-SECRETBOTTOKEN", "slack_signing_secret": SIGNING_SECRET + "-x9"}
    proc = serve_process(tmp_path, "serve", database_url=database_url, slack_api_url=fake_slack.base_url,
                         aurum_log_level="DEBUG", **secrets)
    with proc:
        sender = SlackSender(proc.url, secret=secrets["slack_signing_secret"], team_id=fake_slack.team_id,
                             fake=fake_slack)
        fake_slack.fail_next("response_url", status=500)
        sender.command("/kpi", "record coverage 81")
        sender.command("/kpi", "record coverage nonsense")
        sender.command("/kpi", "latency")
        with closing(SlackSender(proc.url, secret="bad-secret", fake=fake_slack)) as forged:
            forged.command("/kpi", "latency")  # 401
        sender.send(sender.command_body("/kpi", "x"), timestamp=int(time.time()) - 3600)  # replay window
        httpx.post(proc.url + "/slack/events", content=b"x" * 2_000_000)  # 413
        sender.send("payload=%7Bnot-json", content_type="application/x-www-form-urlencoded")
        httpx.get(proc.url + "/metrics")
        wait_until(lambda: replies(fake_slack, failed=False)
                   and fake_slack.calls_to("chat.postMessage"), message="the replies")
        sender.close()
    _assert_clean(proc.logs(), secrets)


def test_secrets_never_reach_the_logs_in_oauth_mode(tmp_path, database_url, fake_slack):
    secrets = {"slack_client_secret": "client-secret-SHOULD-NOT-LEAK", "slack_signing_secret": SIGNING_SECRET + "-y"}
    proc = serve_process(tmp_path, "serve", database_url=database_url, slack_api_url=fake_slack.base_url,
                         aurum_log_level="DEBUG", slack_client_id=CLIENT_ID, **secrets)
    with proc:
        install_workspace(proc.url, fake_slack, "T0AAA")  # the token exchange: its answer holds the bot token
        sender = SlackSender(proc.url, secret=secrets["slack_signing_secret"], team_id="T0AAA", fake=fake_slack)
        sender.command("/kpi", "record coverage 81")
        sender.command("/kpi", "coverage")  # a public card: a Web API call made with the installed bot token
        with closing(SlackSender(proc.url, secret=secrets["slack_signing_secret"], team_id="T0NOPE",
                                 fake=fake_slack)) as stranger:
            stranger.command("/kpi", "help")
        wait_until(lambda: replies(fake_slack) and fake_slack.calls_to("chat.postMessage"),
                   message="the reply and the card")
        sender.close()
    bot_token = next(c.token for c in fake_slack.calls if c.token.startswith("xoxb-"))
    _assert_clean(proc.logs(), {**secrets, "the installed bot token": bot_token})


def test_redacting_filter_scrubs_tokens_in_messages_arguments_and_extras():
    import logging

    from bot.logs import REDACTED, RedactingFilter

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "token %s and %s", ("xoxb-111-222-abc", "s3cr3t-value"),
                               None)
    record.detail = "body: access_token=xoxp-999-888-zzz"
    RedactingFilter(["s3cr3t-value"]).filter(record)
    text = record.getMessage() + record.detail
    assert "xoxb-111" not in text and "s3cr3t" not in text and "xoxp-999" not in text and REDACTED in text


def test_tokens_are_hashed_and_compared_in_constant_time(ctx, monkeypatch):
    import hmac

    from aurum.core import tokens
    from storage.api_tokens import ApiToken

    with ctx.transaction() as session:
        created = tokens.create(session, "T0AAA", "ci", scopes="push")
    with ctx.reading() as session:
        stored = session.get(ApiToken, created.token.id)
    assert created.secret.startswith("aur_") and len(created.secret) > 40
    assert created.secret not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64
    compared = []
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: compared.append((a, b)) or a == b)
    with ctx.transaction() as session:
        assert tokens.verify(session, created.secret, scope="push", now=ctx.now()).team_id == "T0AAA"
        assert tokens.verify(session, created.secret, scope="admin") is None
        assert tokens.verify(session, created.secret[:-1] + "x") is None
        assert tokens.verify(session, tokens.from_header(f"Bearer {created.secret}")) is not None
        tokens.revoke(session, created.token.id, ctx.now())
    assert compared, "the comparison goes through hmac.compare_digest"
    with ctx.reading() as session:
        assert tokens.verify(session, created.secret) is None


def test_serve_refuses_to_start_without_a_signing_secret(tmp_path, database_url):
    proc = BotProcess(["serve", "--port", "1"], process_env(database_url=database_url, slack_bot_token="xoxb-1"),
                      tmp_path / "serve.log")
    proc.start(wait=False)
    assert proc.process.wait(30) != 0
    assert "SLACK_SIGNING_SECRET" in proc.logs()
