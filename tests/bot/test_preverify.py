"""Before the signature is verified nothing is parsed, stored or logged beyond one line (bot/slack_endpoint.py)."""

from __future__ import annotations

import json
import os
import time
from urllib.parse import urlencode

import anyio
import httpx
import pytest
import time_machine
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.compose import build_web
from bot.metrics import BotMetrics
from bot.slack_endpoint import SlackEndpoint
from storage.queue import QueuedTask
from tests.bot.test_security import VECTOR_BODY, VECTOR_SECRET, VECTOR_SIGNATURE, VECTOR_TIMESTAMP
from tests.support import BOT_TOKEN, SIGNING_SECRET, memory_mb, serve_process

FORM = "application/x-www-form-urlencoded"


async def _not_here(scope, receive, send) -> None:
    raise AssertionError(f"{scope['path']} went past the Slack endpoint")


async def _post(app, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """One POST /slack/events through the ASGI app, as uvicorn would hand it over."""
    sent: list[dict] = []
    delivered = False

    async def receive():
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "path": "/slack/events", "method": "POST", "query_string": b"",
             "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]}
    await app(scope, receive, send)
    start, *bodies = sent
    return (start["status"], {k.decode(): v.decode() for k, v in start["headers"]},
            b"".join(m.get("body", b"") for m in bodies))


def _vector_headers(signature: str = VECTOR_SIGNATURE) -> dict[str, str]:
    return {"X-Slack-Request-Timestamp": VECTOR_TIMESTAMP, "X-Slack-Signature": signature, "Content-Type": FORM}


def _one_byte_changes(body: bytes):
    """Every byte of the body changed in its lowest bit, in its case bit, and left out; and one byte added."""
    for position in range(len(body)):
        for flip in (0x01, 0x20):
            yield body[:position] + bytes([body[position] ^ flip]) + body[position + 1:]
        yield body[:position] + body[position + 1:]
    yield body + b"&"


@pytest.fixture
def vector_endpoint(settings):
    runtime = build_web(settings.model_copy(update={"slack_signing_secret": SecretStr(VECTOR_SECRET)}),
                        work_process=False)
    yield SlackEndpoint(_not_here, runtime, BotMetrics(runtime.ctx))
    runtime.shutdown()


def test_slacks_vector_is_accepted_once_and_every_one_byte_change_is_refused(vector_endpoint):
    body = VECTOR_BODY.encode()
    tampered = list(_one_byte_changes(body))

    async def drive():
        first = await _post(vector_endpoint, body, _vector_headers())
        changed = [await _post(vector_endpoint, other, _vector_headers()) for other in tampered]
        again = await _post(vector_endpoint, body, _vector_headers())
        return first, changed, again

    with time_machine.travel(int(VECTOR_TIMESTAMP) + 10, tick=False):
        first, changed, again = anyio.run(drive)
    # verified, then handed to Bolt, which answers that /webhook-collect is none of the bot's commands
    assert first[0] == 200 and b"Aurum has no command `/webhook-collect`" in first[2]
    assert len(changed) == 3 * len(body) + 1 == 1087
    assert [status for status, _, _ in changed] == [401] * len(changed), "a tampered body passed"
    assert all(answer.startswith(b"not a Slack request") for _, _, answer in changed)
    assert again[0] == 200 and again[1].get("x-aurum-replay") == "ignored"  # answered, not run again
    assert len(vector_endpoint.replays) == 1  # only the verified request is remembered


def test_the_vector_outside_its_five_minutes_is_refused(vector_endpoint):
    for moment in (int(VECTOR_TIMESTAMP) - 301, int(VECTOR_TIMESTAMP) + 301):
        with time_machine.travel(moment, tick=False):
            status, _, answer = anyio.run(_post, vector_endpoint, VECTOR_BODY.encode(), _vector_headers())
        assert status == 401 and b"5 minutes" in answer
    assert len(vector_endpoint.replays) == 0


@pytest.mark.parametrize("headers", [
    {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": VECTOR_SIGNATURE},
    {"X-Slack-Request-Timestamp": "1531420618.5", "X-Slack-Signature": VECTOR_SIGNATURE},
    {"X-Slack-Request-Timestamp": "-1531420618", "X-Slack-Signature": VECTOR_SIGNATURE},
    {"X-Slack-Request-Timestamp": "9" * 40, "X-Slack-Signature": VECTOR_SIGNATURE},
    {"X-Slack-Signature": VECTOR_SIGNATURE},
    {"X-Slack-Request-Timestamp": VECTOR_TIMESTAMP},
    {"X-Slack-Request-Timestamp": VECTOR_TIMESTAMP, "X-Slack-Signature": "v0=" + "a" * 8000},
    {"X-Slack-Request-Timestamp": VECTOR_TIMESTAMP, "X-Slack-Signature": VECTOR_SIGNATURE.upper()},
    {"X-Slack-Request-Timestamp": VECTOR_TIMESTAMP, "X-Slack-Signature": "v1=" + VECTOR_SIGNATURE[3:]},
    {"X-Slack-Request-Timestamp": VECTOR_TIMESTAMP, "X-Slack-Signature": VECTOR_SIGNATURE + " "},
])
def test_malformed_signing_headers_are_refused_before_anything_is_parsed(vector_endpoint, headers, monkeypatch,
                                                                          caplog):
    import bot.slack_endpoint

    monkeypatch.setattr(bot.slack_endpoint, "parse_body", lambda *a: pytest.fail("parsed before verification"))
    with time_machine.travel(int(VECTOR_TIMESTAMP) + 10, tick=False):
        status, _, answer = anyio.run(_post, vector_endpoint, VECTOR_BODY.encode(), {**headers, "Content-Type": FORM})
    assert status == 401 and answer.startswith(b"not a Slack request: ")
    assert len(caplog.records) == 1 and caplog.records[0].exc_info is None  # one line, no traceback
    assert len(vector_endpoint.replays) == 0


ODD_SIGNED_BODIES = [
    ("payload=%5B%5D", FORM),  # payload=[]
    ("payload=null", FORM),
    ("payload=%22text%22", FORM),
    ("payload=%7Bnot-json", FORM),
    ('[{"type": "event_callback"}]', "application/json"),
    ('"a JSON string"', "application/json"),
    ("null", "application/json"),
    ("payload=" + json.dumps({"type": "block_actions", "actions": []}), FORM),
    ("payload=" + json.dumps({"type": "block_actions", "actions": [], "user": {"id": "U0USER"}}), FORM),
    ("payload=" + json.dumps({"type": "block_actions", "actions": [{}], "user": {"id": "U0USER"}}), FORM),
    ("payload=" + json.dumps({"type": "block_actions", "actions": [None], "user": {"id": "U0USER"}}), FORM),
    ("payload=" + json.dumps({"type": "block_actions", "team": "T", "user": "U", "actions": "x"}), FORM),
    ("payload=" + json.dumps({"type": "view_submission", "user": {"id": "U0USER"}}), FORM),
    ("payload=" + json.dumps({"type": "view_submission", "user": {"id": "U0USER"}, "view": {}}), FORM),
    ("payload=" + json.dumps({"type": "view_closed", "view": None}), FORM),
    ("payload=" + json.dumps({"type": "shortcut", "callback_id": None}), FORM),
    ('{"type": "event_callback"}', "application/json"),
    ('{"type": "event_callback", "event": []}', "application/json"),
    ('{"type": "event_callback", "event": {"type": "app_home_opened"}}', "application/json"),
    ('{"type": "url_verification"}', "application/json"),
    ("command=%2Fkpi", FORM),
    ("command=%2Fkpi&text=record+coverage+1&user_id=&channel_id=", FORM),
]


@pytest.mark.parametrize("body, content_type", ODD_SIGNED_BODIES)
def test_signed_but_odd_bodies_never_answer_500(runtime, server, slack, body, content_type, caplog):
    if "team" not in body and body.startswith("payload={"):  # in the token's workspace, so it reaches the listeners
        payload = json.loads(body.removeprefix("payload="))
        body = urlencode({"payload": json.dumps({**payload, "team": {"id": slack.team_id}})})
    response = slack.send(body, content_type=content_type)
    assert response.status_code < 500, response.text
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


def test_ssl_check_is_answered_200_without_running_anything(runtime, server, slack, fake_slack, caplog):
    calls = len(fake_slack.calls)  # auth.test at start-up
    for body in ("ssl_check=1&token=legacy-token", "token=legacy-token&ssl_check=1"):
        response = httpx.post(server.url + "/slack/events", content=body, headers={"Content-Type": FORM})
        assert response.status_code == 200 and response.text == ""
    assert not caplog.records and len(fake_slack.calls) == calls
    with runtime.ctx.reading() as session:
        assert session.scalar(select(func.count()).select_from(QueuedTask)) == 0
    # Only Slack's short form: a command that also says ssl_check=1 is verified like any other request.
    unsigned = urlencode({"ssl_check": "1", "command": "/kpi", "text": "record coverage 1" + " " * 300})
    assert httpx.post(server.url + "/slack/events", content=unsigned,
                      headers={"Content-Type": FORM}).status_code == 401


def _flood():
    """3,000 requests no signature verifies, of every shape seen from outside, each with a reason to be refused."""
    now = str(int(time.time()))
    huge = b"text=" + b"a" * 600_000  # within AURUM_MAX_BODY_BYTES (1 MB)
    shapes = [
        (b"payload=%5B%5D", {"X-Slack-Request-Timestamp": "nope", "X-Slack-Signature": "v0=" + "f" * 8192}),
        (b"payload=null", {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=" + "0" * 8192}),
        (b"[1, 2, 3]", {"X-Slack-Request-Timestamp": "12abc", "Content-Type": "application/json"}),
        (b'"a string"', {"Content-Type": "application/json"}),
        (b"payload=%22text%22", {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=" + "ab" * 32}),
        (b"command=%2Fkpi&text=help", {"X-Slack-Request-Timestamp": str(int(now) - 3600),
                                       "X-Slack-Signature": "v0=" + "cd" * 32}),
        (b"payload=" + b"%7B" * 2000, {"X-Slack-Request-Timestamp": "9" * 4000}),
    ]
    for i in range(3000):
        body, headers = shapes[i % len(shapes)]
        if i % 100 == 99:
            body = huge
        yield body, {"Content-Type": FORM, **headers, "X-Slack-Signature": headers.get("X-Slack-Signature", "")
                     or os.urandom(16).hex()}


def test_a_flood_of_unsigned_requests_costs_no_memory_and_little_log(tmp_path, database_url, fake_slack):
    """`aurum serve` as a real process. The web process (the one answering HTTP) is measured: its work process never
    sees a request, and grows by itself as it finishes starting (imports, its first jobs)."""
    proc = serve_process(tmp_path, "serve", database_url=database_url, slack_api_url=fake_slack.base_url,
                         slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET)
    with proc, httpx.Client(base_url=proc.url, timeout=30) as client:
        web = proc.process.pid
        requests = list(_flood())
        for body, headers in requests[:300]:  # warm-up: the first requests of a process fill its caches
            client.post("/slack/events", content=body, headers=headers)
        before, tree_before = memory_mb(web)[web], sum(memory_mb(web).values())
        log_before = proc.log_path.stat().st_size
        statuses = [client.post("/slack/events", content=body, headers=headers).status_code
                    for body, headers in requests]
        after, tree_after = memory_mb(web)[web], sum(memory_mb(web).values())
        log_after = proc.log_path.stat().st_size
        logs = proc.logs()
    grown_mb, log_kb = after - before, (log_after - log_before) / 1024
    print(f"\nflood: {len(statuses)} requests ({sum(len(b) for b, _ in requests) / 1e6:.1f} MB of bodies), statuses "
          f"{sorted(set(statuses))}, web process resident {before:.1f} -> {after:.1f} MB ({grown_mb:+.2f} MB; with "
          f"its work process {tree_before:.1f} -> {tree_after:.1f} MB), log +{log_kb:.0f} kB "
          f"({(log_after - log_before) / len(statuses):.0f} bytes a request), tracebacks {logs.count('Traceback')}")
    assert len(statuses) == 3000 and set(statuses) == {401}
    assert grown_mb < 5 and log_kb < 1024
    assert logs.count("Traceback") == 0 and '"exception"' not in logs


@pytest.mark.parametrize("action_id", ["survey_take", "survey_no_reminder", "kudos_suggest_confirm",
                                       "kudos_suggest_user", "live_dashboard_stop", "alert_ack"])
@pytest.mark.parametrize("extra", [{}, {"value": None, "selected_user": None}, {"value": "[]"}])
def test_a_signed_press_of_each_button_missing_its_fields_never_answers_500(runtime, server, slack, fake_slack,
                                                                            action_id, extra):
    payload = {"type": "block_actions", "user": {"id": "U0USER"}, "actions": [{"action_id": action_id, **extra}]}
    response = slack.interaction(payload)
    assert response.status_code < 500, response.text
    runtime.worker().drain()  # the work after the ack: its errors are told to the person, not raised


@pytest.mark.parametrize("view", [{"callback_id": "survey_submit"}, {"callback_id": "survey_submit", "state": None},
                                  {"callback_id": "survey_submit", "private_metadata": "{", "state": {"values": []}}])
def test_a_signed_odd_survey_submission_never_answers_500(runtime, server, slack, view):
    response = slack.interaction({"type": "view_submission", "user": {"id": "U0USER"}, "view": view})
    assert response.status_code < 500, response.text
    runtime.worker().drain()
