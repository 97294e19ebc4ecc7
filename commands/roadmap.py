"""`/roadmap`: phases 1–4 with their completion and each success metric's status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aurum.core.context import Context
from aurum.core.errors import InputError
from aurum.reports import roadmap
from commands.common import Asker, post_here, slash_command, team_context, tell

COMMAND = "/roadmap"


@dataclass(frozen=True)
class Request:
    private: bool


def parse(text: str, asker: Asker | None = None) -> Request:
    words = text.lower().split()
    if words not in ([], ["private"]):
        raise InputError("Usage: `/roadmap [team:<key>]` (posted here) or `/roadmap private [team:<key>]` (only you).")
    return Request(private=bool(words))


def handle(ctx: Context, asker: Asker, request: Request) -> None:
    ctx, squad = team_context(ctx, asker)  # the team's phases and values
    with ctx.reading() as session:
        plan = roadmap.compute(ctx, session, asker.team_id)
    message = roadmap.render(plan, squad.label)
    text = f"Roadmap{f' of {squad.label}' if squad.label else ''}: {plan.percent:.0f}% of phase success metrics met"
    if request.private:
        tell(ctx, asker, text, message)
        return
    with ctx.transaction() as session:
        post_here(session, asker, text, message)


def register(app: Any, ctx: Context) -> None:
    slash_command(app, ctx, COMMAND, parse, handle, teams=True)
