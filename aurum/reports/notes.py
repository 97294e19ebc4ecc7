"""What people write down for the weekly summary: blockers (open until resolved) and next week's commitments."""

from __future__ import annotations

from sqlmodel import Session

from aurum.core.context import Context
from storage import notes
from storage.notes import TeamNote
from storage.types import DEFAULT_SQUAD


def add_blocker(ctx: Context, session: Session, team_id: str, text: str, author: str) -> TeamNote:
    return notes.add(session, team_id, notes.BLOCKER, text, author, ctx.now(), ctx.squad)


def open_blockers(session: Session, team_id: str, squad: str = DEFAULT_SQUAD) -> list[TeamNote]:
    return notes.open_notes(session, team_id, notes.BLOCKER, squad=squad)


def resolve_blocker(ctx: Context, session: Session, team_id: str, note_id: int, by: str) -> TeamNote | None:
    """The blocker, now resolved; None when there is no open blocker of that number."""
    return notes.close(session, team_id, notes.BLOCKER, note_id, by, ctx.now(), ctx.squad)


def add_commitment(ctx: Context, session: Session, team_id: str, text: str, author: str) -> TeamNote:
    return notes.add(session, team_id, notes.COMMITMENT, text, author, ctx.now(), ctx.squad)
