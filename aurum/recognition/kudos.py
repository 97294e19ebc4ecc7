"""Recognition: the seed's individual awards (kudos), team achievements, the leaderboard and data-driven suggestions."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from aurum.core import outbox
from aurum.core.context import Context
from aurum.core.errors import InputError
from aurum.core.periods import local_midnight, month_start, quarter_start
from aurum.core.text import cleaned
from aurum.kpis import blocks, formatting
from aurum.kpis.movement import Movement
from storage import recognition as repo
from storage.recognition import Achievement, Kudos

AWARDS: dict[str, str] = {
    "code_quality": "Code Quality Award",
    "performance": "Performance Champion",
    "innovation": "Innovation Award",
    "mentorship": "Mentorship Award",
}
AWARD_EMOJI = {"code_quality": "🧪", "performance": "⚡", "innovation": "💡", "mentorship": "🌱"}
AWARD_FOR = {"code_quality": "best test coverage improvement", "performance": "a significant performance optimisation",
             "innovation": "creative problem solving", "mentorship": "helping team members grow"}
AWARD_NAMES: dict[str, str] = {
    "code-quality": "code_quality", "code_quality": "code_quality", "codequality": "code_quality",
    "quality": "code_quality",
    "performance": "performance", "performance-champion": "performance", "perf": "performance",
    "innovation": "innovation", "innovation-award": "innovation",
    "mentorship": "mentorship", "mentor": "mentorship", "mentorship-award": "mentorship",
}
TEAM_ACHIEVEMENTS: dict[str, str] = {
    "sprint_excellence": "Sprint Excellence",
    "release_success": "Release Success",
    "quality_milestone": "Quality Milestone",
    "customer_impact": "Customer Impact",
    "kpi_target": "Target reached",
    "kpi_stretch": "Stretch goal reached",
    "phase_complete": "Phase complete",
}
TEAM_NAMES = {"customer-impact": "customer_impact", "customer": "customer_impact",
              "sprint-excellence": "sprint_excellence", "release-success": "release_success",
              "quality-milestone": "quality_milestone"}
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
# Block Kit ids of the suggestion buttons in the weekly summary (handled in commands/kudos.py).
SUGGEST_BLOCK = "kudos_suggest"
SUGGEST_USER_ACTION = "kudos_suggest_user"
SUGGEST_CONFIRM_ACTION = "kudos_suggest_confirm"


def recognition_channel(ctx: Context) -> str:
    """Where `/kudos` posts: the awards, and the team achievements people recognise by hand."""
    return ctx.config.reports.recognition_channel or ctx.config.channels.team


def celebrations_channel(ctx: Context) -> str:
    """Where the bot's own celebrations go: KPI milestones, phases complete, Sprint Excellence, Release Success."""
    return ctx.config.reports.celebrations_channel or ctx.config.channels.team


def award_key(word: str) -> str | None:
    return AWARD_NAMES.get(word.strip().lower())


def mentioned_user(word: str) -> str | None:
    match = MENTION.match(word.strip())
    return match.group(1) if match else None


def clean_reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise InputError("Say why, e.g. `/kudos @ana code-quality for raising coverage of the DAO layer to 90%`.")
    return cleaned(reason, "kudos reason")


def check_not_self(giver: str, receiver: str) -> None:
    if giver == receiver:
        raise InputError("You can't give kudos to yourself — recognise a teammate who helped you instead. 🙂")


def limit_reached(ctx: Context, session: Session, team_id: str, giver: str) -> tuple[int, int]:
    """(given today, daily limit); today is the team's local day."""
    today = local_midnight(ctx, ctx.now().astimezone(ctx.tz).date())
    return repo.given_since(session, team_id, giver, today), ctx.config.reports.kudos_daily_limit


def give(ctx: Context, session: Session, team_id: str, giver: str, receiver: str, award: str, reason: str,
         suggestion_key: str | None = None) -> Kudos:
    """Store kudos and queue the public shout-out. InputError says why it was refused."""
    check_not_self(giver, receiver)
    if award not in AWARDS:
        raise InputError(f"Unknown award; choose one of {', '.join(AWARDS.values())}.")
    reason = clean_reason(reason)
    given, limit = limit_reached(ctx, session, team_id, giver)
    if given >= limit:
        raise InputError(f"You've given {given} kudos today, the daily limit of {limit}. "
                         "Save the next one for tomorrow — it will mean just as much.")
    if suggestion_key and (earlier := repo.by_suggestion(session, team_id, suggestion_key)) is not None:
        raise InputError(f"This suggestion was already confirmed by <@{earlier.giver}> for <@{earlier.receiver}>.")
    kudos = repo.add_kudos(session, Kudos(team_id=team_id, giver=giver, receiver=receiver, award=award,
                                          reason=reason, suggestion_key=suggestion_key, created_at=ctx.now()))
    if kudos is None:
        raise InputError("This suggestion was just confirmed by someone else.")
    outbox.post(session, team_id, recognition_channel(ctx), f"{AWARDS[award]} for <@{receiver}>", shout_out(kudos),
                key=f"kudos:{kudos.id}")
    return kudos


def shout_out(kudos: Kudos) -> list[dict]:
    emoji = AWARD_EMOJI.get(kudos.award, "🏆")
    return [blocks.section(f"{emoji} *{AWARDS.get(kudos.award, kudos.award)}* for <@{kudos.receiver}>!\n"
                           f"> {blocks.escape_keep_mentions(kudos.reason)}"),
            blocks.context(f"From <@{kudos.giver}> · the seed's award for {AWARD_FOR.get(kudos.award, 'great work')}"
                           " · `/kudos leaderboard` for the month")]


