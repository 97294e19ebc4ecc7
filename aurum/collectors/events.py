"""Deployments and incidents pushed by CI (where GitHub deployments or PagerDuty are not used): stored as events,
then the DORA figures are recomputed from the last 30 days of events and stored as snapshots (source "api")."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session

from aurum.collectors import dora
from aurum.core import ingest
from aurum.core.context import Context
from storage import events as repo
from storage.rollups import SnapshotBase

WINDOW = timedelta(days=30)
ENVIRONMENT = "production"  # deployments to other environments are stored but do not count
SOURCE = "api"


def record_deployment(ctx: Context, session: Session, team_id: str, external_id: str, status: str, at: datetime,
                      commit_times: Sequence[datetime], environment: str = ENVIRONMENT) -> dict[str, float | None]:
    repo.upsert_deployment(session, team_id, external_id, status=status, at=at, environment=environment,
                           commit_times=json.dumps([c.isoformat() for c in commit_times]))
    return refresh(ctx, session, team_id)


def record_incident(ctx: Context, session: Session, team_id: str, external_id: str, created: datetime,
                    resolved: datetime | None, deployment_id: str | None) -> dict[str, float | None]:
    repo.upsert_incident(session, team_id, external_id, created=created, resolved=resolved,
                         deployment_id=deployment_id)
    return refresh(ctx, session, team_id)


def refresh(ctx: Context, session: Session, team_id: str) -> dict[str, float | None]:
    """Recompute the four keys from stored events; store the defined ones at the current time."""
    now = ctx.now()
    deployments = [dora.Deployment(id=row.external_id, at=row.at, status=row.status,
                                   commit_times=tuple(datetime.fromisoformat(t) for t in json.loads(row.commit_times)))
                   for row in repo.deployments_since(session, team_id, now - WINDOW, ENVIRONMENT)]
    incidents = [dora.Incident(id=row.external_id, created=row.created, resolved=row.resolved,
                               deployment_id=row.deployment_id)
                 for row in repo.incidents_since(session, team_id, now - WINDOW)]
    figures = dora.figures(deployments, incidents, now, WINDOW)
    points = [SnapshotBase(kpi=key, value=value, at=now, source=SOURCE) for key, value in figures.items()
              if value is not None]
    ingest.store(ctx, session, team_id, points)
    return figures
