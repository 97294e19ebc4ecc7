"""Storing a KPI's values one batch at a time through the one write path, and reading the celebrations queued."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from aurum.core import ingest
from storage.queue import QueuedTask
from storage.rollups import SnapshotBase

TEAM = "T0001"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def store(ctx, kpi: str, *values: float, start: int = 0) -> None:
    """Each value in a transaction of its own, an hour apart from T0 + `start` hours."""
    for i, value in enumerate(values):
        with ctx.transaction() as session:
            ingest.store(ctx, session, TEAM, [SnapshotBase(kpi=kpi, value=value, at=T0 + timedelta(hours=start + i),
                                                           source="ci")])


def celebrations(ctx, prefix: str = "celebrate:") -> list[QueuedTask]:
    """The queued posts whose key starts with `prefix`, oldest first."""
    with ctx.reading() as session:
        return list(session.scalars(select(QueuedTask).where(QueuedTask.key.like(f"{prefix}%"))
                                    .order_by(QueuedTask.id)))
