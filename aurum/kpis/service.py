"""KPI service: statuses, series and manual entries, over the snapshot repository."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from aurum.core import ingest
from aurum.core.context import Context
from aurum.core.errors import InputError
from aurum.kpis.catalog import Kpi, check_value
from aurum.kpis.charts import MAX_POINTS
from aurum.kpis.formatting import escape
from aurum.kpis.status import KpiStatus, Point, evaluate
from storage import snapshots, sources
from storage.rollups import SnapshotBase
from storage.types import DEFAULT_SQUAD

PERIODS: dict[str, timedelta] = {
    "7d": timedelta(days=7), "30d": timedelta(days=30), "90d": timedelta(days=90), "1y": timedelta(days=365),
}
DEFAULT_PERIOD = "30d"
CHANGE_WINDOW = timedelta(days=7)
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class KpiView:
    status: KpiStatus
    period: str
    points: list[tuple[datetime, float]]
    since: datetime  # the period's start


def _point(row) -> Point | None:
    return Point(at=row.at, value=row.value, source=row.source) if row is not None else None


def status(ctx: Context, session: Session, team_id: str, kpi: Kpi, window: timedelta = CHANGE_WINDOW) -> KpiStatus:
    latest = _point(snapshots.latest(session, team_id, kpi.key, squad=ctx.squad))
    previous = None
    if latest is not None:
        previous = _point(snapshots.latest(session, team_id, kpi.key, before=latest.at - window, squad=ctx.squad))
    result = evaluate(kpi, latest, previous, ctx.now(), ctx.config.current_phase)
    return _mark_stale(session, team_id, {kpi.key: result})[kpi.key]


def statuses(ctx: Context, session: Session, team_id: str) -> dict[str, KpiStatus]:
    """Every catalogue KPI's status (no data included), in three statements whatever the catalogue's size: the
    latest values, the values a week before them (index seeks, fast on a year of 5-minute data) and the sources'
    health (stale sources marked)."""
    latest = snapshots.latest_many(session, team_id, {kpi.key: None for kpi in ctx.catalog}, squad=ctx.squad)
    previous = snapshots.latest_many(session, team_id, {key: row.at - CHANGE_WINDOW for key, row in latest.items()},
                                     squad=ctx.squad)
    now, phase = ctx.now(), ctx.config.current_phase
    result = {kpi.key: evaluate(kpi, _point(latest.get(kpi.key)), _point(previous.get(kpi.key)), now, phase)
              for kpi in ctx.catalog}
    return _mark_stale(session, team_id, result)


def view(ctx: Context, session: Session, team_id: str, kpi: Kpi, period: str = DEFAULT_PERIOD) -> KpiView:
    """The status and the chart's points: every point of the period, or bucket means computed in the database when
    there are more than charts.MAX_POINTS (snapshots.chart_series)."""
    window = PERIODS[period]
    now = ctx.now()
    points = snapshots.chart_series(session, team_id, kpi.key, now - window, now, MAX_POINTS, squad=ctx.squad)
    return KpiView(status=status(ctx, session, team_id, kpi, window), period=period, points=points,
                   since=now - window)


def parse_value(text: str) -> float:
    cleaned = text.strip().rstrip("%").removesuffix("ms").replace(",", "").strip()
    try:
        amount = float(cleaned)
    except ValueError:
        raise InputError(f"'{escape(text)}' is not a number; write it like 42, 81.5 or 99.9%") from None
    if not math.isfinite(amount):
        raise InputError(f"'{escape(text)}' is not a finite number")
    return amount


def check(kpi: Kpi, amount: float) -> None:
    """An InputError when the KPI cannot hold the value (catalog.check_value: its range)."""
    problem = check_value(kpi, amount)
    if problem is not None:
        raise InputError(escape(f"{problem}. Nothing was stored."))


def parse_time(text: str, ctx: Context) -> datetime:
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"'{escape(text)}' is not an ISO time; write it like 2026-11-27 or 2026-11-27T14:30 (team time zone) "
            "or 2026-11-27T14:30Z"
        ) from None
    return at.replace(tzinfo=ctx.tz) if at.tzinfo is None else at


def record(
    ctx: Context, session: Session, team_id: str, kpi: Kpi, amount: float, at: datetime | None = None,
    source: str = "manual",
) -> Point:
    """Store one value; refuses values that are not finite, outside the KPI's range, and times in the future."""
    if not math.isfinite(amount):
        raise InputError(f"{amount} is not a finite number")
    check(kpi, amount)
    when = at or ctx.now()
    if when - ctx.now() > FUTURE_TOLERANCE:
        raise InputError(f"{when.isoformat()} is in the future; give a time up to now")
    ingest.store(ctx, session, team_id, [SnapshotBase(kpi=kpi.key, value=amount, at=when, source=source)])
    return Point(at=when, value=amount, source=source)


def series_since(session: Session, team_id: str, key: str, since: datetime,
                 squad: str = DEFAULT_SQUAD) -> list[tuple[datetime, float]]:
    return list(snapshots.series(session, team_id, key, since=since, squad=squad))


def _mark_stale(session: Session, team_id: str, statuses: dict[str, KpiStatus]) -> dict[str, KpiStatus]:
    """A KPI whose latest value came from a source that is failing now is stale, however recent the value."""
    rows = sources.all_health(session, team_id)
    return {key: dataclasses.replace(s, stale=True) if s.latest and sources.failing(rows.get(s.latest.source)) else s
            for key, s in statuses.items()}
