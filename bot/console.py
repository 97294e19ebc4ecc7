"""A local console: type the same slash commands as in Slack; replies print as text, charts land as PNG files."""

from __future__ import annotations

import json
import re
import sys
import threading
import uuid
from itertools import count
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlencode

from slack_bolt import BoltRequest

from aurum.core.delivery import Posted
from aurum.core.text import unmarked
from aurum.surveys.service import view_for
from bot.runtime import CONSOLE_TEAM, Runtime

CONSOLE_USER = "U0CONSOLE"
CONSOLE_CHANNEL = "C0CONSOLE"
# The demo's people: `@alice` typed in the console is a mention of U0ALICE, as Slack would send it.
PEOPLE = {"you": CONSOLE_USER, "alice": "U0ALICE", "ana": "U0ANA", "ben": "U0BEN", "chen": "U0CHEN", "dara": "U0DARA"}
NAMES = {user: name for name, user in PEOPLE.items()}
BANNER = f"""Aurum console: the same commands as in Slack, answered here; you are an admin.
Try /kpi, /kpi latency 90d, /kpi latency forecast, /kpi dashboard, /kpi record coverage 82, /survey help,
/roadmap, /report weekly preview, /sprint, /blocker add <text>, /kudos @alice code-quality <why>, /kudos leaderboard.
The demo's people: {", ".join("@" + name for name in PEOPLE)}. Type quit to leave."""
_TYPED_MENTION = re.compile(r"(?<![\w<])@([a-z][a-z0-9._-]*)", re.IGNORECASE)


def _plain(obj: Any) -> str:
    """A text object as a person reads it in Slack: mrkdwn's markup and escapes resolved, mentions by name."""
    if not isinstance(obj, dict):
        return str(obj or "")
    text = obj.get("text", "")
    return unmarked(text, lambda user: "@" + NAMES.get(user, user)) if obj.get("type") == "mrkdwn" else text


def as_slack_sends(text: str) -> str:
    """A typed command's text encoded the way Slack sends it (`&`, `<`, `>` escaped; `@alice` → `<@U0ALICE|alice>`
    for the demo's people)."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _TYPED_MENTION.sub(lambda m: f"<@{PEOPLE[m.group(1).lower()]}|{m.group(1)}>"
                              if m.group(1).lower() in PEOPLE else m.group(0), escaped)


def blocks_to_text(blocks: list[dict[str, Any]] | None, fallback: str = "") -> str:
    """Block Kit rendered as readable terminal text."""
    if not blocks:
        return _plain({"type": "mrkdwn", "text": fallback})
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = _plain(block["text"])
            lines += [title, "=" * len(title)]
        elif kind == "section":
            if block.get("text"):
                lines.append(_plain(block["text"]))
            lines += ["  " + _plain(f).replace("\n", ": ", 1) for f in block.get("fields", [])]
        elif kind == "context":
            lines.append("  " + " · ".join(_plain(e) for e in block.get("elements", [])))
        elif kind == "divider":
            lines.append("-" * 40)
        elif kind == "actions":
            lines.append("  [" + "] [".join(_plain(e.get("text") or e.get("placeholder"))
                                            for e in block.get("elements", [])) + "]")
        elif kind == "image":
            lines.append(f"  (image: {block.get('alt_text', '')})")
        elif kind == "input":
            lines.append(f"  ? {_plain(block.get('label'))}")
    return "\n".join(lines)


class ConsoleDelivery:
    """The Delivery seam for the console: prints messages, saves uploads under chart_dir."""

    def __init__(self, chart_dir: Path, out: TextIO | None = None):
        self.chart_dir = chart_dir
        self.out = out or sys.stdout
        self._ts = count(1)
        self._lock = threading.Lock()
        self.files: list[Path] = []

    def _write(self, text: str) -> None:
        with self._lock:
            self.out.write(text + "\n")
            self.out.flush()

    def post(self, team_id: str, channel: str, text: str, blocks: list[dict[str, Any]] | None = None, *,
             thread_ts: str | None = None, user: str | None = None, marker: str | None = None) -> Posted:
        where = f"(only you) {channel}" if user else f"{channel}" + (" (thread)" if thread_ts else "")
        self._write(f"\n── {where} ──\n{blocks_to_text(blocks, text)}")
        return Posted(channel=channel, ts=f"{next(self._ts)}.000000")

    def update(self, team_id: str, channel: str, ts: str, text: str,
               blocks: list[dict[str, Any]] | None = None) -> None:
        self._write(f"\n── {channel} (message {ts} updated) ──\n{blocks_to_text(blocks, text)}")

    def upload_file(self, team_id: str, channel: str, content: bytes, *, filename: str, title: str,
                    comment: str = "", thread_ts: str | None = None, alt_text: str = "") -> str:
        self.chart_dir.mkdir(parents=True, exist_ok=True)
        path = (self.chart_dir / filename).resolve()
        path.write_bytes(content)
        self.files.append(path)
        self._write(f"{'📈' if filename.endswith('.png') else '📎'} {title}: {path}")
        if alt_text:
            self._write(f"   alt text: {alt_text}")
        return f"F{len(self.files)}"

    def members(self, team_id: str, channel: str | None = None, usergroup: str | None = None) -> list[str]:
        return [CONSOLE_USER]  # the console has one person: you

    def time_zone(self, team_id: str, user: str) -> str | None:
        return None  # you live in the team's time zone (AURUM_TIMEZONE)

    def respond(self, team_id: str, url: str, text: str, blocks: list[dict[str, Any]] | None = None, *,
                in_channel: bool = False) -> None:
        where = CONSOLE_CHANNEL if in_channel else f"(only you) {CONSOLE_CHANNEL}"
        self._write(f"\n── {where} ──\n{blocks_to_text(blocks, text)}")

    def publish_home(self, team_id: str, user: str, view: dict[str, Any]) -> None:
        self._write(f"\n── App Home of {user} ──\n{blocks_to_text(view.get('blocks'))}")


def command_body(command: str, text: str, team_id: str = CONSOLE_TEAM) -> str:
    return urlencode({
        "token": "console", "team_id": team_id, "team_domain": "console", "channel_id": CONSOLE_CHANNEL,
        "channel_name": "console", "user_id": CONSOLE_USER, "user_name": "you", "command": command,
        "text": as_slack_sends(text), "response_url": "http://localhost/console",
        "trigger_id": f"console.{uuid.uuid4().hex}",
    })


def survey_form(runtime: Runtime, text: str) -> str:
    """The console cannot open a modal: print the survey's questions and how to answer them in one line."""
    view = view_for(runtime.ctx, CONSOLE_TEAM, CONSOLE_USER, survey_key=text or None)
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    if not inputs:
        return blocks_to_text(view["blocks"][:1]) + ("\nYou are an admin here: `/survey open` opens this period's "
                                                     "run now; then /survey shows its questions.")
    questions = [f"  {i}. {_plain(b['label'])}" + (" (optional)" if b.get("optional") else "")
                 for i, b in enumerate(inputs, 1)]
    return "\n".join([blocks_to_text(view["blocks"][:1]), *questions,
                      f"Modals need Slack; here, answer in one line: /survey answer {text + ' ' if text else ''}"
                      + " | ".join(f"<{i}>" for i in range(1, len(inputs) + 1))])


