"""The snapshot tables — every value pushed, collected or entered (kpi_snapshot), and its rollups — and the
rollups' upkeep. The other queries of snapshots are in storage/snapshots.py.

Rollups of the snapshots per KPI and time bucket: hours (kpi_hour, read by charts of 30 days and more) and UTC days
(kpi_day, read by forecasts). Buckets are numbered from 1970-01-01 UTC.

Each row holds the count, sum, min and max of the values and the sum of the points' seconds since the bucket's
start, so that a bucket's mean value and mean time are exact, and buckets add up exactly into wider ones. Every
snapshot write recomputes the buckets it touches from the snapshots, in the same transaction (`refresh`): a late,
out-of-order or re-pushed snapshot leaves the rollups equal to a rebuild from scratch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Index, Result, UniqueConstraint, cast, delete, func, insert, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Field, Session, SQLModel, col

from storage.types import DEFAULT_SQUAD, SQUAD_DEFAULT, utcnow, when_column

HOUR_SECONDS = 3600
DAY_SECONDS = 86400
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SnapshotBase(SQLModel):
    kpi: str = Field(max_length=80)
    value: float
    at: datetime = Field(sa_column=when_column())
    source: str = Field(default="manual", max_length=80)


class KpiSnapshot(SnapshotBase, table=True):
    __tablename__ = "kpi_snapshot"
    __table_args__ = (
        UniqueConstraint("team_id", "squad", "kpi", "source", "at", name="uq_snapshot_point"),
        # Covers series reads (value included), so a year of points is read from the index alone.
        Index("ix_snapshot_team_squad_kpi_at_value", "team_id", "squad", "kpi", "at", "value"),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    squad: str = Field(default=DEFAULT_SQUAD, max_length=32, sa_column_kwargs=SQUAD_DEFAULT)
    created_at: datetime = Field(default_factory=utcnow, sa_column=when_column())


class RollupBase(SQLModel):
    """One KPI's snapshots of one time bucket, summed up; kept in step with kpi_snapshot by storage.rollups."""

    team_id: str = Field(primary_key=True, max_length=32)
    squad: str = Field(default=DEFAULT_SQUAD, primary_key=True, max_length=32, sa_column_kwargs=SQUAD_DEFAULT)
    kpi: str = Field(primary_key=True, max_length=80)
    count: int
    total: float  # sum of the values
    seconds: float  # sum of the points' seconds since the bucket's start (their mean is the bucket's mean time)
    low: float
    high: float


class KpiDay(RollupBase, table=True):
    """UTC days: forecasts read these instead of every raw point (a year of 5-minute data is 105,120 rows per
    KPI, but 365 days)."""

    __tablename__ = "kpi_day"
    day: int = Field(primary_key=True)  # days since 1970-01-01 UTC


class KpiHour(RollupBase, table=True):
    """Hours: charts of 30 days and more read these (a year is 8,760 rows per KPI), a few hours per point."""

    __tablename__ = "kpi_hour"
    __table_args__ = {"sqlite_with_rowid": False}  # stored in key order: a chart's hours are read in one pass
    hour: int = Field(primary_key=True)  # hours since 1970-01-01 UTC


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


