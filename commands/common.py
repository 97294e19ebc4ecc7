"""What every command module shares: who is asking, where, and one way to report a failure."""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from aurum.core import after_ack, outbox
from aurum.core.context import Context
from aurum.core.errors import InputError, database_hostile
from aurum.core.text import outgoing, typed
from aurum.squads import roles as permitted
from aurum.squads import teams as squads

log = logging.getLogger(__name__)
TEAM_PREFIX = "team:"
SORRY = "Sorry, that did not work ({reason}). Nothing was changed; please try again in a minute."
ONLY_ADMINS = ("Only admins can {doing}. Admins are the Slack workspace's admins and owners, the members of the "
               "admin user group, and the users listed in AURUM_ADMINS: ask one of them, or ask whoever runs "
               "Aurum to add you (your user id is `{user}`).")


@dataclass(frozen=True)
class Asker:
    team_id: str
    user_id: str
    channel_id: str
    response_url: str | None = None  # where the request's answers go (commands and message buttons have one)
    channel_name: str = ""  # as Slack sends it with a command (no #), to find the team whose channel it is
    team: str | None = None  # the team a command names (`team:payments`), a key of `teams:`

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Asker:
        team = body.get("team_id") or (body.get("team") or {}).get("id") or body.get("user", {}).get("team_id", "")
        user = body.get("user_id") or (body.get("user") or {}).get("id", "")
        channel = body.get("channel_id") or (body.get("channel") or {}).get("id", "") or user
        url = body.get("response_url") or next((r.get("response_url") for r in body.get("response_urls") or []
                                                if isinstance(r, dict)), None)
        name = body.get("channel_name") or (body.get("channel") or {}).get("name", "")
        return cls(team_id=team, user_id=user, channel_id=channel, response_url=url or None, channel_name=name)

    @property
    def requester(self) -> outbox.Requester:
        return outbox.Requester(user=self.user_id, channel=self.channel_id, response_url=self.response_url)


def reply(session: Session, asker: Asker, text: str, blocks: list[dict] | None = None) -> str:
    """Queue an answer only the asker sees, where they asked (by the request's response_url; see aurum.core.outbox).
    It never replaces the message whose button was pressed: those (a weekly summary, a survey invitation) are
    everyone's, or still needed."""
    return outbox.respond(session, asker.team_id, asker.requester, text, blocks)


def post_here(session: Session, asker: Asker, text: str, blocks: list[dict] | None = None) -> str:
    """Queue a public post in the asker's conversation; if the bot cannot post there, the asker is told why."""
    return outbox.post(session, asker.team_id, asker.channel_id, text, blocks, asker=asker.requester)


def tell(ctx: Context, asker: Asker, text: str, blocks: list[dict] | None = None) -> None:
    """An answer only the asker sees, in its own transaction."""
    with ctx.transaction() as session:
        reply(session, asker, text, blocks)


def only_admins(ctx: Context, asker: Asker, doing: str, squad: squads.Squad | None = None,
                roles: Sequence[str] = ()) -> bool:
    """True (after telling the asker who may) when the asker is neither an admin nor, in `squad`, a holder of one
    of `roles` (aurum.squads.roles). Call it after the ack: it may ask Slack (users.info, usergroups.users.list)."""
    team = squad or squads.IMPLICIT
    if permitted.may(ctx, asker.team_id, asker.user_id, team, roles):
        return False
    tell(ctx, asker, refusal(ctx, asker, doing, team, roles))
    return True


def refusal(ctx: Context, asker: Asker, doing: str, squad: squads.Squad, roles: Sequence[str] = ()) -> str:
    """Who may do it, and how the asker becomes an admin."""
    text = ONLY_ADMINS.format(doing=doing, user=asker.user_id)
    who = permitted.who_may(ctx, squad, roles)
    return text if who == "admins" else text.replace("Only admins can", f"Only {who} can", 1)


def later(ctx: Context, name: str, body: dict[str, Any]) -> None:
    """Queue the request's work `name` (registered with `work`) to run after the ack: call it from an ack function,
    before `ack()`, so that the work is stored before Slack hears back (aurum.core.after_ack). If it cannot be
    stored, the ack function fails and Slack's user sees the app's error answer instead of a silent loss."""
    after_ack.queue(ctx, Asker.from_body(body).team_id, name, body)


def work(ctx: Context, name: str, run: Callable[[dict[str, Any]], Any]) -> str:
    """Register a request's work after the ack under `name` (unique in the app); its errors are told to the person.
    It runs with the workspace's settings as stored when it starts (Context.serving)."""
    guarded = reply_on_error(ctx)(run)

    def in_workspace(body: dict[str, Any]) -> None:
        with ctx.serving(Asker.from_body(body).team_id):
            guarded(body)

    return ctx.works.add(name, in_workspace)