def run_command(runtime: Runtime, line: str, out: TextIO) -> bool:
    """Dispatch one slash command through the Bolt app, print the ack, then do the work it queued and deliver.
    False when the command failed: its input refused (an unknown command among it), or its work did not succeed
    (the outcomes it counted for /metrics, other than ok)."""
    command, _, text = line.strip().partition(" ")
    if command.lower() == "/survey" and text.strip().lower() in ("", "team", "stakeholder"):
        out.write(survey_form(runtime, text.strip().lower()) + "\n")
        return True
    failures = _failures(runtime)
    request = BoltRequest(body=command_body(command, text.strip()), mode="socket_mode",
                          headers={"content-type": ["application/x-www-form-urlencoded"]})
    response = runtime.bolt.dispatch(request)
    if response.body:
        try:
            ack = json.loads(response.body)
            out.write(blocks_to_text(ack.get("blocks"), ack.get("text", "")) + "\n")
        except ValueError:
            out.write(response.body + "\n")
    runtime.drain()
    return response.status == 200 and _failures(runtime) == failures


def _failures(runtime: Runtime) -> float:
    """Commands counted so far with another outcome than ok (input_error, refused, error)."""
    counted = runtime.ctx.telemetry.snapshot()["command_outcomes"]
    return sum(value for (_command, outcome), value in counted.items() if outcome != "ok")


def repl(runtime: Runtime, stdin: TextIO | None = None, out: TextIO | None = None) -> None:
    stdin, out = stdin or sys.stdin, out or sys.stdout
    interactive = stdin.isatty()
    out.write(BANNER + "\n")
    while True:
        if interactive:
            out.write("aurum> ")
            out.flush()
        line = stdin.readline()
        if not line or line.strip() in ("quit", "exit"):
            return
        if not line.strip():
            continue
        if not line.startswith("/"):
            out.write("Commands start with a slash, e.g. /kpi latency\n")
            continue
        run_command(runtime, line, out)
