"""Test support: databases, a running `aurum serve` on a free port, and signed Slack-shaped requests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import create_engine, func, select, text

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
POSTGRES_ENV = "AURUM_TEST_POSTGRES_URL"


def test_database_url(tmp_path) -> str:
    """SQLite in the test's folder, or a fresh PostgreSQL database when AURUM_TEST_DB=postgres."""
    if os.environ.get("AURUM_TEST_DB") == "postgres":
        return fresh_postgres_database()
    return f"sqlite:///{tmp_path / 'aurum.db'}"


def fresh_postgres_database() -> str:
    server = os.environ.get(POSTGRES_ENV, "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    name = f"aurum_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.rsplit("/", 1)[0] + "/" + name


class RunningServer:
    """`aurum serve`'s ASGI app under uvicorn in a thread, on a port the OS picks."""

    def __init__(self, asgi_app: Any):
        self.server = uvicorn.Server(uvicorn.Config(asgi_app, host="127.0.0.1", port=0, log_config=None,
                                                    access_log=False, lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> RunningServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.01)
        return self

    @property
    def url(self) -> str:
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


@contextmanager
def running(asgi_app: Any) -> Iterator[RunningServer]:
    with RunningServer(asgi_app) as server:
        yield server


class SlackSender:
    """Sends signed requests shaped like Slack's to the bot's /slack/events.

    With ``fake`` (a FakeSlack), the trigger ids and response URLs in them are issued by the fake, as Slack's are:
    views.open takes each trigger id once within 3 s, and the response URLs are served (and recorded) by the fake.
    Without, they are made up (a response URL nobody serves)."""

    def __init__(self, base_url: str, secret: str = SIGNING_SECRET, team_id: str = "T0001", fake: Any = None):
        self.url = base_url.rstrip("/") + "/slack/events"
        self.verifier = SignatureVerifier(secret)
        self.team_id = team_id
        self.fake = fake
        self.http = httpx.Client(timeout=10)

    def trigger_id(self) -> str:
        return self.fake.trigger_id() if self.fake is not None else f"trigger.{uuid.uuid4().hex}"

    def response_url(self, channel: str, user: str) -> str:
        if self.fake is not None:
            url = self.fake.response_url(channel, user)
            RESPONSE_URL_TEAMS[url.rsplit("/", 1)[-1]] = self.team_id
            return url
        return "https://hooks.slack.invalid/commands/1"

    def headers(self, body: str, timestamp: int | None = None, content_type: str | None = None) -> dict[str, str]:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        return {
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": self.verifier.generate_signature(timestamp=ts, body=body),
            "Content-Type": content_type or "application/x-www-form-urlencoded",
        }

    def send(self, body: str, content_type: str | None = None, timestamp: int | None = None,
             headers: dict[str, str] | None = None) -> httpx.Response:
        return self.http.post(self.url, content=body.encode(),
                              headers=headers or self.headers(body, timestamp, content_type))

    def command_body(self, command: str, text: str = "", user: str = "U0USER", channel: str = "C0CHAN",
                     team_id: str | None = None) -> str:
        return urlencode({
            "token": "legacy", "team_id": team_id or self.team_id, "team_domain": "test", "channel_id": channel,
            "channel_name": "general", "user_id": user, "user_name": "tester", "command": command, "text": text,
            "api_app_id": "A0001", "response_url": self.response_url(channel, user),
            "trigger_id": self.trigger_id(),
        })

    def command(self, command: str, text: str = "", **kwargs: Any) -> httpx.Response:
        return self.send(self.command_body(command, text, **kwargs))

    def interaction(self, payload: dict[str, Any]) -> httpx.Response:
        """Send an interaction payload. With a fake: a `trigger_id` (Slack sends one with block actions, shortcuts
        and view submissions) and, for actions on a message, a `response_url`, both issued by the fake, replace
        whatever the test put there."""
        payload.setdefault("team", {"id": self.team_id})
        if self.fake is not None:
            if payload.get("type") in ("block_actions", "shortcut", "message_action", "view_submission") \
                    or "trigger_id" in payload:
                payload["trigger_id"] = self.fake.trigger_id()
            channel = (payload.get("channel") or {}).get("id") or (payload.get("container") or {}).get("channel_id")
            if channel and ("response_url" in payload or payload.get("type") in ("block_actions", "message_action")):
                payload["response_url"] = self.response_url(channel, (payload.get("user") or {}).get("id", ""))
        return self.send(urlencode({"payload": json.dumps(payload)}))

    def event(self, event: dict[str, Any], team_id: str | None = None) -> httpx.Response:
        body = json.dumps({"token": "legacy", "team_id": team_id or self.team_id, "api_app_id": "A0001",
                           "type": "event_callback", "event": event, "event_id": f"Ev{uuid.uuid4().hex[:10]}",
                           "event_time": int(time.time())})
        return self.send(body, content_type="application/json")

    def close(self) -> None:
        self.http.close()


def assert_valid_blocks(blocks: list[dict[str, Any]], limit: int = 50) -> None:
    """Every block parses and serialises with slack_sdk's models (which check Slack's limits); at most `limit`."""
    from slack_sdk.models.blocks import Block

    assert len(blocks) <= limit, f"{len(blocks)} blocks, Slack allows {limit}"
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, f"unknown block type: {block}"
        assert parsed.to_dict()["type"] == block["type"]


def assert_valid_view(view: dict[str, Any]) -> None:
    from slack_sdk.models.views import View

    View(**view).to_dict()
    assert_valid_blocks(view.get("blocks", []), limit=100)


CLIENT_ID = "1111.2222"
CLIENT_SECRET = "test-client-secret-0123456789"


def install_workspace(base_url: str, fake: Any, team_id: str, team_name: str = "") -> httpx.Response:
    """Go through the OAuth install like a browser: /slack/install, Slack's consent (the fake's code), redirect."""
    with httpx.Client(base_url=base_url, timeout=10) as browser:
        page = browser.get("/slack/install")
        page.raise_for_status()
        cookie = page.headers["set-cookie"]  # Secure: a browser sends it back over HTTPS only, so do it by hand
        state = cookie.split(";", 1)[0].split("=", 1)[1]
        assert f"state={state}" in page.text, "the install page links to Slack with the state"
        return browser.get("/slack/oauth_redirect", params={"code": fake.oauth_code(team_id, team_name),
                                                            "state": state},
                           headers={"Cookie": f"slack-app-oauth-state={state}"})


# How the bot answers a person: by the request's response_url, or (no response_url, or it expired) ephemerally.
REPLY_METHODS = ("response_url", "chat.postEphemeral")


def is_reply(call: Any) -> bool:
    """A call to the fake that answers one person: a response_url POST or chat.postEphemeral."""
    return call.method in REPLY_METHODS and (call.method != "response_url" or
                                             call.params.get("response_type", "ephemeral") == "ephemeral")


def replies(fake: Any, failed: bool | None = None) -> list[Any]:
    """The fake's calls that answer one person (see is_reply), oldest first."""
    return [c for c in fake.calls if is_reply(c) and (failed is None or c.failed == failed)]


# The workspace of each response_url a SlackSender put in a request (Slack's URLs name it; the fake's do not).
RESPONSE_URL_TEAMS: dict[str, str] = {}


def token_team(call: Any) -> str:
    """The workspace whose bot token made a call to the fake (tokens look like xoxb-<team>-<n>); for a response_url
    post, the workspace of the request the URL came with."""
    if call.method == "response_url":
        return RESPONSE_URL_TEAMS.get(str(call.params.get("_url_id")), "")
    return call.token.removeprefix("xoxb-").split("-", 1)[0] if call.token.startswith("xoxb-") else ""


ROOT = Path(__file__).resolve().parent.parent
SETTING_PREFIXES = ("SLACK_", "AURUM_", "DATABASE_URL", "PORT", "WEB_CONCURRENCY")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants (`aurum serve`'s work process, uvicorn's worker processes)."""
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):  # a thread that ended meanwhile
            children += [int(c) for c in (task / "children").read_text().split()]
    return [pid, *(p for child in children for p in process_tree(child))]


def memory_mb(pid: int, field: str = "Rss") -> dict[int, float]:
    """Memory of each process of the tree in MB: resident (Rss), or proportional (Pss: pages shared between the
    processes, such as the same shared libraries, counted once in all)."""
    sizes = {}
    for member in process_tree(pid):
        with contextlib.suppress(FileNotFoundError):  # a process that ended meanwhile
            for line in Path(f"/proc/{member}/smaps_rollup").read_text().splitlines():
                if line.startswith(f"{field}:"):
                    sizes[member] = int(line.split()[1]) / 1024
    return sizes


def process_env(**settings: str) -> dict[str, str]:
    """The environment for a `python -m bot.cli` subprocess: ours without any bot setting, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SETTING_PREFIXES)}
    env.update({k.upper(): str(v) for k, v in settings.items()})
    env["PYTHONPATH"] = str(ROOT)
    return env


