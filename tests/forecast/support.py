"""Storing test series through the one write path (aurum.ingest.store)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from aurum.core import ingest
from storage.rollups import SnapshotBase

TEAM = "T0FORECAST"


def store(ctx, key: str, points: Iterable[tuple[datetime, float]], team_id: str = TEAM, source: str = "test") -> None:
    with ctx.transaction() as session:
        ingest.store(ctx, session, team_id, [SnapshotBase(kpi=key, value=v, at=at, source=source) for at, v in points])
