"""When surveys open, remind and close: scheduled jobs in the team's time zone, one run per period (each person's
invitation and reminder at their own local time: aurum.surveys.timing).

Each survey has three jobs (crontab lines overridable under `schedules:` by job name):
- `survey_team_open` Friday 10:00, `survey_team_remind` Friday 15:00, `survey_team_close` Monday 10:00;
- `survey_stakeholder_open` first Wednesday 10:00, `survey_stakeholder_remind` the Monday after,
  `survey_stakeholder_close` the Wednesday a week after opening.
A run's period is its ISO week (`2026-W48`) or month (`2026-12`); the unique (team, survey, period) row plus the
job claims make each opening, reminder and closing happen once, across restarts and clock processes.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from sqlmodel import Session

from aurum.core.context import Context
from aurum.core.jobs import Job, JobRunner
from storage import surveys as repo

STEPS = ("open", "remind", "close")
CRONS: dict[str, dict[str, str]] = {
    "team": {"open": "0 10 * * fri", "remind": "0 15 * * fri", "close": "0 10 * * mon"},
    "stakeholder": {"open": "0 10 1-7 * wed", "remind": "0 10 6-12 * mon", "close": "0 10 8-14 * wed"},
}
CADENCE = {"team": "weekly", "stakeholder": "monthly"}
MIN_OPEN = timedelta(hours=24)
DESCRIPTIONS = {
    "open": "Opens the {name} and DMs everyone asked",
    "remind": "Reminds who has not answered the {name} (once)",
    "close": "Closes the {name} and posts the results",
}
NAMES = {"team": "team satisfaction survey", "stakeholder": "stakeholder feedback survey"}


def job_name(survey: str, step: str) -> str:
    return f"survey_{survey}_{step}"


def period_of(survey: str, local: datetime | date) -> str:
    """The run a local time belongs to: its ISO week for weekly surveys, its month for monthly ones."""
    if CADENCE[survey] == "weekly":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{local.year}-{local.month:02d}"


def normal_period(text: str, year: int) -> str | None:
    """`W48`, `2026-w48`, `2026-11` → the period key; None when it is not one."""
    match = re.fullmatch(r"(?:(\d{4})-?)?W(\d{1,2})", text.strip().upper())
    if match and 1 <= int(match[2]) <= 53:
        return f"{match[1] or year}-W{int(match[2]):02d}"
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
    if match and 1 <= int(match[2]) <= 12:
        return f"{match[1]}-{int(match[2]):02d}"
    return None


def date_key(local: datetime) -> str:
    return local.strftime("%Y-%m-%d")


def _job(survey: str, step: str) -> Job:
    return Job(job_name(survey, step), "", CRONS[survey][step], lambda *_: None)


def next_fire(ctx: Context, survey: str, step: str, after: datetime) -> datetime | None:
    """The next scheduled time of a step, with the team's `schedules:` overrides."""
    return JobRunner(ctx, jobs={}).next_fire(_job(survey, step), after)


def last_opening(ctx: Context, survey: str, now: datetime) -> datetime | None:
    """The latest scheduled opening at or before `now`, looking back a day."""
    return JobRunner(ctx, jobs={}).last_fire(_job(survey, "open"), now, lookback=timedelta(days=1))


def closes_at(ctx: Context, survey: str, opened: datetime) -> datetime:
    """The first scheduled closing at least a day after opening (a run opened by hand on Monday morning
    stays open until the Monday after, not for an hour)."""
    found = next_fire(ctx, survey, "close", opened + MIN_OPEN)
    return found or opened + timedelta(days=7)


def next_opening(ctx: Context, session: Session, team_id: str, survey: str, after: datetime,
                 horizon: int = 60) -> datetime | None:
    """When the next run opens, passing over holidays and runs already skipped or held."""
    cursor = after
    for _ in range(horizon):
        fire = next_fire(ctx, survey, "open", cursor)
        if fire is None:
            return None
        local = fire.astimezone(ctx.tz)
        if local.date() not in ctx.config.surveys.holidays and repo.run_by_period(
                session, team_id, survey, period_of(survey, local)) is None:
            return fire
        cursor = fire + timedelta(minutes=1)
    return None


def opening_on(ctx: Context, survey: str, day: date) -> datetime | None:
    """The scheduled opening on that local date, if the survey opens that day."""
    start = datetime.combine(day, time.min, ctx.tz) - timedelta(seconds=1)
    fire = next_fire(ctx, survey, "open", start)
    return fire if fire is not None and fire.astimezone(ctx.tz).date() == day else None
