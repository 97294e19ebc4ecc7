"""Scheduled jobs and the claims that run each at most once per (team, job, period).

A job's side effects (outbox posts, rows) are written in the same transaction as its claim: either both
commit or neither does, so a crash mid-run leaves the period free for the catch-up, and a second clock
process finds the claim and skips. Each capability lists its own jobs (`aurum/<capability>/jobs.py`); the
composition root puts them together (bot/jobs.py) and hands them over as `ctx.jobs`.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.triggers.cron import CronTrigger

from aurum.core.crontab import crontab_trigger
from aurum.core.suggest import unknown
from storage import claims
from storage.workspaces import all_team_ids

if TYPE_CHECKING:
    from aurum.core.context import Context

log = logging.getLogger(__name__)

MISSED_LOOKBACK = timedelta(days=100)  # how far back a missed periodic run is noticed (a quarter)
JobFunction = Callable[..., str | None]


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    cron: str  # crontab fields in the team's time zone: "minute hour day month day_of_week"
    run: JobFunction  # (ctx, session, team_id, period) → a short outcome; runs inside the claim's transaction
    period: Callable[[datetime], str] | None = None  # local time → period key; default: the fire time itself
    # Slow reads (HTTP) done before the claim's transaction, outside any database lock:
    # prepare(ctx, team_id, period) → data, then run(ctx, session, team_id, period, data).
    prepare: Callable[[Context, str, str], Any] | None = None


@dataclass(frozen=True)
class Outcome:
    team_id: str
    job: str
    period: str
    result: str
    failed: bool = False  # the job raised: its transaction, claim included, was rolled back


class JobRunner:
    def __init__(self, ctx: Context, jobs: Mapping[str, Job] | None = None, owner: str | None = None):
        self.ctx = ctx
        self.jobs = jobs if jobs is not None else ctx.jobs
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self.grace = timedelta(minutes=ctx.config.scheduler_grace_minutes)
        self._missed_noted: set[tuple[str, str]] = set()

    def cron(self, job: Job) -> str:
        return self.ctx.config.schedules.get(job.name, job.cron)

    def seed_cron(self, job: Job) -> str:
        """The job's schedule of the config file, which the clock's timetable follows."""
        return self.ctx.seed_config.schedules.get(job.name, job.cron)

    def _own_schedule(self, job: Job, team_id: str) -> bool:
        """The workspace scheduled the job differently (in Slack): `own_schedules` runs it at its own times."""
        with self.ctx.serving(team_id):
            return self.cron(job) != self.seed_cron(job)

    def own_schedules(self, now: datetime | None = None) -> list[Outcome]:
        """Called every minute: each job a workspace scheduled differently, when its latest own time lies within the
        grace window and its period has not run."""
        now = now or self.ctx.now()
        with self.ctx.reading() as session:
            teams = all_team_ids(session)
        outcomes: list[Outcome] = []
        for team in teams:
            with self.ctx.serving(team):
                due = [(job, fire) for job in self.jobs.values() if self.cron(job) != self.seed_cron(job)
                       for fire in [self.last_fire(job, now)] if fire is not None]
                for job, fire in due:
                    period = self.period_key(job, fire)
                    with self.ctx.reading() as session:
                        if claims.find(session, team, job.name, period) is not None:
                            continue
                    outcomes.append(self._run_for(job, team, period))
        return outcomes

    def trigger(self, job: Job) -> CronTrigger:
        return crontab_trigger(self.cron(job), self.ctx.tz)

    def last_fire(self, job: Job, now: datetime, lookback: timedelta | None = None) -> datetime | None:
        """The newest scheduled time at or before `now`, looking back at most `lookback` (default: grace)."""
        trigger = self.trigger(job)
        cursor = now - (lookback or self.grace)
        last = None
        fire = trigger.get_next_fire_time(None, cursor)
        while fire is not None and fire <= now:
            last = fire
            # From the instant, not from the previous fire: given one in the repeated hour of a DST fall-back
            # (02:00+01:00), APScheduler 3 answers one of the hour's first pass (02:15+02:00), and a sub-hourly
            # job's walk would never end.
            fire = trigger.get_next_fire_time(None, fire.astimezone(UTC) + timedelta(seconds=1))
        return last

    def latest_fire(self, job: Job, now: datetime) -> datetime | None:
        """The newest scheduled time up to 400 days back, searched in widening windows: walking a minutely job's
        400 days of fire times one by one would take a minute."""
        for lookback in (self.grace, timedelta(days=1), timedelta(days=32), timedelta(days=400)):
            fire = self.last_fire(job, now, lookback=lookback)
            if fire is not None:
                return fire
        return None

    def next_fire(self, job: Job, now: datetime) -> datetime | None:
        return self.trigger(job).get_next_fire_time(None, now)

    def period_key(self, job: Job, fire: datetime) -> str:
        local = fire.astimezone(self.ctx.tz)
        return job.period(local) if job.period else local.strftime("%Y-%m-%dT%H:%M%z")

    def due(self, now: datetime | None = None) -> list[Outcome]:
        """Run every job whose latest scheduled time lies within the grace window (the catch-up and the tick)."""
        now = now or self.ctx.now()
        outcomes: list[Outcome] = []
        for job in self.jobs.values():
            fire = self.last_fire(job, now)
            if fire is not None:
                outcomes += self.run(job.name, period=self.period_key(job, fire), timetable=True)
            elif job.period is not None:
                self._note_missed(job, now)
        return outcomes

    def _note_missed(self, job: Job, now: datetime) -> None:
        """Log once when a period's run was missed beyond the grace window: it is skipped, not posted late."""
        previous = self.last_fire(job, now, lookback=MISSED_LOOKBACK)
        if previous is None:
            return
        period = self.period_key(job, previous)
        if (job.name, period) in self._missed_noted:
            return
        self._missed_noted.add((job.name, period))
        with self.ctx.reading() as session:
            missing = [team for team in all_team_ids(session) if claims.find(session, team, job.name, period) is None]
        for team in missing:
            log.warning("missed run skipped: past the grace window",
                        extra={"job": job.name, "team_id": team, "period": period, "scheduled": previous.isoformat()})

    def fire(self, job_name: str) -> list[Outcome]:
        """Called by APScheduler at a scheduled time."""
        job = self.jobs[job_name]
        now = self.ctx.now()
        fire = self.last_fire(job, now) or now
        return self.run(job_name, period=self.period_key(job, fire), timetable=True)

    def run_now(self, job_name: str, team_id: str | None = None) -> list[Outcome]:
        """`aurum run-job`: the current period (the job's own, or its latest scheduled time)."""
        job = self.jobs[job_name]
        now = self.ctx.now()
        if job.period:
            period = job.period(now.astimezone(self.ctx.tz))
        else:
            fire = self.latest_fire(job, now) or now
            period = self.period_key(job, fire)
        return self.run(job_name, period=period, team_id=team_id)

    def run(self, job_name: str, period: str, team_id: str | None = None, timetable: bool = False) -> list[Outcome]:
        """`timetable`: a run at a time of the clock's timetable (the config file's schedules), which skips the
        workspaces that scheduled the job otherwise."""
        job = self.jobs[job_name]
        with self.ctx.reading() as session:
            teams = [team_id] if team_id else all_team_ids(session)
        return [self._run_for(job, team, period) for team in teams
                if not (timetable and self._own_schedule(job, team))]

    def _run_for(self, job: Job, team_id: str, period: str) -> Outcome:
        with self.ctx.serving(team_id):  # the workspace's own settings, as stored now
            return self._run_serving(job, team_id, period)

    def _run_serving(self, job: Job, team_id: str, period: str) -> Outcome:
        try:
            extra: tuple[Any, ...] = ()
            if job.prepare is not None:
                with self.ctx.reading() as session:
                    if claims.find(session, team_id, job.name, period) is not None:
                        return Outcome(team_id, job.name, period, "already ran")
                extra = (job.prepare(self.ctx, team_id, period),)
            with self.ctx.transaction() as session:
                claim = claims.try_claim(session, team_id, job.name, period, self.owner)
                if claim is None:
                    self.ctx.telemetry.count("job_runs", job=job.name, result="already_ran")
                    return Outcome(team_id, job.name, period, "already ran")
                result = job.run(self.ctx, session, team_id, period, *extra) or "done"
                claims.finish(session, claim)
        except Exception as exc:
            log.exception("job failed", extra={"job": job.name, "team_id": team_id, "period": period})
            self.ctx.telemetry.count("job_runs", job=job.name, result="failed")
            return Outcome(team_id, job.name, period, f"failed: {type(exc).__name__}: {exc}", failed=True)
        self.ctx.telemetry.count("job_runs", job=job.name, result="ran")
        log.info("job ran", extra={"job": job.name, "team_id": team_id, "period": period, "result": result})
        return Outcome(team_id, job.name, period, result)


def unknown_schedules(schedules: Mapping[str, str], jobs: Mapping[str, Job]) -> list[str]:
    """`schedules:` entries that name no job, each with the closest job names and the list of them."""
    return [f"schedules.{name}: {unknown('job', name, jobs, listing='Jobs')}"
            for name in schedules if name not in jobs]
