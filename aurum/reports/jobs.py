"""The scheduled jobs of reports, reviews and the live dashboard. Each runs inside its claim's transaction, so a
(team, report, period) is posted once however many clock processes run; a missed run is caught up within the grace
window by aurum.core.jobs."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from aurum.core import queue
from aurum.core.context import Context
from aurum.core.jobs import Job
from aurum.core.periods import month_key, quarter_key, week_key
from aurum.kpis import live
from aurum.recognition import kudos as recognition
from aurum.reports import executive, inputs, quarterly, reminders, retro, weekly
from aurum.reports.common import deliver
from aurum.squads import teams as squads
from storage import claims, snapshots
from storage import sprints as sprint_repo

RETRO_LOOKBACK = timedelta(days=14)  # a sprint closed longer ago than this gets no retrospective on start-up
KEEP_FREQUENT_CLAIMS = timedelta(days=2)
SPRINT_WATCH = "sprint_watch"
LIVE = "live_dashboards"


def weekly_summary(ctx: Context, session: Session, team_id: str, period: str) -> str:
    """Each team's weekly summary, to the team's own channel (its `channels:` override, else the workspace's)."""
    note = release_success(ctx, session, team_id, ctx.now() - weekly.WINDOW, ctx.now())
    if note:
        recognition.achieve(ctx, session, team_id, "release_success", f"release_success:{period}", note,
                            announce=False)
    posted = [team_weekly_summary(ctx, session, team_id, period, squad)[0] for squad in squads.all_squads(ctx.config)]
    return f"posted to {', '.join(dict.fromkeys(posted))}"


def team_weekly_summary(ctx: Context, session: Session, team_id: str, period: str,
                        squad: squads.Squad) -> tuple[str, bool]:
    """One team's weekly summary of `period`, to its channel, once (the scheduled run posts it by the same key):
    the channel, and whether it was queued now (False: posted already)."""
    report = weekly.build(squads.scope(ctx, squad), session, team_id)
    channel = squads.channel(ctx.config, squad, ctx.config.reports.weekly_channel or "roadmap_updates")
    with queue.collect_keys() as queued:
        deliver(session, team_id, report, channel, key=f"report:weekly:{period}{':' + squad.key if squad.key else ''}")
    return channel, bool(queued)


def executive_dashboard(ctx: Context, session: Session, team_id: str, period: str) -> str:
    channel = ctx.config.reports.exec_channel or ctx.config.channels.roadmap_updates
    deliver(session, team_id, executive.build(ctx, session, team_id), channel, key=f"report:exec:{period}")
    return f"posted to {channel}"


def quarterly_review(ctx: Context, session: Session, team_id: str, period: str) -> str:
    channel = ctx.config.reports.quarterly_channel or ctx.config.channels.roadmap_updates
    deliver(session, team_id, quarterly.build(ctx, session, team_id), channel, key=f"report:quarterly:{period}")
    return f"posted to {channel}"


def _reminder(kind: str, agenda):
    def run(ctx: Context, session: Session, team_id: str, period: str) -> str:
        channel = reminders.meeting(ctx, kind).channel
        deliver(session, team_id, agenda(ctx, session, team_id), channel, key=f"reminder:{kind}:{period}")
        return f"reminder posted to {channel}"

    run.__name__ = f"{kind}_review_reminder"
    return run


def sprint_watch(ctx: Context, session: Session, team_id: str, period: str) -> str:
    """Post the retrospective of every sprint closed recently (Jira or `/sprint end`) that has none yet."""
    now = ctx.now()
    claims.prune(session, team_id, SPRINT_WATCH, now - KEEP_FREQUENT_CLAIMS)
    closed = [sprint for squad in squads.all_squads(ctx.config)
              for sprint in sprint_repo.closed_between(session, team_id, now - RETRO_LOOKBACK, now, squad.stored)]
    posted = [key for sprint in closed
              if (key := retro.post_once(ctx, session, team_id, sprint, owner=f"{SPRINT_WATCH}:{period}"))]
    return f"{len(posted)} retrospective(s) posted" if posted else "no new closed sprint"


def live_dashboards(ctx: Context, session: Session, team_id: str, period: str) -> str:
    claims.prune(session, team_id, LIVE, ctx.now() - KEEP_FREQUENT_CLAIMS)
    return live.tick(ctx, session, team_id)


def release_success(ctx: Context, session: Session, team_id: str, since: datetime, until: datetime) -> str | None:
    """Release Success: deployments in the week and no incident. From deployment/incident events when they are
    collected; otherwise from the KPIs: deployments recorded and error rate and uptime on target at every
    measurement of the week, with no alert raised."""
    events = inputs.releases(ctx, session, team_id, since, until)
    if events is not None:
        if events.deployments and not events.incidents:
            return f"{events.deployments} deployments this week without an incident"
        return None
    deploys = snapshots.series(session, team_id, "deployments_per_week", since=since, until=until, squad=ctx.squad)
    if not deploys or deploys[-1][1] < 1:
        return None
    for key in ("api_error_rate_percentage", "service_availability_percentage"):
        kpi = ctx.catalog.get(key)
        values = snapshots.series(session, team_id, key, since=since, until=until, squad=ctx.squad)
        if not values or kpi.target is None or not all(kpi.target.met(v) for _, v in values):
            return None
    if inputs.alerts_raised(ctx, session, team_id, since, until):
        return None
    return (f"{deploys[-1][1]:g} deployments/week with error rate and uptime on target at every measurement "
            "of the week")


def jobs() -> list[Job]:
    return [
        Job("weekly_summary", "Team weekly status to #roadmap-updates (Friday 17:00)", "0 17 * * fri",
            weekly_summary, period=week_key),
        Job("weekly_review_reminder", "Weekly team review reminder with agenda (Friday, before 14:00)",
            "45 13 * * fri", _reminder("weekly", reminders.weekly_agenda), period=week_key),
        Job("executive_dashboard", "Executive dashboard (first Wednesday of the month, 09:00)", "0 9 1-7 * wed",
            executive_dashboard, period=month_key),
        Job("monthly_review_reminder", "Monthly stakeholder review reminder (first Wednesday, 09:30)",
            "30 9 1-7 * wed", _reminder("monthly", reminders.monthly_agenda), period=month_key),
        Job("quarterly_review", "Quarterly review pack with the blog draft (last day of the quarter, 09:00)",
            "0 9 last 3,6,9,12 *", quarterly_review, period=quarter_key),
        Job("quarterly_review_reminder", "Quarterly strategic review reminder (last day of the quarter, 09:30)",
            "30 9 last 3,6,9,12 *", _reminder("quarterly", reminders.quarterly_agenda), period=quarter_key),
        Job(SPRINT_WATCH, "Sprint retrospectives for newly closed sprints (every 15 minutes)", "*/15 * * * *",
            sprint_watch),
        Job(LIVE, "Refresh live technical dashboards (every minute)", "* * * * *", live_dashboards),
    ]
