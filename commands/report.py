"""`/report weekly|sprint|exec|quarterly [preview]`: a report now. Without `preview` it is the period's official
post (through the same once-per-period claim as the schedule); with `preview` only the asker sees it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from aurum.core.context import Context
from aurum.core.errors import InputError
from aurum.core.jobs import JobRunner
from aurum.core.periods import week_key
from aurum.kpis.blocks import MAX_BLOCKS, escape
from aurum.reports import executive, quarterly, retro, weekly
from aurum.reports import jobs as report_jobs
from aurum.reports.common import Report, deliver_preview
from aurum.reports.narrative_blocks import add_note_actions
from aurum.squads import teams as squads
from commands import report_modal, report_notes
from commands.common import Asker, slash_command, team_context, tell

COMMAND = "/report"
KINDS = {"weekly": "weekly_summary", "sprint": "sprint_retrospective", "exec": "executive_dashboard",
         "quarterly": "quarterly_review"}
ALIASES = {"week": "weekly", "retro": "sprint", "retrospective": "sprint", "executive": "exec", "monthly": "exec",
           "quarter": "quarterly"}
USAGE = ("Usage: `/report weekly|sprint|exec|quarterly [preview] [team:<key>]` — `preview` shows it only to you; "
         "without it the report is posted to its channel now (once per period). Notes for the reports: `/report "
         "note risk|achievement|focus|win|commitment <text>`, `/report notes`; the budget: `/report budget 120k of "
         "400k`.")
NOTE_KIND = {"weekly": "win", "exec": "risk"}  # the kind the preview's "Add a note" form starts with


@dataclass(frozen=True)
class Request:
    kind: str
    preview: bool


def parse(text: str, asker: Asker | None = None) -> Request | report_notes.Request:
    head, _, rest = text.strip().partition(" ")
    if head.lower() in ("note", "notes", "budget"):
        return report_notes.parse(head.lower(), rest.strip())
    words = [w.lower() for w in text.split()]
    if not words or words[0] == "help":
        raise InputError(USAGE)
    kind = ALIASES.get(words[0], words[0])
    if kind not in KINDS or len(words) > 2 or (len(words) == 2 and words[1] != "preview"):
        raise InputError(USAGE)
    return Request(kind, preview=len(words) == 2)


def build(ctx: Context, team_id: str, kind: str, org: bool = True) -> Report | None:
    """The report of ctx's team; the executive dashboard's KPI values are the organisation's unless not `org`."""
    with ctx.reading() as session:
        if kind == "weekly":
            return weekly.build(ctx, session, team_id)
        if kind == "exec":
            return executive.build(ctx, session, team_id, org=org)
        if kind == "quarterly":
            return quarterly.build(ctx, session, team_id)
        sprint = retro.sprint_to_preview(session, team_id, ctx.squad)
        return retro.build(ctx, session, team_id, sprint) if sprint is not None else None


def handle(ctx: Context, asker: Asker, request: Request | report_notes.Request) -> str | None:
    ctx, squad = team_context(ctx, asker)
    if not isinstance(request, Request):
        return report_notes.handle(ctx, asker, request)
    if request.preview:
        report = build(ctx, asker.team_id, request.kind, org=asker.team is None)
        if report is None:
            raise InputError("No sprint yet: `/sprint start <name> [points]` starts one, or connect Jira.")
        if request.kind in NOTE_KIND:  # room for the preview's own first line: see deliver_preview
            report = replace(report, blocks=[*report.blocks[: MAX_BLOCKS - 2],
                                             add_note_actions(NOTE_KIND[request.kind])])
        with ctx.transaction() as session:
            deliver_preview(session, asker.team_id, report, asker.channel_id, asker.user_id)
        return None
    if ctx.admins and not ctx.is_admin(asker.user_id, asker.team_id):
        raise InputError(f"Only admins can post the {request.kind} report now; `/report {request.kind} preview` "
                         "shows it to you.")
    if request.kind == "sprint":
        post_retro(ctx, asker)  # the team's
        return None
    if request.kind == "weekly" and asker.team is not None:
        post_team_weekly(ctx, asker, squad)
        return None
    (outcome,) = JobRunner(ctx).run_now(KINDS[request.kind], team_id=asker.team_id)
    if outcome.result == "already ran":
        tell(ctx, asker, f"The {request.kind} report of {outcome.period} was already posted; "
                         f"`/report {request.kind} preview` shows the current numbers to you.")
    elif outcome.result.startswith("failed"):
        tell(ctx, asker, f"Sorry, the {request.kind} report could not be built; nothing was posted.")
    else:
        tell(ctx, asker, f"📤 The {request.kind} report of {outcome.period} is {outcome.result}.")
    return None


def post_team_weekly(ctx: Context, asker: Asker, squad: squads.Squad) -> None:
    """The named team's weekly summary only (`/report weekly` without `team:` posts every team's)."""
    period = week_key(ctx.now().astimezone(ctx.tz))
    with ctx.transaction() as session:
        channel, queued = report_jobs.team_weekly_summary(ctx, session, asker.team_id, period, squad)
    if queued:
        tell(ctx, asker, f"📤 {squad.label}'s weekly summary of {period} is posted to {escape(channel)}.")
    else:
        tell(ctx, asker, f"{squad.label}'s weekly summary of {period} was already posted; "
                         f"`/report weekly preview team:{squad.key}` shows the current numbers to you.")


def post_retro(ctx: Context, asker: Asker) -> None:
    with ctx.transaction() as session:
        sprint = retro.latest_closed(session, asker.team_id, ctx.squad)
        if sprint is None:
            raise InputError("No closed sprint yet; `/sprint end` closes the active one and posts its retrospective.")
        posted = retro.post_once(ctx, session, asker.team_id, sprint, owner=f"/report by {asker.user_id}")
    if posted:
        tell(ctx, asker, f"📤 The retrospective of {sprint.name} is posted.")
    else:
        tell(ctx, asker, f"The retrospective of {sprint.name} was already posted; `/report sprint preview` shows it "
                         "to you.")


def register(app: Any, ctx: Context) -> None:
    slash_command(app, ctx, COMMAND, parse, handle, teams=True)
    report_modal.register(app, ctx)
