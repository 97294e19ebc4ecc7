"""The one way snapshots enter the database: store them, then let the listeners react in the same transaction.

Listeners (alert evaluation, celebrations, …) are registered on the Context by the composition root, so
every source — collectors, the push API, `/kpi record`, the CLI — triggers them alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from aurum.core.context import Context
from storage import snapshots
from storage.rollups import SnapshotBase


def store(ctx: Context, session: Session, team_id: str, points: Sequence[SnapshotBase]) -> int:
    count = snapshots.add_many(session, team_id, points)
    if count:
        for listener in ctx.snapshot_listeners:
            listener(ctx, session, team_id, points)
    return count