def achieve(ctx: Context, session: Session, team_id: str, kind: str, key: str, detail: str, by: str = "",
            title: str | None = None, announce: bool = True, at: datetime | None = None,
            channel: str | None = None) -> Achievement | None:
    """Record a team achievement once per key, with a celebration post when `announce` (in `channel`, by default
    the celebrations channel)."""
    row = repo.add_achievement(session, Achievement(team_id=team_id, key=key, kind=kind,
                                                    title=title or TEAM_ACHIEVEMENTS.get(kind, kind),
                                                    detail=detail, by=by, at=at or ctx.now()))
    if row is not None and announce:
        outbox.post(session, team_id, channel or celebrations_channel(ctx),
                    f"🎉 {row.title}: {blocks.escape_keep_mentions(detail)}",
                    celebration(row), key=f"achievement:{key}")
    return row


def celebration(row: Achievement) -> list[dict]:
    by = f" · recognised by <@{row.by}>" if row.by else ""
    return [blocks.header(f"🎉 {row.title}"), blocks.section(blocks.escape_keep_mentions(row.detail)),
            blocks.context(f"Team achievement{by} · celebrate it at the next all-hands 🥳")]


# --- the leaderboard and the roll ------------------------------------------------------------------------------------


def window(ctx: Context, span: str) -> tuple[datetime, datetime, str]:
    local = ctx.now().astimezone(ctx.tz)
    if span == "quarter":
        start = quarter_start(ctx, local)
        label = f"Q{(local.month - 1) // 3 + 1} {local.year}"
    else:
        start = month_start(ctx, local)
        label = local.strftime("%B %Y")
    return start, ctx.now() + timedelta(seconds=1), label


def leaderboard(session: Session, team_id: str, since: datetime, until: datetime) -> list[tuple[str, int, Counter]]:
    """(person, kudos received, by award) in [since, until), most first."""
    return repo.leaderboard(session, team_id, since, until)


def leaderboard_blocks(board: Sequence[tuple[str, int, dict]], label: str) -> list[dict]:
    if not board:
        return [blocks.section(f"*Kudos leaderboard — {label}*\nNo kudos yet. Start with "
                               "`/kudos @person code-quality <why>`.")]
    medals = ["🥇", "🥈", "🥉"]
    lines = []
    for i, (user, count, awards) in enumerate(board[:10]):
        detail = ", ".join(f"{AWARD_EMOJI.get(a, '🏆')} {n}" for a, n in sorted(awards.items()))
        lines.append(f"{medals[i] if i < 3 else f'{i + 1}.'} <@{user}> — {count} kudos ({detail})")
    return [blocks.header(f"🏆 Kudos leaderboard — {label}"), blocks.section("\n".join(lines))]


def roll_lines(kudos: list[Kudos], achievements: list[Achievement], limit: int = 12) -> list[str]:
    """The recognition roll: each kudos and each team achievement of a period, newest first."""
    lines = [f"{AWARD_EMOJI.get(k.award, '🏆')} *{AWARDS.get(k.award, k.award)}*: <@{k.receiver}> — "
             f"{blocks.escape_keep_mentions(k.reason)}" for k in kudos]
    lines += [f"🎉 *{a.title}*: {blocks.escape_keep_mentions(a.detail)}" for a in achievements]
    return lines[:limit]


# --- suggestions from the data (weekly summary) -----------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    award: str
    reason: str
    user: str | None  # a person the data points at, if any (who recorded the improving value)
    key: str


SUGGESTED_BY = {  # award ← KPI whose improvement suggests it, and the smallest notable change (in its unit)
    "code_quality": ("test_coverage_percentage", 0.5),
    "performance": ("api_response_time_p95", 5.0),
    "mentorship": ("new_developer_productivity_days", 0.5),
}


def suggestions(moves: list[Movement], sources: dict[str, str], period: str) -> list[Suggestion]:
    """One candidate per award whose KPI improved notably over the period; `sources` maps a KPI to the source of
    its latest value (`manual:U123` names the person who recorded it)."""
    by_key = {m.kpi.key: m for m in moves}
    found = []
    for award, (kpi_key, smallest) in SUGGESTED_BY.items():
        move = by_key.get(kpi_key)
        if move is None or move.change is None:
            continue
        better = move.change if move.kpi.direction == "higher" else -move.change
        threshold = smallest if move.kpi.unit != "ms" else abs(move.start or 0) * smallest / 100
        if better < threshold or better <= 0:
            continue
        source = sources.get(kpi_key, "")
        user = source.split(":", 1)[1] if source.startswith("manual:") else None
        assert move.start is not None and move.end is not None  # both are known when the change is
        reason = f"{move.kpi.name} {move.change_text()} this week ({formatting.value(move.kpi, move.start)} → " \
                 f"{formatting.value(move.kpi, move.end)})"
        found.append(Suggestion(award, reason, user if user and MENTION.match(f"<@{user}>") else None,
                                f"{period}:{award}"))
    return found


def suggestion_blocks(items: list[Suggestion]) -> list[dict]:
    out: list[dict] = []
    for item in items:
        label = f"{AWARD_EMOJI[item.award]} *{AWARDS[item.award]}* candidate — {blocks.escape(item.reason)}"
        who = f"\nThe data points at <@{item.user}>." if item.user else "\nPick who made it happen."
        out.append(blocks.section(label + who))
        picker: dict = {"type": "users_select", "action_id": SUGGEST_USER_ACTION,
                        "placeholder": {"type": "plain_text", "text": "Who made it happen?"}}
        if item.user:
            picker["initial_user"] = item.user
        value = json.dumps({"award": item.award, "reason": item.reason[:400], "key": item.key})
        out.append(blocks.actions(f"{SUGGEST_BLOCK}:{item.award}", picker,
                                  blocks.button("Confirm kudos", SUGGEST_CONFIRM_ACTION, value, style="primary")))
    return out
