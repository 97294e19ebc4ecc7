"""What people write into the reports (`/report note`, the preview's "Add a note"): risks, achievements and next
month's focus for the executive dashboard; wins, commitments (and risks) for the weekly summary. Each note is shown
beside the generated lines, marked ✍️ with its author; the Jira/GitHub issues it links to are described by title and
state, looked up after the ack and cached (a failed lookup leaves the plain link)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from aurum.collectors import issues
from aurum.collectors.errors import CollectorError
from aurum.core.context import Context
from aurum.core.errors import InputError
from aurum.kpis import blocks
from storage import narrative as repo
from storage import notes
from storage.notes import TeamNote

log = logging.getLogger(__name__)
WEEK = timedelta(days=7)  # the weekly summary's window
MONTH = timedelta(days=30)  # the executive dashboard's window
FRESH = timedelta(hours=1)  # a looked-up issue is asked again after this


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    report: str
    window: timedelta


KINDS = {k.name: k for k in (
    Kind("risk", "Risk", "the executive dashboard's *Risks & issues* and the weekly *Blockers & impediments*", MONTH),
    Kind("achievement", "Achievement", "the executive dashboard's *Achievements*", MONTH),
    Kind("focus", "Next month focus", "the executive dashboard's *Next month focus*", MONTH),
    Kind("win", "Win", "the weekly summary's *This week's wins*", WEEK),
    Kind("commitment", "Commitment", "the weekly summary's *Next week's commitments*", WEEK),
)}
NAMES = list(KINDS)


def add(ctx: Context, session: Session, team_id: str, kind: str, text: str, author: str) -> TeamNote:
    return notes.add(session, team_id, KINDS[kind].name, text, author, ctx.now(), squad=ctx.squad)


def this_period(ctx: Context, session: Session, team_id: str) -> list[TeamNote]:
    """Every note a report of now would show: the week's wins and commitments, the month's others."""
    now = ctx.now()
    found = [n for kind in KINDS.values()
             for n in notes.of_kinds_between(session, team_id, [kind.name], now - kind.window, now,
                                             squad=ctx.squad)]
    return sorted(found, key=lambda n: (n.created_at, n.id or 0))


def between(ctx: Context, session: Session, team_id: str, kind: str, since: datetime,
            until: datetime) -> list[TeamNote]:
    """The notes of ctx's team of one kind written in (since, until]."""
    return notes.of_kinds_between(session, team_id, [kind], since, until, squad=ctx.squad)


def delete(ctx: Context, session: Session, team_id: str, note_id: int, user: str) -> TeamNote:
    """Delete a note of the team; only its author or an admin may. InputError saying why not otherwise."""
    note = notes.find(session, team_id, note_id, NAMES)
    if note is None:
        raise InputError(f"No report note #{note_id} — `/report notes` lists this period's notes with their ids.")
    if note.author != user and not ctx.is_admin(user, team_id):
        raise InputError(f"Only <@{note.author}>, who wrote note #{note_id}, or an admin can delete it.")
    notes.delete(session, note)
    return note


def unfurl(ctx: Context, team_id: str, text: str) -> int:
    """Look up the issues `text` links to (those not looked up within FRESH) and cache their title and state;
    how many were looked up. Never raises for a source that cannot answer: the link stays plain."""
    links = issues.links_in(text, ctx.config.sources)
    if not links:
        return 0
    now = ctx.now()
    with ctx.reading() as session:
        cached = repo.unfurls(session, team_id, [link.key for link in links])
    found = {}
    for link in links:
        if link.key in cached and now - cached[link.key].fetched_at < FRESH:
            continue
        try:
            found[link.key] = issues.describe(link, ctx.config.sources, ctx.secrets, now)
        except CollectorError as exc:
            log.info("link not described", extra={"source": exc.source, "problem": exc.problem})
    if found:
        with ctx.transaction() as session:
            for key, issue in found.items():
                repo.save_unfurl(session, team_id, key, issue.title, issue.state, now)
    return len(found)


def written_lines(ctx: Context, session: Session, team_id: str, written: list[TeamNote]) -> list[str]:
    """Notes as report lines: `✍️ <@U…> text (PROJ-1: title · state)`, escaped (only user mentions are kept)."""
    keys = {n.id: [link.key for link in issues.links_in(n.text, ctx.config.sources)] for n in written}
    known = repo.unfurls(session, team_id, sorted({key for found in keys.values() for key in found}))
    lines = []
    for note in written:
        described = [f"{key}: {known[key].title} · {known[key].state}" for key in keys[note.id] if key in known]
        extra = f" _({blocks.escape('; '.join(described))})_" if described else ""
        lines.append(f"✍️ <@{note.author}> {blocks.escape_keep_mentions(note.text)}{extra}")
    return lines
