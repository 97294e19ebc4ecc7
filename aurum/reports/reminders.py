"""Review reminders with pre-filled agendas: the weekly team review, the monthly stakeholder review (with the executive
dashboard and the stakeholder survey results) and the quarterly strategic review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session

from aurum.core.context import Context
from aurum.kpis import blocks, formatting
from aurum.kpis import service as kpis
from aurum.reports import executive, inputs, roadmap, sprints, weekly
from aurum.reports.common import Report, bullet_list, not_available
from aurum.reports.config import Review
from storage import notes


@dataclass(frozen=True)
class Meeting:
    kind: str
    title: str
    starts: str
    minutes: int
    attendees: str
    channel: str


def meeting(ctx: Context, kind: str) -> Meeting:
    cfg, channels = ctx.config.reports, ctx.config.channels
    defaults = {
        "weekly": ("Weekly team review", "14:00", 30, "Engineering team, scrum master", channels.team,
                   cfg.weekly_review),
        "monthly": ("Monthly stakeholder review", "10:00", 60, "Engineering leads, product, business stakeholders",
                    channels.roadmap_updates, cfg.monthly_review),
        "quarterly": ("Quarterly strategic review", "14:00", 120, "All stakeholders, executive leadership",
                      channels.roadmap_updates, cfg.quarterly_review),
    }
    title, starts, minutes, attendees, channel, review = defaults[kind]
    assert isinstance(review, Review)
    return Meeting(kind, title, review.starts or starts, review.minutes or minutes, attendees,
                   review.channel or channel)


def _head(item: Meeting) -> list[dict]:
    length = formatting.duration(timedelta(minutes=item.minutes))
    return [blocks.header(f"📅 {item.title} today at {item.starts}"),
            blocks.context(f"{length} · attendees: {item.attendees}")]


def weekly_agenda(ctx: Context, session: Session, team_id: str) -> Report:
    item = meeting(ctx, "weekly")
    now = ctx.now()
    sprint = weekly.sprint_lines(weekly.compute(ctx, session, team_id, now))
    open_blockers = notes.open_notes(session, team_id, notes.BLOCKER)
    commitments = notes.added_between(session, team_id, notes.COMMITMENT, now - weekly.WINDOW, now)
    out = _head(item) + [
        blocks.section("*1. Sprint progress*\n" + bullet_list(sprint, "")),
        blocks.section("*2. Blockers*\n" + bullet_list(
            [f"#{b.id} {blocks.escape_keep_mentions(b.text)} — <@{b.author}>" for b in open_blockers],
            "No open blocker. New ones: `/blocker add <text>`; resolved: `/blocker done <id>`.")),
        blocks.section("*3. Next week's planning*\n" + bullet_list(
            [blocks.escape_keep_mentions(c.text) for c in commitments],
            "Nothing committed yet. Record each commitment with `/sprint commit <text>` — they appear in the "
            "17:00 summary.")),
    ]
    return Report("reminder", f"{item.title} today at {item.starts}", blocks.capped(out))


def monthly_agenda(ctx: Context, session: Session, team_id: str) -> Report:
    item = meeting(ctx, "monthly")
    now = ctx.now()
    statuses = kpis.statuses(ctx, session, team_id)
    plan = roadmap.compute(ctx, session, team_id, statuses, with_outlook=False)
    off = [s for s in statuses.values() if s.state == "off_track" and s.kpi.phase is None]
    focus = executive.focus(ctx, statuses)
    exec_channel = ctx.config.reports.exec_channel or ctx.config.channels.roadmap_updates
    stakeholders = inputs.stakeholder_summary(ctx, session, team_id, now - executive.WINDOW, now)
    survey = stakeholders.line() if stakeholders is not None else not_available("Stakeholder survey results")
    out = _head(item) + [
        blocks.section(f"*1. Progress review*\n• {roadmap.summary_line(plan)}\n• The executive dashboard was "
                       f"posted in {blocks.escape(exec_channel)} this morning (`/report exec preview` shows it)."),
        blocks.section("*2. Metrics analysis*\n" + bullet_list(
            [f"{s.emoji} {s.kpi.name}: {formatting.value(s.kpi, s.latest.value)} (target "
             f"{formatting.target(s.kpi)})" for s in off if s.latest], "Every KPI is on track or at risk.")),
        blocks.section("*3. Priority adjustments* — candidates from the data\n" + bullet_list(
            [f"{s.kpi.name}: furthest from its target" for s in focus], "None.")),
        blocks.section("*Stakeholder survey results*\n" + survey),
    ]
    return Report("reminder", f"{item.title} today at {item.starts}", blocks.capped(out))


def quarterly_agenda(ctx: Context, session: Session, team_id: str) -> Report:
    item = meeting(ctx, "quarterly")
    plan = roadmap.compute(ctx, session, team_id, with_outlook=False)
    velocity = sprints.velocity_average(session, team_id, ctx.now())
    budget = kpis.status(ctx, session, team_id, ctx.catalog.get(executive.BUDGET))
    resources = [f"Velocity: {formatting.number(velocity.value)} points/sprint (3-sprint average)" if velocity
                 else "Velocity: no sprint data",
                 f"Budget: {formatting.number(budget.latest.value)}% utilized" if budget.latest
                 else "Budget: not recorded (`/kpi record budget <percent>`)"]
    out = _head(item) + [
        blocks.section("*1. Phase completion assessment*\n" + bullet_list(
            [f"Phase {p.number} {blocks.escape(p.name)}: {formatting.number(p.percent)}% ({p.status})"
             for p in plan.phases], "")),
        blocks.section("*2. Roadmap adjustments*\n• Which phase targets move? The quarterly review pack (in the "
                       "thread of today's pack post) lists the KPI changes of the quarter."),
        blocks.section("*3. Resource planning*\n" + bullet_list(resources, "")),
    ]
    return Report("reminder", f"{item.title} today at {item.starts}", blocks.capped(out))
