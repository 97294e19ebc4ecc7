"""`/kudos`: the seed's awards from one teammate to another, team achievements by hand, the leaderboard; and the
Confirm button of the weekly summary's kudos candidates."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from aurum.core.context import Context
from aurum.core.errors import InputError
from aurum.kpis import blocks
from aurum.recognition import kudos as recognition
from aurum.squads import teams as squads
from commands.common import Asker, button, refuse_hostile, reply, slash_command, team_context, tell

COMMAND = "/kudos"
SUGGESTION_KEY = re.compile(r"^\d{4}-W\d{2}:[a-z_]{1,20}$")
AWARD_LIST = ", ".join(f"`{name}` ({title})" for name, title in
                       (("code-quality", "Code Quality Award"), ("performance", "Performance Champion"),
                        ("innovation", "Innovation Award"), ("mentorship", "Mentorship Award")))
USAGE = (f"Usage: `/kudos @person <award> <why>` with an award of {AWARD_LIST}; "
         "`/kudos team customer-impact <why>` for a team achievement; `/kudos leaderboard [month|quarter] "
         "[team:<key>]`.")


@dataclass(frozen=True)
class Give:
    receiver: str
    award: str
    reason: str


@dataclass(frozen=True)
class Team:
    kind: str
    reason: str


@dataclass(frozen=True)
class Leaderboard:
    span: str


def parse(text: str, asker: Asker) -> Give | Team | Leaderboard:
    words = text.split()
    if not words or words[0].lower() == "help":
        raise InputError(USAGE)
    head = words[0].lower()
    if head == "leaderboard":
        span = words[1].lower() if len(words) > 1 else "month"
        if len(words) > 2 or span not in ("month", "quarter"):
            raise InputError("Usage: `/kudos leaderboard [month|quarter] [team:<key>]`.")
        return Leaderboard(span)
    if asker.team is not None:
        raise InputError("`team:<key>` goes with `/kudos leaderboard` only: kudos are given to a person, whatever "
                         "their team. Leave it out.")
    if head == "team":
        kind = recognition.TEAM_NAMES.get(words[1].lower()) if len(words) > 1 else None
        if kind is None:
            raise InputError("Usage: `/kudos team customer-impact <the feedback>` (also sprint-excellence, "
                             "release-success, quality-milestone).")
        return Team(kind, recognition.clean_reason(" ".join(words[2:])))
    receiver = recognition.mentioned_user(words[0])
    if receiver is None:
        raise InputError(f"Start with the person: `/kudos @ana code-quality <why>`. {USAGE}")
    recognition.check_not_self(asker.user_id, receiver)
    award = recognition.award_key(words[1]) if len(words) > 1 else None
    if award is None:
        raise InputError(f"Which award? Choose one of {AWARD_LIST}.")
    return Give(receiver, award, recognition.clean_reason(" ".join(words[2:])))


def handle(ctx: Context, asker: Asker, request: Give | Team | Leaderboard) -> None:
    channel = recognition.recognition_channel(ctx)  # every /kudos post goes there, and the reply says so
    if isinstance(request, Leaderboard):
        since, until, label = recognition.window(ctx, request.span)
        _team_ctx, squad = team_context(ctx, asker)
        label = f"{label} · {squad.label}" if squad.label else label
        with ctx.reading() as session:
            board = recognition.leaderboard(session, asker.team_id, since, until)
        mine = squads.belonging(ctx, asker.team_id, squad, [person for person, *_ in board])
        board = [row for row in board if row[0] in mine]  # the team's members' kudos
        tell(ctx, asker, f"Kudos leaderboard — {label}", recognition.leaderboard_blocks(board, label))
    elif isinstance(request, Team):
        with ctx.transaction() as session:
            recognition.achieve(ctx, session, asker.team_id, request.kind,
                                f"{request.kind}:{asker.user_id}:{ctx.now():%Y%m%dT%H%M%S}", request.reason,
                                by=asker.user_id, channel=channel)
        tell(ctx, asker, f"🎉 {recognition.TEAM_ACHIEVEMENTS[request.kind]} shared in {blocks.escape(channel)}.")
    else:
        with ctx.transaction() as session:
            recognition.give(ctx, session, asker.team_id, asker.user_id, request.receiver, request.award,
                             request.reason)
            given, limit = recognition.limit_reached(ctx, session, asker.team_id, asker.user_id)
        tell(ctx, asker, f"🏆 Kudos sent — shared in {blocks.escape(channel)} ({given} of {limit} today).")


def confirm_suggestion(ctx: Context, body: dict[str, Any]) -> None:
    """The weekly summary's Confirm button: the award to the person picked in the same block."""
    asker = Asker.from_body(body)
    action = body["actions"][0]
    suggestion = json.loads(action.get("value") or "{}")
    if not SUGGESTION_KEY.match(str(suggestion.get("key", ""))):
        tell(ctx, asker, "That button is not one of Aurum's kudos suggestions.")
        return
    picked = ((body.get("state") or {}).get("values") or {}).get(action.get("block_id", ""), {})
    receiver = (picked.get(recognition.SUGGEST_USER_ACTION) or {}).get("selected_user")
    if not receiver:
        tell(ctx, asker, "Pick who made it happen in the menu next to the button, then confirm.")
        return
    try:
        for part in ("award", "reason"):  # JSON escapes (\u0000) in the button's value come out here
            refuse_hostile(str(suggestion.get(part, "")), "The suggestion")
        with ctx.transaction() as session:
            recognition.give(ctx, session, asker.team_id, asker.user_id, receiver, suggestion.get("award", ""),
                             suggestion.get("reason", ""), suggestion_key=suggestion.get("key"))
    except InputError as exc:
        tell(ctx, asker, str(exc))
        return
    with ctx.transaction() as session:  # a reply of its own: the suggestion is part of the weekly summary
        reply(session, asker, "Kudos confirmed", [blocks.section(f"✅ Kudos confirmed for <@{receiver}>, thank you!")])


def register(app: Any, ctx: Context) -> None:
    slash_command(app, ctx, COMMAND, parse, handle, teams=True)

    def ack_only(ack) -> None:
        ack()

    button(app, ctx, recognition.SUGGEST_CONFIRM_ACTION, lambda body: confirm_suggestion(ctx, body))
    app.action(recognition.SUGGEST_USER_ACTION)(ack_only)  # picking a person needs no answer until Confirm
