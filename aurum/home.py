"""The App Home tab: KPI statuses, the latest survey results, active alerts, recent recognition, next events, and
for admins the settings they can change and the latest changes (for a team's leads, their team's)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from aurum.core.context import Context
from aurum.core.jobs import JobRunner
from aurum.kpis import blocks, formatting
from aurum.kpis import service as kpis
from aurum.recognition import kudos as recognition
from aurum.reports import inputs, roadmap
from aurum.reports.common import bullet_list, not_available
from aurum.settings import service as settings
from aurum.squads.teams import Squad
from storage import recognition as recognition_repo

MAX_HOME_BLOCKS = 100
HOME_CATEGORIES = ["velocity", "quality", "reliability", "devex", "team", "budget"]
EVENTS = ["weekly_review_reminder", "weekly_summary", "monthly_review_reminder", "executive_dashboard",
          "quarterly_review_reminder", "quarterly_review"]
RECENT = timedelta(days=30)


def view(ctx: Context, session: Session, team_id: str, team: str = "", admin: bool = False,
         led: Squad | None = None) -> dict:
    """The Home of ctx's team (`team`: its name, shown in the header when the workspace has teams); an admin's has
    the Settings section, a team lead's the settings of the team they lead (`led`)."""
    now = ctx.now()
    statuses = kpis.statuses(ctx, session, team_id)
    plan = roadmap.compute(ctx, session, team_id, statuses, with_outlook=False)
    out = [blocks.header(f"Aurum — {team + ' — ' if team else ''}the roadmap at a glance"),
           blocks.section(f"{roadmap.summary_line(plan)} · `/roadmap` for every phase"),
           blocks.divider(), blocks.section("*KPI statuses*")]
    grouped = ctx.catalog.by_category()
    for category in HOME_CATEGORIES:
        lines = [blocks.status_line(ctx.catalog, statuses[k.key]) for k in grouped.get(category, [])
                 if k.key in statuses]
        if lines:
            out.append(blocks.section(f"*{ctx.catalog.categories.get(category, category)}*\n" + "\n".join(lines)))
    out += [blocks.divider(), blocks.section("*Latest team survey*\n" + survey_text(ctx, session, team_id))]
    alerts = inputs.active_alerts(ctx, session, team_id)
    alert_text = not_available("Alerts") if alerts is None else bullet_list(
        [f"{'🔴' if a.severity == 'critical' else '🟠'} {blocks.escape(a.rule)} — {blocks.escape(a.summary)} "
         f"(since {formatting.age(a.started_at, now)})" for a in alerts], "None firing. 🟢")
    out.append(blocks.section("*Active alerts*\n" + alert_text))
    roll = recognition.roll_lines(recognition_repo.kudos_between(session, team_id, now - RECENT, now),
                                  recognition_repo.achievements_between(session, team_id, now - RECENT, now), limit=8)
    out.append(blocks.section("*Recent recognition*\n" + bullet_list(
        roll, "Nothing in the last 30 days — `/kudos @person code-quality <why>`.")))
    out.append(blocks.section("*Next scheduled events*\n" + bullet_list(next_events(ctx), "None scheduled.")))
    if admin:
        out += settings.home_section(ctx, session, team_id)
    elif led is not None:
        out += settings.home_section(ctx, session, team_id, led)
    out.append(blocks.context(f"Updated {now.astimezone(ctx.tz):%d %b %H:%M %Z} · opens fresh each time you visit"))
    return {"type": "home", "blocks": out[:MAX_HOME_BLOCKS]}


def survey_text(ctx: Context, session: Session, team_id: str) -> str:
    now = ctx.now()
    summary = inputs.survey_summary(ctx, session, team_id, now - timedelta(days=14), now)
    if summary is None:
        return not_available("Survey results")
    scores = [f"{blocks.escape(s.question)}: {formatting.number(s.mean)}" for s in summary.scores]
    rate = f" · response rate {formatting.number(summary.response_rate)}%" if summary.response_rate is not None else ""
    return f"{blocks.escape(summary.title)}{rate}\n" + bullet_list(scores, "Too few answers to show (anonymity).")


def next_events(ctx: Context) -> list[str]:
    runner = JobRunner(ctx)
    now = ctx.now()
    upcoming = []
    for name in EVENTS:
        job = runner.jobs.get(name)
        fire = runner.next_fire(job, now) if job is not None else None
        if fire is not None:
            upcoming.append((fire, job.description))  # type: ignore[union-attr]
    upcoming.sort(key=lambda item: item[0])
    return [f"{fire.astimezone(ctx.tz):%a %d %b %H:%M} — {blocks.escape(desc)}" for fire, desc in upcoming]
