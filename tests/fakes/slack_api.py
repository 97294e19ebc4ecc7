"""A local fake of the Slack Web API for tests, as strict as real Slack.

Point a real ``slack_sdk.WebClient(token="xoxb-test", base_url=fake.base_url)``
at a running :class:`FakeSlack`; it records every call, keeps messages and
files in memory and can inject faults (429, 5xx, timeouts, dropped
connections, "side effect done but answer lost", random chaos, rate limits).

Strictness (see tests/fakes/slack_spec.py for the sources):
- every call is checked against Slack's Web API description: an unknown method answers ``unknown_method``, an
  argument Slack does not know is ignored (as Slack does); both are recorded in ``fake.violations``, and
  tests/conftest.py fails the test that caused them;
- the bot token holds exactly the bot scopes of manifest.yml (``scopes=`` overrides): a method needing another
  scope answers ``missing_scope`` (a violation too);
- conversations exist only once created (``add_channel``, ``add_dm``, ``conversations.open``, or the channels
  the test helpers use, PRESET_CHANNELS) and have a bot-membership flag; posting where Slack would refuse is refused;
- ``views.open``/``views.push`` take only trigger ids the fake issued (``trigger_id()``), once, within 3 s;
- ``response_url()`` gives URLs served by the fake (5 uses, 30 minutes), recorded in ``responses``;
- per-method rate-limit tiers per workspace (HTTP 429 + Retry-After), with a burst of one minute's allowance.

Note: slack_sdk's ``files_upload_v2`` POSTs the *raw* file bytes to the upload
URL (urllib's default ``application/x-www-form-urlencoded`` content type, no
auth header); multipart uploads are accepted as well.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import itertools
import json
import math
import random
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from tests.fakes import slack_spec

JSON_FIELDS = ("blocks", "attachments", "metadata", "view", "files")
CHAOS_MODES = ("429", "500", "timeout", "drop")
Reply = tuple[int, dict[str, str], bytes]
TRIGGER_TTL = 3.0  # seconds: https://api.slack.com/interactivity/handling#modal_responses
RESPONSE_URL_USES, RESPONSE_URL_TTL = 5, 30 * 60  # https://api.slack.com/interactivity/handling#message_responses
# What a response_url POST may carry: https://api.slack.com/interactivity/handling#message_responses
RESPONSE_FIELDS = frozenset({"text", "blocks", "attachments", "response_type", "replace_original", "delete_original",
                             "thread_ts", "mrkdwn", "unfurl_links", "unfurl_media", "metadata"})
# Channels the test helpers use without creating them (tests/support.py SlackSender: C0CHAN, queue_burst: the
# others): public channels the bot is in, present in every fake. {id: name}
PRESET_CHANNELS = {"C0CHAN": "general", "C0TWO": "two", "C0THREE": "three"}
# Error codes that mean the bot did something Slack refuses: each one is also a violation.
VIOLATION_ERRORS = frozenset({"unknown_method", "missing_scope", "invalid_trigger_id", "expired_trigger_id",
                              "exchanged_trigger_id"})
# Every started fake, until tests/conftest.py has checked its violations.
STARTED: list[FakeSlack] = []


@dataclass
class Call:
    """One request seen by the fake (``failed``: a fault was injected)."""

    method: str
    params: dict
    headers: dict
    at: float
    failed: bool = False
    fault: str | None = None

    @property
    def token(self) -> str:
        """The token the call was made with (Authorization header or `token` parameter); "" for none."""
        auth = self.headers.get("authorization", "")
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else str(self.params.get("token") or "")


@dataclass
class FakeFile:
    """An uploaded file and where it was shared."""

    bytes: bytes
    title: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    filename: str | None = None
    initial_comment: str | None = None
    completed: bool = False


@dataclass
class Conversation:
    """A channel, private channel or DM; ``bot_member``: the bot is in it."""

    id: str
    name: str
    private: bool = False
    im_user: str | None = None  # set for a DM (is_im)
    bot_member: bool = True

    @property
    def kind(self) -> str:
        """The scope family of the conversation type: channels, groups, im, mpim."""
        if self.im_user:
            return "im"
        if self.id.startswith("G") and not self.name:
            return "mpim"
        return "groups" if self.private else "channels"

    def as_slack(self) -> dict:
        if self.im_user:
            return {"id": self.id, "is_im": True, "user": self.im_user, "is_member": self.bot_member}
        return {"id": self.id, "name": self.name, "is_channel": not self.private, "is_group": self.private,
                "is_private": self.private, "is_im": False, "is_member": self.bot_member, "is_archived": False}


@dataclass
class _Fault:
    name: str  # "429", "500", "timeout", "drop", "after_effect", "rate_limit"
    status: int = 0
    retry_after: int = 1
    delay: float = 1.0
    effect: bool = False


class SlackError(Exception):
    """Raised by method handlers; answered as {"ok": false, "error": ...}."""


def _json_reply(status: int, body: dict, headers: dict | None = None) -> Reply:
    extra = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    return status, extra, json.dumps(body).encode()


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """Return {field name: (filename or None, raw value)}."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        return {}
    fields = {}
    for chunk in body.split(b"--" + match.group(1).encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, value = chunk.partition(b"\r\n\r\n")
        head_text = head.decode("utf-8", "replace")
        name = re.search(r'\bname="([^"]*)"', head_text)
        filename = re.search(r'\bfilename="([^"]*)"', head_text)
        value = value[:-2] if value.endswith(b"\r\n") else value
        fields[name.group(1) if name else ""] = (filename.group(1) if filename else None, value)
    return fields


def _parse_params(query: str, headers: dict, body: bytes) -> dict:
    """Merge query string, form, multipart or JSON body; decode JSON-ish fields."""
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    ctype = headers.get("content-type", "")
    if ctype.startswith("application/json"):
        try:
            params.update(json.loads(body or b"{}"))
        except ValueError:
            params["_invalid_json"] = body.decode("utf-8", "replace")
    elif ctype.startswith("multipart/form-data"):
        for name, (filename, value) in _parse_multipart(ctype, body).items():
            params[name] = value if filename else value.decode("utf-8", "replace")
    elif body:
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    for key in JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


def _token(headers: dict, params: dict) -> str:
    auth = headers.get("authorization", "")
    return auth[len("Bearer "):] if auth.startswith("Bearer ") else str(params.get("token") or "")


def _paginate(items: list, params: dict, default_limit: int = 100) -> tuple[list, str]:
    """Slice ``items`` by cursor/limit; return (page, next_cursor or "")."""
    cursor = params.get("cursor") or ""
    try:
        start = int(base64.b64decode(cursor).decode().split(":")[1]) if cursor else 0
    except (ValueError, IndexError) as exc:
        raise SlackError("invalid_cursor") from exc
    limit = _int(params.get("limit"), default_limit) or default_limit
    end = start + limit
    nxt = base64.b64encode(f"offset:{end}".encode()).decode() if end < len(items) else ""
    return items[start:end], nxt


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeSlack/1.0"

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        parts = urlsplit(self.path)
        body = self.rfile.read(_int(self.headers.get("Content-Length"), 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        reply = self.server.fake._on_request(parts.path, parts.query, headers, body)
        if reply is None:  # drop the connection without an answer
            self.close_connection = True
            return
        status, extra, payload = reply
        try:
            self.send_response(status)
            for key, value in extra.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass  # the client gave up (e.g. its own timeout)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many concurrent clients without SYN retries

    def __init__(self, fake: FakeSlack) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class FakeSlack:
    """In-memory Slack Web API served over HTTP on 127.0.0.1 (random port)."""

    def __init__(
        self,
        team_id: str = "T0001",
        team: str = "Test Team",
        bot_user_id: str = "UBOT",
        bot_id: str = "B0001",
        default_tz: str = "Europe/Berlin",
        start_ts: float | None = None,
        scopes: Iterable[str] | None = None,
        tiers: bool = True,
    ) -> None:
        """``start_ts``: the first message ts (default 1700000000, fixed for stable tests); pass
        ``time.time()`` where code filters history by real time (``oldest=``), as the outbox's recovery does.
        ``scopes``: the bot token's scopes (default: the bot scopes of manifest.yml). ``tiers``: enforce the
        per-method rate-limit tiers (HTTP 429 + Retry-After past a burst of one minute's allowance)."""
        self.team_id, self.team, self.default_tz = team_id, team, default_tz
        self.scopes = frozenset(slack_spec.manifest_bot_scopes() if scopes is None else scopes)
        self.tiers = tiers
        self._conversations: dict[str, Conversation] = {}
        self._token_teams: dict[str, str] = {}
        self._clock_offset = 0.0
        self._serial = itertools.count(1)
        self._start_ts = int((start_ts or 1_700_000_000) * 1_000_000)
        self._oauth_codes: dict[str, tuple[str, str]] = {}
        self._usergroups: dict[str, list[str]] = {}
        self.bot_user_id, self.bot_id = bot_user_id, bot_id
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._members: dict[str, list[str]] = {}
        self._users: dict[str, dict] = {}
        self._named: dict[str, str] = {}
        for channel_id, name in PRESET_CHANNELS.items():
            self.add_channel(name, channel_id)
        self._handlers: dict[str, Callable[[dict], dict]] = {
            "auth.test": self._auth_test,
            "team.info": self._team_info,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.delete": self._chat_delete,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "conversations.members": self._conversations_members,
            "usergroups.users.list": self._usergroups_users_list,
            "users.info": self._users_info,
            "users.conversations": self._users_conversations,
            "conversations.list": self._conversations_list,
            "oauth.v2.access": self._oauth_v2_access,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            **{f"views.{op}": self._views_handler(op) for op in ("open", "update", "push", "publish")},
        }
        self.reset()

    # ----- lifecycle -------------------------------------------------------

    def start(self) -> FakeSlack:
        """Start serving in a daemon thread; returns self."""
        self._stopping.clear()
        self._server = _Server(self)
        STARTED.append(self)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="FakeSlack", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wake up any held ("timeout") responses."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)  # type: ignore[union-attr]
            self._server = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the running server."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """Value for ``WebClient(base_url=...)``; ends with '/'."""
        return f"{self.root_url}/api/"

    # ----- configuration and inspection ------------------------------------

    def reset(self) -> None:
        """Forget calls, messages, files, views, faults, triggers, response URLs and violations (keeps users,
        members and conversations)."""
        with self._lock:
            self._calls: list[Call] = []
            self._violations: list[str] = []
            self._triggers: dict[str, float] = {}
            self._exchanged: set[str] = set()
            self._response_urls: dict[str, dict] = {}
            self._responses: list[dict] = []
            self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
            self._files: dict[str, FakeFile] = {}
            self._uploaded: set[str] = set()
            self._views: list[dict] = []
            self._ephemeral: list[dict] = []
            self._messages: dict[str, list[dict]] = {}
            self._posted: list[tuple[str, str]] = []
            self._opened: set[str] = set()
            self._faults: dict[str, deque[_Fault]] = {}
            self._chaos: tuple[float, random.Random, tuple, Any, float, int] | None = None
            self._refused: dict[str, str] = {}
            self._limits: dict[str, float] = {}
            self._recent: dict[tuple[str, str], deque[float]] = {}
            self._ts = self._start_ts
            self._ids = 0
            self._changed.notify_all()

    @property
    def calls(self) -> list[Call]:
        """Snapshot of all recorded calls, oldest first."""
        with self._lock:
            return list(self._calls)

    @property
    def files(self) -> dict[str, FakeFile]:
        """Snapshot of uploaded files by file id."""
        with self._lock:
            return dict(self._files)

    @property
    def views(self) -> list[dict]:
        """Recorded views.* calls: {"method", "id", "view", "user_id", "trigger_id"}."""
        with self._lock:
            return copy.deepcopy(self._views)

    @property
    def ephemeral(self) -> list[dict]:
        """Recorded chat.postEphemeral messages (params plus "ts")."""
        with self._lock:
            return copy.deepcopy(self._ephemeral)

    @property
    def violations(self) -> list[str]:
        """What the fake saw that real Slack refuses or ignores (unknown methods and arguments, missing scopes,
        bad trigger ids, used or expired response URLs), oldest first."""
        with self._lock:
            return list(self._violations)

    def take_violations(self) -> list[str]:
        """Return the violations and forget them (for tests that break the rules on purpose)."""
        with self._lock:
            taken, self._violations = self._violations, []
            return taken

    @property
    def responses(self) -> list[dict]:
        """Accepted response_url POSTs: {"url_id", "channel", "user", and the posted fields}."""
        with self._lock:
            return copy.deepcopy(self._responses)

    def set_members(self, channel: str, members: list[str]) -> None:
        """Members returned by conversations.members for ``channel`` (or usergroups.users.list for an ``S…`` id).
        An unknown channel id (not ``S…``) becomes a public channel the bot is in."""
        with self._lock:
            self._members[channel] = list(members)
            if not channel.startswith("S") and channel not in self._conversations:
                self.add_channel(channel.lower(), channel)

    def add_channel(self, name: str, channel_id: str | None = None, private: bool = False,
                    bot_member: bool = True) -> str:
        """A named channel (public, or ``private``) that conversations.list returns and `#name` posts resolve to;
        ``bot_member``: the bot is in it. Returns its id (the existing one if the name is taken)."""
        with self._lock:
            name = name.lstrip("#")
            if name in self._named:
                return self._named[name]
            found = channel_id or f"{'G' if private else 'C'}{len(self._conversations) + 1:08d}"
            self._named[name] = found
            self._conversations[found] = Conversation(found, name, private=private, bot_member=bot_member)
            return found

    def add_dm(self, user: str, bot_member: bool = False, channel_id: str | None = None) -> str:
        """A DM with ``user``: the bot's own (``bot_member=True``, id ``D<user>``, as conversations.open gives),
        or by default one between ``user`` and another person, which the bot is not in. Returns its id."""
        with self._lock:
            found = channel_id or (f"D{user}" if bot_member else f"D0{user}{len(self._conversations) + 1:04d}")
            self._conversations[found] = Conversation(found, "", private=True, im_user=user, bot_member=bot_member)
            return found

    def set_bot_member(self, channel: str, member: bool = True) -> None:
        """The bot joins (or leaves) ``channel``."""
        with self._lock:
            self._conversations[self.channel_id(channel)].bot_member = member

    def conversation(self, channel: str) -> Conversation | None:
        with self._lock:
            found = self._conversations.get(self.channel_id(channel))
            return copy.copy(found)

    def trigger_id(self) -> str:
        """A trigger id as Slack puts in commands and interactions: views.open/push accept it once, within 3 s."""
        with self._lock:
            trigger = f"{next(self._serial)}.{self.team_id}.{uuid.uuid4().hex}"
            self._triggers[trigger] = self._now()
            return trigger

    @property
    def issued_trigger_ids(self) -> list[str]:
        """Trigger ids issued by ``trigger_id()``, oldest first."""
        with self._lock:
            return list(self._triggers)

    def response_url(self, channel: str, user: str) -> str:
        """A response_url served by this fake for a command or action by ``user`` in ``channel``: it accepts
        5 POSTs within 30 minutes (``advance()`` moves the fake's clock, ``expire_response_urls()`` ends them)."""
        with self._lock:
            url_id = f"{next(self._serial)}{uuid.uuid4().hex[:12]}"
            self._response_urls[url_id] = {"channel": channel, "user": user, "issued": self._now(), "uses": 0}
        return f"{self.root_url}/respond/{url_id}"

    def expire_response_urls(self) -> None:
        """Every response_url issued so far is past its 30 minutes."""
        with self._lock:
            for entry in self._response_urls.values():
                entry["issued"] = self._now() - RESPONSE_URL_TTL - 1

    def advance(self, seconds: float) -> None:
        """Move the fake's clock (trigger ids, response URLs, rate-limit buckets) ``seconds`` ahead."""
        with self._lock:
            self._clock_offset += seconds

    def _now(self) -> float:
        return time.monotonic() + self._clock_offset

    def _violate(self, text: str) -> None:
        self._violations.append(text)
        self._changed.notify_all()

    def channel_id(self, name: str) -> str:
        with self._lock:
            return self._named.get(name.lstrip("#"), name)

    def set_user(self, user_id: str, **fields: Any) -> None:
        """Override users.info fields, e.g. ``is_admin=True, tz="UTC"``; ``error="user_not_visible"`` makes
        users.info answer that error for the user."""
        with self._lock:
            self._users.setdefault(user_id, {}).update(fields)

    def set_usergroup(self, group_id: str, users: list[str]) -> None:
        """Members returned by usergroups.users.list for ``group_id``."""
        with self._lock:
            self._usergroups[group_id] = list(users)

    def oauth_code(self, team_id: str, team_name: str = "") -> str:
        """A code that oauth.v2.access exchanges for a bot token of ``team_id`` (``xoxb-<team>-…``)."""
        with self._lock:
            code = f"code-{team_id}-{len(self._oauth_codes) + 1}"
            self._oauth_codes[code] = (team_id, team_name or f"Team {team_id}")
            return code

    def calls_to(self, method: str, failed: bool | None = None) -> list[Call]:
        """Recorded calls of ``method`` (optionally only failed / not failed)."""
        with self._lock:
            return [c for c in self._calls if c.method == method and failed in (None, c.failed)]

    def wait_for(
        self, what: str | Callable[[Call], bool], count: int = 1, timeout: float = 30.0, fail_fast: bool = True
    ) -> list[Call]:
        """Wait until ``count`` calls match a method name or predicate; return them. Fails at once when the fake
        has recorded a violation (``fail_fast=False``: wait anyway)."""
        match = (lambda c: c.method == what) if isinstance(what, str) else what
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self._calls if match(c)]
                remaining = deadline - time.monotonic()
                if len(found) >= count or remaining <= 0:
                    break
                if self._violations and fail_fast:  # the test fails for them anyway: say so now
                    raise AssertionError(f"wait_for({what!r}): the fake saw calls real Slack refuses:\n  "
                                         + "\n  ".join(self._violations) + "\n" + self.dump())
                self._changed.wait(min(remaining, 0.5))
        if len(found) < count:
            raise AssertionError(f"wait_for({what!r}): {len(found)}/{count} matching calls after {timeout}s\n"
                                 + self.dump())
        return found

    def dump(self) -> str:
        """Human-readable list of recorded calls (for assertion messages)."""
        with self._lock:
            lines = [f"  {c.method}{' FAILED(' + str(c.fault) + ')' if c.failed else ''} "
                     f"{json.dumps(c.params, default=repr)[:200]}" for c in self._calls]
        return "recorded calls:\n" + ("\n".join(lines) or "  (none)")

    def messages(self, channel: str) -> list[dict]:
        """Stored messages of a channel (top level and replies) in post order."""
        with self._lock:
            return copy.deepcopy(self._messages.get(channel, []))

    def delivered_posts(self) -> list[dict]:
        """All stored chat.postMessage messages (with "channel"), i.e. what Slack sees."""
        with self._lock:
            found = (self._find(ch, ts) for ch, ts in self._posted)
            return [dict(copy.deepcopy(m), channel=ch) for ch, m in found if m is not None]

    # ----- fault injection --------------------------------------------------

    def fail_next(self, method: str, count: int = 1, status: int = 429, retry_after: int = 1,
                  mode: str = "status", delay: float = 1.0, effect: bool = False) -> None:
        """Fail the next ``count`` calls of ``method`` ("*" = any).

        mode "status": HTTP ``status`` (429 with Retry-After, or 5xx), no side effect.
        mode "timeout": hold the answer ``delay`` s, then close (``effect=True``:
        perform the call and answer normally). mode "drop": close at once.
        """
        if mode not in ("status", "timeout", "drop"):
            raise ValueError(f"unknown mode {mode!r}")
        name = str(status) if mode == "status" else mode
        self._queue(method, count, _Fault(name, status, retry_after, delay, effect))

    def fail_after_effect_next(self, method: str, count: int = 1) -> None:
        """Perform the next ``count`` calls, then drop the connection unanswered."""
        self._queue(method, count, _Fault("after_effect", effect=True))

    def chaos(self, rate: float, seed: int = 0, modes: tuple[str, ...] = CHAOS_MODES,
              methods: list[str] | None = None, delay: float = 1.0, retry_after: int = 1) -> None:
        """Inject random faults (modes: 429/500/503/timeout/drop/after_effect) on ``rate``
        of calls to ``methods`` (None = all, incl. "upload"); ``chaos(0)`` turns it off."""
        unknown = set(modes) - {"429", "500", "503", "timeout", "drop", "after_effect"}
        if unknown:
            raise ValueError(f"unknown chaos modes {sorted(unknown)}")
        with self._lock:
            rng = random.Random(seed)
            self._chaos = (rate, rng, tuple(modes), methods, delay, retry_after) if rate else None

    def rate_limit(
        self, method: str = "chat.postMessage", per_channel_per_second: float | None = 1.0
    ) -> None:
        """Answer 429 (Retry-After: 1) above N successful calls per channel and second."""
        with self._lock:
            if per_channel_per_second:
                self._limits[method] = per_channel_per_second
            else:
                self._limits.pop(method, None)

    def refuse_token(self, token: str, error: str | None = "invalid_auth") -> None:
        """Answer every call made with ``token`` ``{"ok": false, "error": error}``, as Slack does for a token it
        does not know (invalid_auth), a revoked one (token_revoked), …; ``error=None`` accepts it again."""
        with self._lock:
            if error:
                self._refused[token] = error
            else:
                self._refused.pop(token, None)

    def _queue(self, method: str, count: int, fault: _Fault) -> None:
        with self._lock:
            self._faults.setdefault(method, deque()).extend(copy.copy(fault) for _ in range(count))

    def _pick_fault(self, method: str, params: dict, headers: dict) -> _Fault | None:
        for key in (method, "*"):
            if self._faults.get(key):
                return self._faults[key].popleft()
        if self._chaos:
            rate, rng, modes, methods, delay, retry_after = self._chaos
            if (methods is None or method in methods) and rng.random() < rate:
                mode = rng.choice(modes)
                status = int(mode) if mode.isdigit() else 0
                return _Fault(mode, status, retry_after, delay, effect=mode == "after_effect")
        return self._check_rate_limit(method, params) or self._check_tier(method, headers, params)

    def _check_tier(self, method: str, headers: dict, params: dict) -> _Fault | None:
        """Slack's per-method, per-workspace tiers: a bucket of one minute's allowance, refilled continuously."""
        tier = slack_spec.TIERS.get(method)
        if not self.tiers or tier is None:
            return None
        per_minute = slack_spec.TIER_PER_MINUTE[tier]
        key = (self._team_of(_token(headers, params)), method)
        now = self._now()
        tokens, last = self._buckets.get(key, (float(per_minute), now))
        tokens = min(float(per_minute), tokens + (now - last) * per_minute / 60)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return _Fault("rate_limit", 429, retry_after=max(1, math.ceil((1 - tokens) * 60 / per_minute)))
        self._buckets[key] = (tokens - 1, now)
        return None

    def _team_of(self, token: str) -> str:
        """The workspace of a bot token: the one oauth.v2.access issued it for, else this fake's team."""
        return self._token_teams.get(token, self.team_id)

    def _check_rate_limit(self, method: str, params: dict) -> _Fault | None:
        per_second = self._limits.get(method)
        channel = params.get("channel")
        if not per_second or not channel:
            return None
        window, allowed = (1.0, int(per_second)) if per_second >= 1 else (1 / per_second, 1)
        now = time.monotonic()
        recent = self._recent.setdefault((method, self._named.get(str(channel).lstrip("#"), channel)), deque())
        while recent and now - recent[0] >= window:
            recent.popleft()
        if len(recent) >= allowed:
            return _Fault("rate_limit", 429, retry_after=1)
        recent.append(now)
        return None

    # ----- request handling -------------------------------------------------

    def _on_request(self, path: str, query: str, headers: dict, body: bytes) -> Reply | None:
        if path.startswith("/api/"):
            method, params = path[len("/api/"):], _parse_params(query, headers, body)
        elif path.startswith("/upload/"):
            method, params = "upload", {"file_id": path[len("/upload/"):], "length": len(body)}
        elif path.startswith("/respond/"):
            method, params = "response_url", {**_parse_params(query, headers, body), "_url_id": path[len("/respond/"):]}
            # Recorded with whom the URL answers (its user and channel), as a chat.postEphemeral call would be.
            owner = self._response_urls.get(params["_url_id"]) or {}
            added = [key for key in ("user", "channel") if key not in params and key in owner]
            params.update({key: owner[key] for key in added}, _owner_fields=added)
        else:
            return 404, {"Content-Type": "text/plain"}, b"not found"
        return self._serve(method, params, headers, body)

    def _serve(self, method: str, params: dict, headers: dict, body: bytes) -> Reply | None:
        """Apply faults around ``_dispatch``; None means: close without answer."""
        with self._lock:
            fault = self._pick_fault(method, params, headers)
            if fault is None or fault.name == "after_effect":
                return self._perform(method, params, headers, body, fault)
            if not (fault.name == "timeout" and fault.effect):
                self._record(method, params, headers, fault)
        if fault.name == "timeout":
            self._stopping.wait(fault.delay)
            if fault.effect and not self._stopping.is_set():
                with self._lock:
                    return self._perform(method, params, headers, body, fault, answer=True)
            return None
        if fault.name == "drop":
            return None
        retry = {"Retry-After": str(fault.retry_after)} if fault.status == 429 else {}
        error = "ratelimited" if fault.status == 429 else "internal_error"
        return _json_reply(fault.status, {"ok": False, "error": error}, retry)

    def _perform(self, method: str, params: dict, headers: dict, body: bytes,
                 fault: _Fault | None, answer: bool = False) -> Reply | None:
        reply = self._dispatch(method, params, headers, body)
        self._record(method, params, headers, fault)
        return reply if fault is None or answer else None

    def _record(self, method: str, params: dict, headers: dict, fault: _Fault | None) -> None:
        failed = fault is not None
        self._calls.append(Call(method, params, headers, time.time(), failed, fault.name if failed else None))
        self._changed.notify_all()

    def _dispatch(self, method: str, params: dict, headers: dict, body: bytes) -> Reply:
        if method == "upload":
            return self._upload(params["file_id"], headers, body)
        if method == "response_url":
            return self._respond(params)
        spec = slack_spec.methods().get(method)
        if spec is None:
            self._violate(f"{method}: unknown method, not in Slack's Web API")
            return _json_reply(200, {"ok": False, "error": "unknown_method"})
        if "_invalid_json" in params:
            self._violate(f"{method}: the JSON body does not parse")
            return _json_reply(200, {"ok": False, "error": "invalid_json"})
        unknown = sorted(set(params) - spec.params - slack_spec.SDK_DEFAULT_PARAMS - {"token"})
        if unknown:  # Slack ignores arguments it does not know; the bot meant something by them
            self._violate(f"{method}: arguments Slack does not know (ignored): {', '.join(unknown)}")
        handler = self._handlers.get(method)
        if handler is None:
            self._violate(f"{method}: a Slack method this fake does not implement yet")
            return _json_reply(200, {"ok": False, "error": "unknown_method"})
        if method == "oauth.v2.access":  # client id and secret (Basic auth), no token
            return self._reply(handler, params)
        token = _token(headers, params)
        if not token:
            return _json_reply(200, {"ok": False, "error": "not_authed"})
        if not token.startswith("xoxb-"):  # the fake knows only bot tokens
            return _json_reply(200, {"ok": False, "error": "invalid_auth"})
        if token in self._refused:
            return _json_reply(200, {"ok": False, "error": self._refused[token]})
        if spec.scopes and not self.scopes & set(spec.scopes):
            needed, provided = self._needed_scope(spec.scopes, params), ",".join(sorted(self.scopes))
            self._violate(f"{method}: missing_scope: needs {needed} (any of {', '.join(spec.scopes)}); "
                          f"the bot has {provided}")
            return _json_reply(200, {"ok": False, "error": "missing_scope", "needed": needed, "provided": provided})
        return self._reply(handler, params, method)

    def _needed_scope(self, scopes: tuple[str, ...], params: dict) -> str:
        """The scope Slack names as `needed`: the one for the conversation's type where the method has a family
        (channels:/groups:/im:/mpim:), else the first."""
        channel = str(params.get("channel") or "")
        conv = self._conversations.get(self._named.get(channel.lstrip("#"), channel))  # no DM opened by asking
        if conv is not None:
            for scope in scopes:
                if scope.startswith(conv.kind + ":"):
                    return scope
        return next((s for s in scopes if ":" in s and s.count(":") == 1 and not s.startswith("conversations:")),
                    scopes[0])

    def _reply(self, handler: Callable[[dict], dict], params: dict, method: str = "") -> Reply:
        try:
            return _json_reply(200, {"ok": True, **handler(params)})
        except SlackError as exc:
            if str(exc) in VIOLATION_ERRORS:
                self._violate(f"{method}: {exc}")
            return _json_reply(200, {"ok": False, "error": str(exc)})

    def _respond(self, params: dict) -> Reply:
        """A POST to a response_url: like hooks.slack.com, 200 {"ok": true}, or 404 used_url / expired_url."""
        params = dict(params)
        url_id = params.pop("_url_id")
        for key in params.pop("_owner_fields", []):
            params.pop(key, None)
        entry = self._response_urls.get(url_id)
        if entry is None:
            self._violate(f"response_url {url_id}: not a response_url this fake issued")
            return 404, {"Content-Type": "text/plain"}, b"no_service"
        if self._now() - entry["issued"] > RESPONSE_URL_TTL:
            self._violate(f"response_url {url_id}: used after its 30 minutes (expired_url)")
            return 404, {"Content-Type": "text/plain"}, b"expired_url"
        if entry["uses"] >= RESPONSE_URL_USES:
            self._violate(f"response_url {url_id}: used more than {RESPONSE_URL_USES} times (used_url)")
            return 404, {"Content-Type": "text/plain"}, b"used_url"
        if "_invalid_json" in params:
            self._violate(f"response_url {url_id}: the body is not JSON")
            return 400, {"Content-Type": "text/plain"}, b"invalid_payload"
        unknown = sorted(set(params) - RESPONSE_FIELDS)
        if unknown:
            self._violate(f"response_url {url_id}: fields Slack does not know (ignored): {', '.join(unknown)}")
        if not any(params.get(k) for k in ("text", "blocks", "attachments")) and not _truthy(
                params.get("delete_original")):
            return 400, {"Content-Type": "text/plain"}, b"no_text"
        entry["uses"] += 1
        self._responses.append({"url_id": url_id, "channel": entry["channel"], "user": entry["user"], **params})
        return _json_reply(200, {"ok": True})

    # ----- helpers for handlers ---------------------------------------------

    def _next_ts(self) -> str:
        # Like Slack: the time of posting in microseconds, strictly increasing.
        self._ts = max(self._ts + 100, int(time.time() * 1_000_000))
        return f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}{self._ids:07d}"

    def _resolve_channel(self, channel: str) -> str:
        """Posting to a user id goes to the bot's DM with that user (Slack opens it), `#name` to the named
        channel, like Slack; other ids pass through (unknown: "")."""
        if channel.startswith("#"):
            return self._named.get(channel[1:], "")
        if channel[:1] in ("U", "W"):
            return self._open_dm(channel)
        return channel

    def _open_dm(self, user: str) -> str:
        found = self._conversations.get("D" + user)
        if found is None:
            self.add_dm(user, bot_member=True)
        return "D" + user

    def _channel(self, params: dict, key: str = "channel", member: bool = False) -> str:
        """The conversation a call names; channel_not_found where Slack would not show it to the bot (unknown, or a
        private channel or DM the bot is not in); ``member``: the bot must be in it."""
        channel = self._resolve_channel(str(params.get(key) or ""))
        conv = self._conversations.get(channel)
        if conv is None or (not conv.bot_member and (conv.private or member)):
            raise SlackError("channel_not_found")
        return channel

    def _find(self, channel: str, ts: Any) -> tuple[str, dict | None]:
        found = [m for m in self._messages.get(channel, []) if m["ts"] == ts]
        return channel, (found[0] if found else None)

    def _public(self, msg: dict, channel: str, metadata: bool = True) -> dict:
        """A stored message as Slack returns it."""
        out = {k: v for k, v in msg.items() if v is not None and k != "edit_count"}
        if msg["edit_count"]:
            out["edited"] = {"user": self.bot_user_id}
        replies = [m for m in self._messages.get(channel, []) if m["thread_ts"] == msg["ts"]]
        if replies:
            out.update(thread_ts=msg["ts"], reply_count=len(replies))
        if not metadata:
            out.pop("metadata", None)
        return copy.deepcopy(out)

    def _store(self, channel: str, params: dict, **extra: Any) -> dict:
        msg = {"type": "message", "user": self.bot_user_id, "bot_id": self.bot_id, "ts": self._next_ts(),
               "text": params.get("text") or "", "blocks": params.get("blocks"),
               "attachments": params.get("attachments"), "metadata": params.get("metadata"),
               "thread_ts": params.get("thread_ts") or None, "files": None, "edit_count": 0, **extra}
        self._messages.setdefault(channel, []).append(msg)
        return msg

    # ----- method handlers (return the body without "ok") -------------------

    def _auth_test(self, params: dict) -> dict:
        return {"url": "https://testteam.slack.com/", "team": self.team, "user": "aurum",
                "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": self.bot_id,
                "is_enterprise_install": False}

    def _team_info(self, params: dict) -> dict:
        return {"team": {"id": self.team_id, "name": self.team, "domain": "testteam",
                         "email_domain": "", "icon": {"image_default": True}}}

    def _chat_post_message(self, params: dict) -> dict:
        channel = self._channel(params)
        if not self._conversations[channel].bot_member and "chat:write.public" not in self.scopes:
            raise SlackError("not_in_channel")  # a public channel: chat:write.public lets the bot post anyway
        if not any(params.get(k) for k in ("text", "blocks", "attachments")):
            raise SlackError("no_text")
        msg = self._store(channel, params)
        self._posted.append((channel, msg["ts"]))
        return {"channel": channel, "ts": msg["ts"], "message": self._public(msg, channel)}

    def _chat_update(self, params: dict) -> dict:
        channel = self._channel(params)
        _, msg = self._find(channel, params.get("ts"))
        if msg is None:
            raise SlackError("message_not_found")
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in params:
                msg[key] = params[key]
        msg["edit_count"] += 1
        message = self._public(msg, channel)
        return {"channel": channel, "ts": msg["ts"], "text": msg["text"], "message": message}

    def _chat_post_ephemeral(self, params: dict) -> dict:
        # Only into conversations the bot is in (https://api.slack.com/methods/chat.postEphemeral): elsewhere Slack
        # answers channel_not_found; a reply to a command there goes through its response_url.
        channel = self._channel(params, member=True)
        if not params.get("user"):
            raise SlackError("user_not_found")
        ts = self._next_ts()
        self._ephemeral.append({**params, "channel": channel, "ts": ts})
        return {"message_ts": ts}

    def _chat_delete(self, params: dict) -> dict:
        channel = self._channel(params)
        _, msg = self._find(channel, params.get("ts"))
        if msg is None:
            raise SlackError("message_not_found")
        self._messages[channel].remove(msg)
        return {"channel": channel, "ts": msg["ts"]}

    def _conversations_open(self, params: dict) -> dict:
        if params.get("channel"):
            return {"channel": {"id": self._channel(params, member=True)}}
        users = sorted(u.strip() for u in str(params.get("users") or "").split(",") if u.strip())
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) == 1:
            channel = self._open_dm(users[0])
            self._conversations[channel].bot_member = True
        else:
            channel = "G" + "".join(users)
            self._conversations.setdefault(channel, Conversation(channel, "", private=True))
        opened = channel in self._opened
        self._opened.add(channel)
        return {"no_op": opened, "already_open": opened, "channel": {"id": channel}}

    def _conversations_history(self, params: dict) -> dict:
        channel = self._channel(params)
        oldest, latest = float(params.get("oldest") or 0), float(params.get("latest") or "inf")
        inclusive = _truthy(params.get("inclusive"))
        top = [m for m in reversed(self._messages.get(channel, []))
               if m["thread_ts"] in (None, m["ts"]) and
               (oldest <= float(m["ts"]) <= latest if inclusive else oldest < float(m["ts"]) < latest)]
        return self._message_page(channel, top, params)

    def _conversations_replies(self, params: dict) -> dict:
        channel = self._channel(params)
        _, parent = self._find(channel, params.get("ts"))
        if parent is None:
            raise SlackError("thread_not_found")
        replies = [m for m in self._messages[channel] if m["thread_ts"] == parent["ts"] and m is not parent]
        return self._message_page(channel, [parent, *replies], params)

    def _message_page(self, channel: str, messages: list[dict], params: dict) -> dict:
        page, cursor = _paginate(messages, params)
        with_meta = _truthy(params.get("include_all_metadata"))
        return {"messages": [self._public(m, channel, with_meta) for m in page], "has_more": bool(cursor),
                "response_metadata": {"next_cursor": cursor}}

    def _conversations_members(self, params: dict) -> dict:
        page, cursor = _paginate(self._members.get(self._channel(params), []), params)
        return {"members": page, "response_metadata": {"next_cursor": cursor}}

    def _users_info(self, params: dict) -> dict:
        user_id = params.get("user")
        if not user_id:
            raise SlackError("user_not_found")
        fields = self._users.get(user_id, {})
        if fields.get("error"):
            raise SlackError(fields["error"])
        tz = fields.get("tz", self.default_tz)
        offset = ZoneInfo(tz).utcoffset(datetime.now())
        user = {"id": user_id, "team_id": self.team_id, "name": user_id.lower(),
                "real_name": f"User {user_id}", "deleted": False, "is_admin": False,
                "is_owner": False, "is_bot": False, "tz": tz,
                "tz_label": tz, "tz_offset": int(offset.total_seconds()) if offset else 0,
                "profile": {"real_name": f"User {user_id}", "display_name": user_id.lower()}}
        user.update(fields)
        return {"user": user}

    def _users_conversations(self, params: dict) -> dict:
        """The conversations the bot is in (of ``types``, default public channels)."""
        channels = [c.as_slack() for c in self._listed(params) if c.bot_member]
        page, cursor = _paginate(channels, params)
        return {"channels": page, "response_metadata": {"next_cursor": cursor}}

    def _usergroups_users_list(self, params: dict) -> dict:
        """Members of a user group: set with set_usergroup(), or with set_members(group_id, …)."""
        group = str(params.get("usergroup") or "")
        found = self._usergroups.get(group, self._members.get(group))
        if found is None:
            raise SlackError("no_such_subteam")
        return {"users": list(found)}

    def _oauth_v2_access(self, params: dict) -> dict:
        found = self._oauth_codes.pop(str(params.get("code")), None)
        if found is None:
            raise SlackError("invalid_code")
        team_id, team_name = found
        token = f"xoxb-{team_id}-{self._next_id('')}"
        self._token_teams[token] = team_id
        return {"app_id": "A0001", "authed_user": {"id": "UINSTALLER"}, "scope": ",".join(sorted(self.scopes)),
                "token_type": "bot", "access_token": token,
                "bot_user_id": self.bot_user_id, "team": {"id": team_id, "name": team_name},
                "enterprise": None, "is_enterprise_install": False}

    def _listed(self, params: dict) -> list[Conversation]:
        """Conversations of ``types`` (default public_channel) the bot can see, by id."""
        types = set(str(params.get("types") or "public_channel").split(","))
        kinds = {"public_channel": "channels", "private_channel": "groups", "im": "im", "mpim": "mpim"}
        wanted = {kinds[t.strip()] for t in types if t.strip() in kinds}
        return [c for _, c in sorted(self._conversations.items())
                if c.kind in wanted and (c.bot_member or c.kind == "channels")]

    def _conversations_list(self, params: dict) -> dict:
        channels = [c.as_slack() for c in self._listed(params)]
        page, cursor = _paginate(channels, params)
        return {"channels": page, "response_metadata": {"next_cursor": cursor}}

    def _files_get_upload_url(self, params: dict) -> dict:
        if not params.get("filename") or _int(params.get("length"), -1) < 0:
            raise SlackError("invalid_arguments")
        file_id = self._next_id("F")
        self._files[file_id] = FakeFile(b"", filename=params["filename"])
        return {"upload_url": f"{self.root_url}/upload/{file_id}", "file_id": file_id}

    def _upload(self, file_id: str, headers: dict, body: bytes) -> Reply:
        ctype = headers.get("content-type", "")
        if ctype.startswith("multipart/form-data"):
            parts = _parse_multipart(ctype, body)
            named = parts.get("file") or next((p for p in parts.values() if p[0] is not None), (None, b""))
            body = named[1]
        if file_id not in self._files:
            return 404, {"Content-Type": "text/plain"}, b"file not found"
        self._files[file_id].bytes = body
        self._uploaded.add(file_id)
        return 200, {"Content-Type": "text/plain; charset=utf-8"}, f"OK - {len(body)}".encode()

    def _files_complete_upload(self, params: dict) -> dict:
        entries = params.get("files")
        if not isinstance(entries, list) or not entries:
            raise SlackError("invalid_arguments")
        if any(e.get("id") not in self._uploaded for e in entries):
            raise SlackError("file_not_found")
        channels = [c for c in str(params.get("channels") or "").split(",") if c]
        channel = params.get("channel_id") or (channels[0] if channels else None)
        if channel:  # sharing a file: like posting, the bot must be in the conversation
            channel = self._channel({"channel": channel})
            if not self._conversations[channel].bot_member:
                raise SlackError("not_in_channel")
        thread_ts = params.get("thread_ts") or None
        shared = []
        for entry in entries:
            f = self._files[entry["id"]]
            f.title = entry.get("title") or f.filename
            f.channel, f.thread_ts, f.completed = channel, thread_ts, True
            f.initial_comment = params.get("initial_comment")
            shared.append({"id": entry["id"], "title": f.title, "name": f.filename, "size": len(f.bytes)})
        if channel:
            self._store(channel, {"text": params.get("initial_comment"),
                                                         "thread_ts": thread_ts}, files=copy.deepcopy(shared))
        return {"files": shared}

    def _exchange_trigger(self, trigger_id: str) -> None:
        """A trigger id opens one view, within 3 s of the user's action. Error names: api.slack.com/methods/views.open
        (the spec has none for views.open; its dialog.open list has the older trigger_expired/trigger_exchanged)."""
        issued = self._triggers.get(trigger_id)
        if issued is None:
            raise SlackError("invalid_trigger_id")
        if trigger_id in self._exchanged:
            raise SlackError("exchanged_trigger_id")
        if self._now() - issued > TRIGGER_TTL:
            raise SlackError("expired_trigger_id")
        self._exchanged.add(trigger_id)

    def _views_handler(self, op: str) -> Callable[[dict], dict]:
        def handle(params: dict) -> dict:
            view = params.get("view")
            if not isinstance(view, dict):
                raise SlackError("invalid_arguments")
            if op == "update":
                view_id = params.get("view_id") or params.get("external_id")
                if not view_id:
                    raise SlackError("not_found")
            elif op == "publish":
                view_id = "VHOME" + str(params.get("user_id") or "")
            else:
                self._exchange_trigger(str(params.get("trigger_id") or ""))
                view_id = self._next_id("V")
            result = {**view, "id": view_id, "team_id": self.team_id, "hash": self._next_ts()}
            self._views.append({"method": f"views.{op}", "id": view_id, "view": copy.deepcopy(view),
                               "user_id": params.get("user_id"), "trigger_id": params.get("trigger_id")})
            return {"view": result}

        return handle
