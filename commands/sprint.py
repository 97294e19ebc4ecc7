"""`/sprint`: the active sprint's progress; start, progress and end a sprint by hand (teams without the Jira
collector); next week's commitments for the weekly status. Ending a sprint posts its retrospective."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aurum.core.context import Context
from aurum.core.errors import InputError
from aurum.core.text import CAPS, cleaned
from aurum.kpis import blocks, formatting
from aurum.reports import notes, retro, sprints, weekly
from aurum.squads.roles import SCRUM_MASTERS
from commands.common import Asker, number, only_admins, slash_command, team_context, tell

COMMAND = "/sprint"
USAGE = ("Usage: `/sprint` (progress), `/sprint start <name> [committed points]`, `/sprint progress <points done>`, "
         "`/sprint end [points completed]`, `/sprint commit <next week's commitment>`.")


@dataclass(frozen=True)
class Status:
    pass


@dataclass(frozen=True)
class Start:
    name: str
    committed: float | None


@dataclass(frozen=True)
class Progress:
    completed: float


@dataclass(frozen=True)
class End:
    completed: float | None


@dataclass(frozen=True)
class Commit:
    text: str


def parse(text: str, asker: Asker | None = None) -> Status | Start | Progress | End | Commit:
    words = text.split()
    if not words:
        return Status()
    head, rest = words[0].lower(), words[1:]
    if head == "start":
        committed = None
        named_by_number = len(rest) == 2 and rest[0].lower() == "sprint"  # "Sprint 9" is a name
        if len(rest) > 1 and not named_by_number and rest[-1].replace(".", "", 1).isdigit():
            committed = number(rest.pop(), "committed points")
        name = " ".join(rest)
        if not name:
            raise InputError(f"Name the sprint (up to {CAPS['sprint name']} characters): "
                             "`/sprint start Sprint 24 50`.")
        return Start(cleaned(name, "sprint name"), committed)
    if head == "progress" and len(rest) == 1:
        return Progress(number(rest[0], "points done"))
    if head == "end" and len(rest) <= 1:
        return End(number(rest[0], "points completed") if rest else None)
    if head == "commit":
        commitment = text.strip()[len(words[0]):].strip()
        if not commitment:
            raise InputError(f"Say what the team commits to (up to {CAPS['commitment']} characters): "
                             "`/sprint commit Complete the metadata service migration`.")
        return Commit(cleaned(commitment, "commitment"))
    if head in ("help",):
        raise InputError(USAGE)
    raise InputError(f"I don't understand `{blocks.escape(text.strip())}`. {USAGE}")


def handle(ctx: Context, asker: Asker, request: Status | Start | Progress | End | Commit) -> str | None:
    ctx, squad = team_context(ctx, asker)  # the team's sprint, commitments and retrospective
    if isinstance(request, Start | Progress | End) and only_admins(
            ctx, asker, "start, update or end a sprint (`/sprint start|progress|end`)", squad, [SCRUM_MASTERS]):
        return "refused"
    if isinstance(request, Status):
        with ctx.reading() as session:
            data = weekly.compute(ctx, session, asker.team_id)
        tell(ctx, asker, "Sprint progress", [blocks.section("*Sprint progress*\n" + "\n".join(
            f"• {line}" for line in weekly.sprint_lines(data)))])
    elif isinstance(request, Start):
        with ctx.transaction() as session:
            sprint = sprints.start(ctx, session, asker.team_id, request.name, request.committed, asker.user_id)
        committed = f", {formatting.number(sprint.committed_points)} points committed" \
            if sprint.committed_points is not None else ""
        tell(ctx, asker, f"🏁 {blocks.escape(sprint.name)} started{committed}; it ends "
                         f"{formatting.local_date(sprint.end_at, ctx.tz)}. Update with `/sprint progress <points>`.")  # type: ignore[arg-type]
    elif isinstance(request, Progress):
        with ctx.transaction() as session:
            sprint = sprints.record_progress(session, asker.team_id, request.completed, ctx.squad)
            progress = sprints.progress(sprint, ctx.now())
        state = {True: "on track", False: "behind", None: "no commitment to compare"}[progress.on_track]
        tell(ctx, asker, f"📈 {blocks.escape(sprint.name)}: {formatting.number(progress.completed)} points done "
                         f"— burndown {state}.")
    elif isinstance(request, End):
        with ctx.transaction() as session:
            sprint = sprints.end(ctx, session, asker.team_id, request.completed)
            posted = retro.post_once(ctx, session, asker.team_id, sprint, owner=f"/sprint end by {asker.user_id}")
        where = ctx.config.reports.retro_channel or ctx.config.channels.scrum_masters
        tell(ctx, asker, f"🏁 {blocks.escape(sprint.name)} closed with "
                         f"{formatting.number(sprint.completed_points or 0)} points."
                         + (f" The retrospective is posted in {blocks.escape(where)}." if posted else ""))
    else:
        with ctx.transaction() as session:
            note = notes.add_commitment(ctx, session, asker.team_id, request.text, asker.user_id)
        tell(ctx, asker, f"📌 Commitment #{note.id} recorded for next week: "
                         f"{blocks.escape_keep_mentions(request.text)}. It appears in Friday's summary.")
    return None


def register(app: Any, ctx: Context) -> None:
    slash_command(app, ctx, COMMAND, parse, handle, teams=True)
