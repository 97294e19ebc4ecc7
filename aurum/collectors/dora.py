"""DORA figures from deployment and incident events, whichever source they come from (GitHub, the push API).

Definitions (also in each KPI's help text):
- deployment frequency: successful deployments whose final status time lies in the last 7 days;
- lead time for changes: median, over the commits shipped by successful deployments in the window, of
  (deployment's success time − the commit's committer time), in hours; values ≤ 0 are dropped (as Four Keys);
- change failure rate: finished deployments in the window that failed (final status failure or error) or that
  an incident names, ÷ all finished deployments in the window, in percent;
- time to restore: mean of (resolved − created) over incidents created in the window and resolved, in minutes.
The median is the ordinary one (the mean of the two middle values for an even count).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

FINISHED = ("success", "failure", "error")
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Deployment:
    id: str
    at: datetime  # when its final status was set
    status: str  # success | failure | error (anything else is not finished)
    commit_times: tuple[datetime, ...] = ()


@dataclass(frozen=True)
class Incident:
    id: str
    created: datetime
    resolved: datetime | None
    deployment_id: str | None = None


def median(values: Iterable[float]) -> float | None:
    values = list(values)
    return statistics.median(values) if values else None


def _within(at: datetime, now: datetime, window: timedelta) -> bool:
    return now - window < at <= now


def deployment_frequency(deployments: Iterable[Deployment], now: datetime) -> float:
    return float(sum(1 for d in deployments if d.status == "success" and _within(d.at, now, WEEK)))


def lead_time_hours(deployments: Iterable[Deployment], now: datetime, window: timedelta) -> float | None:
    spans = [(d.at - c).total_seconds() / 3600 for d in deployments
             if d.status == "success" and _within(d.at, now, window) for c in d.commit_times]
    return median(s for s in spans if s > 0)


def change_failure_rate(deployments: Iterable[Deployment], incidents: Iterable[Incident], now: datetime,
                        window: timedelta) -> float | None:
    blamed = {i.deployment_id for i in incidents if i.deployment_id}
    finished = [d for d in deployments if d.status in FINISHED and _within(d.at, now, window)]
    if not finished:
        return None
    failed = sum(1 for d in finished if d.status != "success" or d.id in blamed)
    return failed / len(finished) * 100.0


def time_to_restore(incidents: Iterable[Incident], now: datetime, window: timedelta) -> float | None:
    spans = [(i.resolved - i.created).total_seconds() / 60 for i in incidents
             if i.resolved is not None and i.resolved >= i.created and _within(i.created, now, window)]
    return statistics.fmean(spans) if spans else None


def restores_from_deployments(deployments: Sequence[Deployment]) -> list[Incident]:
    """A failed deployment opens an incident that the next successful one closes (a run of failures: one incident)."""
    found: list[Incident] = []
    opened: Deployment | None = None
    for d in sorted((d for d in deployments if d.status in FINISHED), key=lambda d: d.at):
        if d.status != "success" and opened is None:
            opened = d
        elif d.status == "success" and opened is not None:
            found.append(Incident(id=f"deploy-{opened.id}", created=opened.at, resolved=d.at, deployment_id=opened.id))
            opened = None
    return found


KPIS = {
    "deployments_per_week": "deployment frequency",
    "lead_time_for_changes_hours": "lead time for changes",
    "change_failure_rate_percentage": "change failure rate",
    "incident_recovery_time_minutes": "time to restore",
}


def figures(deployments: Sequence[Deployment], incidents: Sequence[Incident], now: datetime,
            window: timedelta) -> dict[str, float | None]:
    """All four keys; None where the events do not define a value."""
    return {
        "deployments_per_week": deployment_frequency(deployments, now) if deployments else None,
        "lead_time_for_changes_hours": lead_time_hours(deployments, now, window),
        "change_failure_rate_percentage": change_failure_rate(deployments, incidents, now, window),
        "incident_recovery_time_minutes": time_to_restore(incidents, now, window),
    }