def count(ctx: Context, body: dict[str, Any], outcome: str) -> None:
    """Count a command or interaction by name and outcome (ok, input_error, refused, error) for /metrics."""
    name = body.get("command") or body.get("type") or "unknown"
    ctx.telemetry.count("command_outcomes", command=str(name)[:40], outcome=outcome)


def reply_on_error(ctx: Context) -> Callable:
    """Wrap work after the ack: log the failure once and tell the asker something short and useful.
    The work may return an outcome ("refused", "input_error") for /metrics; nothing means "ok"."""

    def decorate(work: Callable) -> Callable:
        @functools.wraps(work)
        def wrapper(body: dict[str, Any]) -> None:
            started = time.perf_counter()
            try:
                outcome = work(body)
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


def take_team(ctx: Context, text: str) -> tuple[str, str | None]:
    """The text without its `team:<key>` word, and the key (checked against `teams:`; None when none is named)."""
    words = text.split()
    named = [w for w in words if w.lower().startswith(TEAM_PREFIX)]
    if not named:
        return text, None
    keys = [w[len(TEAM_PREFIX):] for w in named]
    if len(named) > 1 or not keys[0]:
        raise InputError("Name one team, like `team:payments`, or none for the team of this channel or your own.")
    squads.by_key(ctx.config, keys[0])
    return " ".join(w for w in words if w not in named), keys[0].lower()


def team_context(ctx: Context, asker: Asker) -> tuple[Context, squads.Squad]:
    """The context of the team the request is about (squads.which: named, this channel's, the asker's, the default),
    and the team."""
    squad = squads.which(ctx, asker.team_id, asker.user_id, asker.channel_id, asker.channel_name, asker.team)
    return squads.scope(ctx, squad), squad


def slash_command(app: Any, ctx: Context, name: str, parse: Callable[[str, Asker], Any],
                  handle: Callable[[Context, Asker, Any], str | None], teams: bool = False) -> None:
    """Register a command the house way: input errors answered in the ack (no database), the work queued in the ack
    and done after it (`later`); an InputError raised by the work (a rule that needs the database) is told to the
    asker. `parse` must be pure: the work parses the command's text again rather than carry the parsed request.
    `parse` gets the text as the person meant it (aurum.core.text.typed: Slack's markup and encoding resolved,
    control characters gone, refused when no database could store it or it is too long).
    `teams`: the command takes `team:<key>` anywhere in its text; `parse` gets the rest, `handle` the key in
    `asker.team` (team_context gives the team's context)."""

    def request(body: dict[str, Any]) -> tuple[str, Asker]:
        text, asker = typed(body.get("text", "")), Asker.from_body(body)
        if not teams:
            return text, asker
        text, team = take_team(ctx, text)
        return text, dataclasses.replace(asker, team=team)

    def ack_command(ack, body: dict[str, Any]) -> None:
        try:
            parse(*request(body))
        except InputError as exc:
            ack(text=outgoing(str(exc)), response_type="ephemeral")
            count(ctx, body, "input_error")
            return
        later(ctx, answer, body)
        ack()

    def answer_command(body: dict[str, Any]) -> str | None:
        asker = Asker.from_body(body)
        try:
            text, asker = request(body)
            return handle(ctx, asker, parse(text, asker))
        except InputError as exc:
            tell(ctx, asker, str(exc))
            return "input_error"

    answer = work(ctx, f"command:{name}", answer_command)
    app.command(name)(ack_command)


def refuse_hostile(text: str, what: str) -> None:
    """InputError (saying what is wrong and how to fix it) for text no database stores: see database_hostile."""
    problem = database_hostile(text, what)
    if problem is not None:
        raise InputError(problem)


def button(app: Any, ctx: Context, action: Any, run: Callable[[dict[str, Any]], None]) -> None:
    """Register a button (or other block action) the house way: the ack answers Slack and queues `run(body)`, which
    runs after the ack, its errors told to the person. `action`: an action_id or a pattern of them."""

    name = work(ctx, f"action:{getattr(action, 'pattern', action)}", run)

    def ack_button(ack, body: dict[str, Any]) -> None:
        try:
            for pressed in body.get("actions") or []:
                refuse_hostile(str(pressed.get("value") or ""), "The button's value")
        except InputError as exc:  # nothing of the request is stored: only the answer, which quotes none of it
            tell(ctx, Asker.from_body(body), str(exc))
            ack()
            count(ctx, body, "input_error")
            return
        later(ctx, name, body)
        ack()

    app.action(action)(ack_button)


def number(word: str, what: str) -> float:
    try:
        value = float(word.replace(",", "."))
    except ValueError:
        raise InputError(f"'{word}' is not a number of {what}; write it like 42 or 40.5.") from None
    if not 0 <= value < 10_000:
        raise InputError(f"{what.capitalize()} must be between 0 and 10,000, got {word}.")
    return value