class BotProcess:
    """`python -m bot.cli <args>` as a real subprocess (stderr, i.e. the JSON logs, kept in a file)."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path, port: int | None = None):
        self.args, self.env, self.log_path, self.port = args, env, log_path, port
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> BotProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen([sys.executable, "-m", "bot.cli", *self.args], cwd=ROOT, env=self.env,
                                        stdout=log, stderr=subprocess.STDOUT)
        log.close()
        if wait and self.port:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.args} exited with {self.process.returncode}:\n{self.logs()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.args} did not get ready:\n{self.logs()[-3000:]}")

    def kill(self) -> None:
        """kill -9: no shutdown, no cleanup, exactly like a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self, timeout: float = 20) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode

    def logs(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> BotProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_process(tmp_path: Path, name: str, **settings: str) -> BotProcess:
    port = free_port()
    return BotProcess(["serve", "--port", str(port), "--host", "127.0.0.1"], process_env(**settings),
                      tmp_path / f"{name}.log", port=port)


def wait_until(condition: Any, timeout: float = 30, message: str = "condition") -> Any:
    """Poll `condition()` until it is truthy (returns it) or fail after `timeout` seconds, or as soon as a running
    FakeSlack saw a call real Slack refuses (the test fails for it anyway: no need to wait)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        assert_no_slack_violations(f"waiting for {message}")
        time.sleep(0.05)


def assert_no_slack_violations(what: str = "") -> None:
    """Fail now if a running FakeSlack has recorded violations (they stay recorded for the report)."""
    from tests.fakes import slack_api

    seen = [v for fake in list(slack_api.STARTED) for v in fake.violations]
    if seen:
        raise AssertionError(f"the fake Slack saw calls real Slack refuses{' while ' + what if what else ''}:\n  "
                             + "\n  ".join(seen))


def queue_burst(ctx, team_id: str, posts: int = 60, replies: int = 12) -> list[str]:
    """Queue posts to three channels and replies in the threads of the first ones; returns their keys."""
    from aurum.core import outbox

    keys = []
    with ctx.transaction() as session:
        for i in range(posts):
            keys.append(outbox.post(session, team_id, ["#burst", "C0TWO", "C0THREE"][i % 3], f"post {i}",
                                    key=f"burst:{i}"))
        for i in range(replies):
            keys.append(outbox.post(session, team_id, "", f"reply {i}", key=f"reply:{i}", thread_key=f"burst:{i}"))
    return keys


def statuses(ctx, kinds: tuple[str, ...] | None = None) -> Counter:
    """Queued tasks by status: of the outbox's kinds, or of `kinds`."""
    from aurum.core import outbox
    from storage.queue import QueuedTask

    with ctx.reading() as session:
        return Counter(session.scalars(select(QueuedTask.status)
                                       .where(QueuedTask.kind.in_(kinds or outbox.KINDS))))


def settled(ctx, timeout: float = 90) -> None:
    """Wait until no queued task (a request's work, a delivery, an alert task) is waiting or running: everything
    asked so far has reached Slack or died."""
    from storage.queue import QueuedTask

    def idle() -> bool:
        with ctx.reading() as session:
            return not session.scalar(select(func.count()).select_from(QueuedTask).where(
                QueuedTask.status.in_(("pending", "sending"))))
    wait_until(idle, timeout=timeout, message="the queued work and its deliveries")


UNKNOWN_OUTCOMES = ("after_effect", "timeout", "drop")  # faults after which the bot cannot know whether a post landed


def assert_each_delivered(fake: Any, keys: list[str], in_flight: int = 0) -> None:
    """Slack shows every outbox key (carried in the message metadata) at least once, and a key twice only for a
    post whose outcome the bot could not know: a call the fake answered with an unknown-outcome fault, or one of
    the `in_flight` calls of a process killed mid-call (aurum.core.outbox: such a post is made again)."""
    seen = Counter((m.get("metadata") or {}).get("event_payload", {}).get("key") for m in fake.delivered_posts())
    assert set(seen) == set(keys), f"missing: {sorted(set(keys) - set(seen))[:10]}"
    duplicates = sum(n - 1 for n in seen.values())
    unknown = sum(1 for c in fake.calls_to("chat.postMessage") if c.failed and c.fault in UNKNOWN_OUTCOMES)
    assert duplicates <= unknown + in_flight, f"{duplicates} duplicates for {unknown} unknown outcomes"


def chart_alt_texts(fake: Any) -> list[tuple[str, str]]:
    """(filename, alt_txt) of every PNG the bot uploaded to the fake Slack, oldest first."""
    return [(str(c.params.get("filename")), c.params.get("alt_txt") or "") for c in fake.calls_to(
        "files.getUploadURLExternal") if str(c.params.get("filename", "")).endswith(".png")]
