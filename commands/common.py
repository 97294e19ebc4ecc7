"""What every command module shares: who is asking, where, and one way to report a failure."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aurum.core import outbox
from aurum.core.context import Context
from aurum.core.errors import InputError

log = logging.getLogger(__name__)
SORRY = "Sorry, that did not work ({reason}). Nothing was changed; please try again in a minute."
ONLY_ADMINS = ("Only admins can {doing}. Admins are the Slack workspace's admins and owners, the members of the "
               "admin user group, and the users listed in AURUM_ADMINS: ask one of them, or ask whoever runs "
               "Aurum to add you (your user id is `{user}`).")


@dataclass(frozen=True)
class Asker:
    team_id: str
    user_id: str
    channel_id: str

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Asker:
        team = body.get("team_id") or (body.get("team") or {}).get("id") or body.get("user", {}).get("team_id", "")
        user = body.get("user_id") or (body.get("user") or {}).get("id", "")
        channel = body.get("channel_id") or (body.get("channel") or {}).get("id", "") or user
        return cls(team_id=team, user_id=user, channel_id=channel)


def tell(ctx: Context, asker: Asker, text: str, blocks: list[dict] | None = None) -> None:
    """An ephemeral reply to the asker, through the outbox."""
    with ctx.transaction() as session:
        outbox.post(session, asker.team_id, asker.channel_id, text, blocks, user=asker.user_id)


def only_admins(ctx: Context, asker: Asker, doing: str) -> bool:
    """True (after telling the asker how to become one) when the asker is not an admin. Call it after the ack:
    it may ask Slack (users.info, usergroups.users.list)."""
    if ctx.is_admin(asker.user_id, asker.team_id):
        return False
    tell(ctx, asker, ONLY_ADMINS.format(doing=doing, user=asker.user_id))
    return True


def later(ctx: Context, work: Callable[..., Any], **kwargs: Any) -> None:
    """Run `work(**kwargs)` after the ack: call it from an ack function, after `ack(...)`. The work runs in
    `ctx.after_ack`: a thread pool, or, in a web process with a work process, nowhere here: the request is handed to
    the work process, which runs this listener again (bot/work_process.py); at once where there is neither, as in the
    console. Bolt's own lazy listeners would deep-copy the whole request, its Web API client included, for each
    listener: as much interpreter time as the rest of the ack."""

    def run() -> None:
        try:
            work(**kwargs)
        except Exception:  # a listener's failure is logged, never lost in a future nobody reads
            log.exception("work after the ack failed", extra={"work": getattr(work, "__name__", str(work))})

    if ctx.after_ack is None:
        run()
    else:
        ctx.after_ack.submit(run)


def count(ctx: Context, body: dict[str, Any], outcome: str) -> None:
    """Count a command or interaction by name and outcome (ok, input_error, refused, error) for /metrics."""
    name = body.get("command") or body.get("type") or "unknown"
    ctx.telemetry.count("command_outcomes", command=str(name)[:40], outcome=outcome)


def reply_on_error(ctx: Context) -> Callable:
    """Wrap work after the ack: log the failure once and tell the asker something short and useful.
    The work may return an outcome ("refused", "input_error") for /metrics; nothing means "ok"."""

    def decorate(work: Callable) -> Callable:
        @functools.wraps(work)
        def wrapper(body: dict[str, Any], **kwargs: Any) -> None:
            started = time.perf_counter()
            try:
                outcome = work(body=body, **kwargs)
            except Exception as exc:
                log.exception("command failed", extra={"command": body.get("command") or body.get("type")})
                count(ctx, body, "error")
                tell(ctx, Asker.from_body(body), SORRY.format(reason=type(exc).__name__))
                return
            count(ctx, body, outcome if isinstance(outcome, str) else "ok")
            log.info("command done", extra={"command": body.get("command") or body.get("type"),
                                            "outcome": outcome or "ok",
                                            "duration_ms": round((time.perf_counter() - started) * 1000)})

        return wrapper

    return decorate


def slash_command(app: Any, ctx: Context, name: str, parse: Callable[[str, Asker], Any],
                  handle: Callable[[Context, Asker, Any], str | None]) -> None:
    """Register a command the house way: input errors answered in the ack (no DB), the work after the ack;
    an InputError raised by the work (a rule that needs the database) is told to the asker."""

    def ack_command(ack, body: dict[str, Any]) -> None:
        try:
            request = parse(body.get("text", ""), Asker.from_body(body))
        except InputError as exc:
            ack(text=str(exc), response_type="ephemeral")
            count(ctx, body, "input_error")
            return
        ack()
        later(ctx, answer_command, body=body, request=request)

    @reply_on_error(ctx)
    def answer_command(body: dict[str, Any], request: Any) -> str | None:
        asker = Asker.from_body(body)
        try:
            return handle(ctx, asker, request)
        except InputError as exc:
            tell(ctx, asker, str(exc))
            return "input_error"

    app.command(name)(ack_command)


def button(app: Any, ctx: Context, action: Any, work: Callable[[dict[str, Any]], None]) -> None:
    """Register a button (or other block action) the house way: the ack answers Slack and nothing else; `work(body)`
    runs after the ack, its errors told to the person. `action`: an action_id or a pattern of them."""

    answer = reply_on_error(ctx)(work)

    def ack_button(ack, body: dict[str, Any]) -> None:
        ack()
        later(ctx, answer, body=body)

    app.action(action)(ack_button)


def number(word: str, what: str) -> float:
    try:
        value = float(word.replace(",", "."))
    except ValueError:
        raise InputError(f"'{word}' is not a number of {what}; write it like 42 or 40.5.") from None
    if not 0 <= value < 10_000:
        raise InputError(f"{what.capitalize()} must be between 0 and 10,000, got {word}.")
    return value
