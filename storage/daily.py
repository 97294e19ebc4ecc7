"""Daily rollups of the snapshots (table kpi_day): refreshed with every write, read by forecasts.

A day is a UTC day, numbered from 1970-01-01. Each row holds the count, sum, min and max of the values and the
sum of the points' seconds since midnight, so that the day's mean value and mean time are exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import BigInteger, delete, func, insert, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session

from storage.models import KpiDay, KpiSnapshot

DAY_SECONDS = 86400
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class epoch_seconds(FunctionElement):  # noqa: N801 - a SQL function, named like one
    """Whole seconds since 1970-01-01 UTC of a UTCDateTime column, on SQLite and PostgreSQL."""

    type = BigInteger()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element, compiler, **kw) -> str:
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element, compiler, **kw) -> str:
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


def day_number(at: datetime) -> int:
    return int(at.timestamp() // DAY_SECONDS)


def day_start(day: int) -> datetime:
    return EPOCH + timedelta(days=day)


def _aggregate(team_id: str, kpi: str | None = None, first: int | None = None, last: int | None = None):
    epoch = epoch_seconds(KpiSnapshot.at)
    day = (epoch // DAY_SECONDS).label("day")
    query = select(
        KpiSnapshot.team_id, KpiSnapshot.kpi, day, func.count().label("count"), func.sum(KpiSnapshot.value),
        func.sum(epoch % DAY_SECONDS), func.min(KpiSnapshot.value), func.max(KpiSnapshot.value),
    ).where(KpiSnapshot.team_id == team_id)
    if kpi is not None:
        query = query.where(KpiSnapshot.kpi == kpi)
    if first is not None and last is not None:
        query = query.where(KpiSnapshot.at >= day_start(first), KpiSnapshot.at < day_start(last + 1))
    return query.group_by(KpiSnapshot.team_id, KpiSnapshot.kpi, day)


_COLUMNS = ["team_id", "kpi", "day", "count", "total", "seconds", "low", "high"]


def refresh(session: Session, team_id: str, touched: Iterable[tuple[str, datetime]]) -> None:
    """Recompute the days that (kpi, time) pairs fall on, from the snapshots (call after writing them)."""
    spans: dict[str, tuple[int, int]] = {}
    for kpi, at in touched:
        day = day_number(at)
        first, last = spans.get(kpi, (day, day))
        spans[kpi] = (min(first, day), max(last, day))
    postgres = session.get_bind().dialect.name == "postgresql"
    for kpi, (first, last) in spans.items():
        if postgres:  # two writers of one KPI would both insert its day: take turns (SQLite writers already do)
            session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"kpi_day:{team_id}:{kpi}"})
        session.execute(delete(KpiDay).where(KpiDay.team_id == team_id, KpiDay.kpi == kpi,
                                             KpiDay.day >= first, KpiDay.day <= last))
        session.execute(insert(KpiDay).from_select(_COLUMNS, _aggregate(team_id, kpi, first, last)))


def rebuild(session: Session, team_id: str) -> None:
    """Recompute every rollup of a team (after bulk loads that bypassed the repository)."""
    session.execute(delete(KpiDay).where(KpiDay.team_id == team_id))
    session.execute(insert(KpiDay).from_select(_COLUMNS, _aggregate(team_id)))


def rows(session: Session, team_id: str, kpi: str | None = None,
         since_day: int | None = None) -> list[tuple[str, int, int, float, float]]:
    """(kpi, day, count, total, seconds) in (kpi, day) order."""
    query = select(KpiDay.kpi, KpiDay.day, KpiDay.count, KpiDay.total, KpiDay.seconds).where(
        KpiDay.team_id == team_id)
    if kpi is not None:
        query = query.where(KpiDay.kpi == kpi)
    if since_day is not None:
        query = query.where(KpiDay.day >= since_day)
    return [tuple(r) for r in session.execute(query.order_by(KpiDay.kpi, KpiDay.day))]
