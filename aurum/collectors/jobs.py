"""One scheduled job per configured source (`collect_<source>`): Prometheus every 5 minutes, the rest hourly.

The fetch runs before the job's claim transaction (no database lock is held during HTTP); storing the values,
the health row and the claim then commit together. A failed fetch also claims its period — the HTTP helper
has already retried — so a broken source is asked again at its next scheduled time, not in a loop.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from aurum.collectors import runner
from aurum.collectors.base import Collected, CollectorError
from aurum.collectors.config import SourcesConfig
from aurum.core.context import Context
from aurum.core.jobs import Job


def _fetch(source: str):
    def fetch(ctx: Context, team_id: str, period: str) -> Collected | CollectorError:
        try:
            return runner.fetch(ctx, source)
        except CollectorError as exc:
            return exc

    return fetch


def _store(source: str):
    def store(ctx: Context, session: Session, team_id: str, period: str, fetched: Collected | CollectorError) -> str:
        if isinstance(fetched, CollectorError):
            runner.record_failure(ctx, session, team_id, fetched)
            return runner.outcome(fetched)
        return runner.outcome(fetched, runner.save(ctx, session, team_id, source, fetched))

    return store


def _minute(local: datetime) -> str:
    """The period of a collection: the minute it fires (a manual run now is a period of its own)."""
    return local.strftime("%Y-%m-%dT%H:%M%z")


def jobs(sources: SourcesConfig) -> list[Job]:
    return [Job(runner.job_name(source), f"Collect {runner.LABELS[source]} values",
                runner.own_schedule(sources, source), _store(source), period=_minute, prepare=_fetch(source))
            for source in runner.configured(sources)]
