"""`/report note <kind> <text>`, `/report notes`, `/report note delete <id>` and `/report budget <spent> of <budget>`:
what people write into the reports (aurum.reports.narrative) and the quarter's budget (aurum.reports.budget)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aurum.core.context import Context
from aurum.core.errors import InputError
from aurum.core.text import cleaned
from aurum.kpis import blocks, formatting
from aurum.reports import budget, narrative
from commands.common import Asker, only_admins, team_context, tell

KIND_ALIASES = {"risks": "risk", "issue": "risk", "achievements": "achievement", "wins": "win",
                "commitments": "commitment", "next": "focus"}
NOTE_USAGE = ("Usage: `/report note risk|achievement|focus|win|commitment <text>` (e.g. `/report note risk Checkout "
              "latency threatens the Q1 launch, PROJ-123`), `/report notes`, `/report note delete <id>`.")
BUDGET_USAGE = ("Usage: `/report budget <spent> of <quarterly budget>`, e.g. `/report budget 120k of 400k` "
                "(amounts like 120000, 120k, 1.2m or $120,000).")
AMOUNT = re.compile(r"^[$€£]?(\d+(?:\.\d+)?)([km]?)$", re.IGNORECASE)
THOUSANDS = re.compile(r"\d,\d{3}(?!\d)")  # 120,000 (a single comma elsewhere is a decimal one: 1,5k)
MAX_AMOUNT = 1e12


@dataclass(frozen=True)
class AddNote:
    kind: str
    text: str


@dataclass(frozen=True)
class ListNotes:
    pass


@dataclass(frozen=True)
class DeleteNote:
    note_id: int


@dataclass(frozen=True)
class SetBudget:
    spent: float
    budget: float


Request = AddNote | ListNotes | DeleteNote | SetBudget


def note_text(kind: str, text: str) -> AddNote:
    """A note of `kind` (or an alias) with `text` (not entity-encoded) under the text policy's cap."""
    kind = KIND_ALIASES.get(kind.lower(), kind.lower())
    if kind not in narrative.KINDS:
        raise InputError(f"'{kind}' is not a kind of note; use one of {', '.join(narrative.NAMES)}. {NOTE_USAGE}")
    if not text.strip():
        raise InputError(f"Say what the {kind} is: `/report note {kind} <text>`.")
    return AddNote(kind, cleaned(text.strip(), "report note"))


def amount(word: str, what: str) -> float:
    digits = word.replace("_", "")
    found = AMOUNT.match(digits.replace(",", "") if THOUSANDS.search(digits) else digits.replace(",", "."))
    if found is None:
        raise InputError(f"'{word}' is not an amount of {what}; write it like 120000, 120k or 1.2m. {BUDGET_USAGE}")
    value = float(found.group(1)) * {"": 1, "k": 1e3, "m": 1e6}[found.group(2).lower()]
    if value > MAX_AMOUNT:
        raise InputError(f"{what.capitalize()} must be below {MAX_AMOUNT:,.0f}, got {word}.")
    return value


def parse(head: str, rest: str) -> Request:
    """`head` is notes, note or budget; `rest` the words after it as typed."""
    if head == "notes":
        if rest:
            raise InputError(NOTE_USAGE)
        return ListNotes()
    if head == "budget":
        words = rest.split()
        if len(words) != 3 or words[1].lower() != "of":
            raise InputError(BUDGET_USAGE)
        spent, total = amount(words[0], "money spent"), amount(words[2], "quarterly budget")
        if total <= 0:
            raise InputError(f"The quarterly budget must be above 0. {BUDGET_USAGE}")
        return SetBudget(spent, total)
    kind, _, text = rest.partition(" ")
    if kind.lower() in ("delete", "remove", "del"):
        number = text.strip().lstrip("#")
        if not number.isdigit():
            raise InputError("Which one? `/report note delete 12` (`/report notes` shows the ids).")
        return DeleteNote(int(number))
    if not kind:
        raise InputError(NOTE_USAGE)
    return note_text(kind, text)


def record(ctx: Context, asker: Asker, request: AddNote) -> None:
    """Store the note, confirm it, then describe the issues it links to (after the answer: sources may be slow)."""
    kind = narrative.KINDS[request.kind]
    with ctx.transaction() as session:
        note = narrative.add(ctx, session, asker.team_id, kind.name, request.text, asker.user_id)
    tell(ctx, asker, f"✍️ {kind.label} note #{note.id} recorded for {kind.report}: "
                     f"{blocks.escape_keep_mentions(request.text)}\n`/report notes` lists this period's notes; "
                     f"`/report note delete {note.id}` removes it.")
    narrative.unfurl(ctx, asker.team_id, request.text)


def handle(ctx: Context, asker: Asker, request: Request) -> str | None:
    if isinstance(request, AddNote):
        record(ctx, asker, request)
    elif isinstance(request, ListNotes):
        with ctx.reading() as session:
            found = narrative.this_period(ctx, session, asker.team_id)
            lines = narrative.written_lines(ctx, session, asker.team_id, found)
        now = ctx.now()
        listed = [f"• #{n.id} *{narrative.KINDS[n.kind].label}*: {line} ({formatting.age(n.created_at, now)})"
                  for n, line in zip(found, lines, strict=True)]
        tell(ctx, asker, "*Report notes of this period* (wins and commitments: last 7 days; the others: last 30 "
                         "days)\n" + ("\n".join(listed) if listed else "None yet — " + NOTE_USAGE))
    elif isinstance(request, DeleteNote):
        _team_ctx, squad = team_context(ctx, asker)  # whose scrum masters may delete any note
        with ctx.transaction() as session:
            note = narrative.delete(ctx, session, asker.team_id, request.note_id, asker.user_id, squad)
        tell(ctx, asker, f"🗑️ Note #{note.id} deleted: {blocks.escape_keep_mentions(note.text)}")
    else:
        if only_admins(ctx, asker, "enter the budget (`/report budget`)"):
            return "refused"
        with ctx.transaction() as session:
            entered = budget.record(ctx, session, asker.team_id, request.spent, request.budget, asker.user_id)
        tell(ctx, asker, "💰 Budget recorded; the executive dashboard shows:\n" + "\n".join(
            f"• {line}" for line in budget.lines(entered, ctx.config.reports.budget_currency)))
    return None