@dataclass(frozen=True)
class Rollup:
    """One rollup table: `model` with its bucket-number column `column`, buckets of `seconds`."""

    model: type[RollupBase]
    column: str
    seconds: int

    @property
    def key(self):
        return getattr(self.model, self.column)

    @property
    def columns(self) -> list[str]:
        return ["team_id", "squad", "kpi", self.column, "count", "total", "seconds", "low", "high"]

    def number(self, at: datetime) -> int:
        return int(at.timestamp() // self.seconds)

    def start(self, number: int) -> datetime:
        return EPOCH + timedelta(seconds=number * self.seconds)

    def aggregate(self, team_id: str, squad: str | None = None, kpi: str | None = None, first: int | None = None,
                  last: int | None = None):
        """The rollup rows computed from the snapshots (of one squad, of one KPI, of buckets first..last)."""
        epoch = epoch_seconds(KpiSnapshot.at)
        bucket = (epoch // self.seconds).label(self.column)
        query = select(
            col(KpiSnapshot.team_id), col(KpiSnapshot.squad), col(KpiSnapshot.kpi), bucket,
            func.count().label("count"), func.sum(KpiSnapshot.value), func.sum(epoch % self.seconds),
            func.min(KpiSnapshot.value), func.max(KpiSnapshot.value),
        ).where(col(KpiSnapshot.team_id) == team_id)
        if squad is not None:
            query = query.where(col(KpiSnapshot.squad) == squad)
        if kpi is not None:
            query = query.where(col(KpiSnapshot.kpi) == kpi)
        if first is not None and last is not None:
            query = query.where(col(KpiSnapshot.at) >= self.start(first), col(KpiSnapshot.at) < self.start(last + 1))
        return query.group_by(col(KpiSnapshot.team_id), col(KpiSnapshot.squad), col(KpiSnapshot.kpi), bucket)

    def recompute(self, session: Session, team_id: str, squad: str, kpi: str, first: datetime,
                  last: datetime) -> None:
        """Replace the KPI's buckets that hold the times first..last by what the snapshots give now."""
        low, high = self.number(first), self.number(last)
        model = self.model
        session.execute(delete(model).where(col(model.team_id) == team_id, col(model.squad) == squad,
                                            col(model.kpi) == kpi, self.key >= low, self.key <= high))
        session.execute(insert(model).from_select(self.columns, self.aggregate(team_id, squad, kpi, low, high)))

    def rebuild(self, session: Session, team_id: str) -> None:
        session.execute(delete(self.model).where(col(self.model.team_id) == team_id))
        session.execute(insert(self.model).from_select(self.columns, self.aggregate(team_id)))


HOUR = Rollup(KpiHour, "hour", HOUR_SECONDS)
DAY = Rollup(KpiDay, "day", DAY_SECONDS)
ROLLUPS = (HOUR, DAY)


def refresh(session: Session, team_id: str, touched: Iterable[tuple[str, datetime]],
            squad: str = DEFAULT_SQUAD) -> None:
    """Recompute every rollup's buckets that (kpi, time) pairs fall in, from the snapshots (call after writing them)."""
    spans: dict[str, tuple[datetime, datetime]] = {}
    for kpi, at in touched:
        first, last = spans.get(kpi, (at, at))
        spans[kpi] = (min(first, at), max(last, at))
    postgres = session.get_bind().dialect.name == "postgresql"
    for kpi in sorted(spans):  # one lock order for every writer: no deadlocks between writers of several KPIs
        if postgres:  # two writers of one KPI would both insert its bucket: take turns (SQLite writers already do)
            session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                            {"key": f"kpi_rollup:{team_id}:{squad}:{kpi}"})
        for rollup in ROLLUPS:
            rollup.recompute(session, team_id, squad, kpi, *spans[kpi])


def rebuild(session: Session, team_id: str) -> None:
    """Recompute every rollup of a team (after bulk loads that bypassed the repository)."""
    for rollup in ROLLUPS:
        rollup.rebuild(session, team_id)


def day_number(at: datetime) -> int:
    return DAY.number(at)


def day_start(day: int) -> datetime:
    return DAY.start(day)


def rows(session: Session, team_id: str, kpi: str | None = None,
         since_day: int | None = None, squad: str = DEFAULT_SQUAD) -> list[tuple[str, int, int, float, float]]:
    """Daily rollups: (kpi, day, count, total, seconds) in (kpi, day) order."""
    query = select(col(KpiDay.kpi), col(KpiDay.day), col(KpiDay.count), col(KpiDay.total), col(KpiDay.seconds)).where(
        col(KpiDay.team_id) == team_id, col(KpiDay.squad) == squad)
    if kpi is not None:
        query = query.where(col(KpiDay.kpi) == kpi)
    if since_day is not None:
        query = query.where(col(KpiDay.day) >= since_day)
    result: Result[str, int, int, float, float] = session.execute(query.order_by(col(KpiDay.kpi), col(KpiDay.day)))
    return [(kpi, day, count, total, seconds) for kpi, day, count, total, seconds in result]


def series(session: Session, team_id: str, kpi: str, since: datetime, until: datetime, buckets: int,
           rollup: Rollup = HOUR, squad: str = DEFAULT_SQUAD) -> list[tuple[datetime, float]]:
    """The series in at most `buckets` points read from a rollup: (mean time, mean value) of each group of k whole
    buckets, k the smallest that fits. Groups are aligned to the epoch, so a point does not move as time passes;
    the buckets read are those that start within since..until (a bucket of points before `since` is left out)."""
    first, last = math.ceil((since - EPOCH).total_seconds() / rollup.seconds), rollup.number(until)
    if last < first:
        return []
    k = max(1, math.ceil((last - first + 1) / max(1, buckets - 1)))
    model, key = rollup.model, rollup.key
    group = (key // k).label("g")
    query = (
        select(group, func.sum(model.count), func.sum(model.total),
               func.sum(cast(model.count, BigInteger) * key), func.sum(model.seconds))
        .where(col(model.team_id) == team_id, col(model.squad) == squad, col(model.kpi) == kpi, key >= first,
               key <= last)
        .group_by(group).order_by(group)
    )
    rows: Result[int, int, float, Any, float] = session.execute(query)
    return [(EPOCH + timedelta(seconds=(rollup.seconds * int(numbers) + seconds) / count), total / count)
            for _, count, total, numbers, seconds in rows]  # PostgreSQL sums bigints as numeric
