"""`/blocker`: record impediments for the weekly status and the retrospective; list them; close them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aurum.core.context import Context
from aurum.core.errors import InputError
from aurum.core.text import cleaned
from aurum.kpis import blocks, formatting
from aurum.reports import notes
from commands.common import Asker, slash_command, team_context, tell

COMMAND = "/blocker"
USAGE = ("Usage: `/blocker add <what blocks you>` (mention who is on it: `assigned to @ana`), `/blocker list`, "
         "`/blocker done <id>`. Open blockers appear in Friday's summary.")


@dataclass(frozen=True)
class Add:
    text: str


@dataclass(frozen=True)
class List:
    pass


@dataclass(frozen=True)
class Done:
    note_id: int


def parse(text: str, asker: Asker | None = None) -> Add | List | Done:
    head, _, rest = text.strip().partition(" ")
    head, rest = head.lower(), rest.strip()
    if head == "add":
        if not rest:
            raise InputError("Say what blocks you: `/blocker add Trino connection pool exhausted in staging`.")
        return Add(cleaned(rest, "blocker"))
    if head in ("list", "") and not rest:
        return List()
    if head in ("done", "resolve", "close"):
        number = rest.lstrip("#")
        if not number.isdigit():
            raise InputError("Which one? `/blocker done 12` (`/blocker list` shows the numbers).")
        return Done(int(number))
    raise InputError(USAGE)


def handle(ctx: Context, asker: Asker, request: Add | List | Done) -> None:
    ctx, _squad = team_context(ctx, asker)  # the team's blockers
    now = ctx.now()
    if isinstance(request, Add):
        with ctx.transaction() as session:
            note = notes.add_blocker(ctx, session, asker.team_id, request.text, asker.user_id)
        tell(ctx, asker, f"🚧 Blocker #{note.id} recorded: {blocks.escape_keep_mentions(request.text)}\n"
                         f"It shows in Friday's summary until `/blocker done {note.id}`.")
    elif isinstance(request, List):
        with ctx.reading() as session:
            found = notes.open_blockers(session, asker.team_id, ctx.squad)
        lines = [f"• #{n.id} {blocks.escape_keep_mentions(n.text)} — <@{n.author}>, {formatting.age(n.created_at, now)}"
                 for n in found]
        tell(ctx, asker, "*Open blockers*\n" + ("\n".join(lines) if lines else "None. 🎉"))
    else:
        with ctx.transaction() as session:
            closed = notes.resolve_blocker(ctx, session, asker.team_id, request.note_id, asker.user_id)
        if closed is None:
            raise InputError(f"No open blocker #{request.note_id} — `/blocker list` shows the open ones.")
        tell(ctx, asker, f"✅ Blocker #{closed.id} resolved: {blocks.escape_keep_mentions(closed.text)}")


def register(app: Any, ctx: Context) -> None:
    slash_command(app, ctx, COMMAND, parse, handle, teams=True)
