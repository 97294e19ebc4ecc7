"""The one way snapshots enter the database: store them, then let the listeners react in the same transaction.

Listeners (alert evaluation, celebrations, …) are registered on the Context by the composition root, so
every source — collectors, the push API, `/kpi record`, the CLI — triggers them alike. A value its KPI cannot
hold (the catalogue's check_value) is refused here too, whoever computed it: nothing of the batch is stored and no
listener sees it. Writers check first, to answer with every problem; this is the last line.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from aurum.core.context import Context
from aurum.core.errors import ImpossibleValue
from storage import snapshots
from storage.rollups import SnapshotBase


def store(ctx: Context, session: Session, team_id: str, points: Sequence[SnapshotBase]) -> int:
    problems = [problem for point in points if (problem := ctx.catalog.refusal(point.kpi, point.value))]
    if problems:
        raise ImpossibleValue("; ".join(problems))
    count = snapshots.add_many(session, team_id, points, squad=ctx.squad)
    if count:
        for listener in ctx.snapshot_listeners:
            listener(ctx, session, team_id, points)
    return count
