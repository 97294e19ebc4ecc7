"""Snapshot repository: writes points, reads latest values and series. Never commits."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    Result,
    Select,
    String,
    and_,
    bindparam,
    column,
    func,
    literal,
    select,
    text,
    union_all,
    values,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from storage import rollups
from storage.rollups import KpiDay, KpiSnapshot, SnapshotBase
from storage.types import DEFAULT_SQUAD, UTCDateTime, table_of, utcnow

ANALYZE_AFTER = 1000  # points in one write that make it a bulk load (see add_many)


def add_many(session: Session, team_id: str, points: Iterable[SnapshotBase], squad: str = DEFAULT_SQUAD) -> int:
    """Insert points; a point already stored (same KPI, source and time) is updated to the new value.

    The rollups (hours, days) of the times touched are recomputed in the same transaction.
    """
    created = utcnow()
    rows: list[dict[str, Any]] = [
        {"team_id": team_id, "squad": squad, "kpi": p.kpi, "value": float(p.value), "at": p.at, "source": p.source,
         "created_at": created}
        for p in points
    ]
    if not rows:
        return 0
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table_of(KpiSnapshot))
    stmt = stmt.on_conflict_do_update(
        index_elements=["team_id", "squad", "kpi", "source", "at"], set_={"value": stmt.excluded.value}
    )
    session.execute(stmt, rows)
    rollups.refresh(session, team_id, ((row["kpi"], row["at"]) for row in rows), squad)
    if len(rows) >= ANALYZE_AFTER and session.get_bind().dialect.name == "postgresql":
        # A bulk load (the demo's 26 weeks, an import) leaves PostgreSQL without statistics until autovacuum comes
        # by: the latest-value statement is then planned as a nested loop over every row (46 s instead of 10 ms on
        # the demo's 15,000 rows). Refresh them now, in the same transaction.
        session.execute(text("ANALYZE kpi_snapshot, kpi_hour, kpi_day"))
    return len(rows)


def latest(session: Session, team_id: str, kpi: str, before: datetime | None = None,
           squad: str = DEFAULT_SQUAD) -> KpiSnapshot | None:
    query = select(KpiSnapshot).where(col(KpiSnapshot.team_id) == team_id, col(KpiSnapshot.squad) == squad,
                                      col(KpiSnapshot.kpi) == kpi)
    if before is not None:
        query = query.where(col(KpiSnapshot.at) <= before)
    return session.scalars(query.order_by(col(KpiSnapshot.at).desc(), col(KpiSnapshot.id).desc()).limit(1)).first()


def latest_per_kpi(session: Session, team_id: str, squad: str = DEFAULT_SQUAD) -> dict[str, KpiSnapshot]:
    """The newest snapshot of every KPI of a team, in two small queries (the KPIs come from the daily rollups)."""
    kpis = session.scalars(select(col(KpiDay.kpi)).where(col(KpiDay.team_id) == team_id,
                                                         col(KpiDay.squad) == squad).distinct()).all()
    return latest_many(session, team_id, dict.fromkeys(kpis), squad)


COMPOUND_LIMIT = 400  # SQLite allows 500 SELECTs in one UNION ALL


def latest_many(session: Session, team_id: str, bounds: Mapping[str, datetime | None],
                squad: str = DEFAULT_SQUAD) -> dict[str, KpiSnapshot]:
    """`latest()` of many KPIs at once: {kpi: its newest snapshot at or before its bound (None: no bound)}.

    One statement for up to COMPOUND_LIMIT KPIs: a MAX(at) per KPI, each answered from the (team, squad, kpi, at) index,
    joined back to the rows. A GROUP BY over all rows would read every snapshot (5 million for a year of 5-minute
    data of 50 KPIs); one query per KPI costs a statement each. Ties at the same time go to the newest row, as in
    `latest()`. KPIs without a snapshot in range are left out.
    """
    found: dict[str, KpiSnapshot] = {}
    items = list(bounds.items())
    for start in range(0, len(items), COMPOUND_LIMIT):
        chunk = items[start:start + COMPOUND_LIMIT]
        params: dict[str, object] = {"team": team_id, "squad": squad}
        for i, (kpi, before) in enumerate(chunk):
            params[f"k{i}"] = kpi
            if before is not None:
                params[f"b{i}"] = before
        query = _latest_query(tuple(before is not None for _, before in chunk))
        found.update((row.kpi, row) for row in session.scalars(query, params))  # ascending ids: the newest row wins
    return found


@functools.lru_cache(maxsize=32)
def _latest_query(bounded: tuple[bool, ...]):
    """Built once per shape (how many KPIs, which have a bound), so SQLAlchemy builds and compiles it once."""
    team, squad = bindparam("team", type_=String()), bindparam("squad", type_=String())
    newest = union_all(*(
        select(bindparam(f"k{i}", type_=String()).label("kpi"), func.max(KpiSnapshot.at).label("at"))
        .where(col(KpiSnapshot.team_id) == team, col(KpiSnapshot.squad) == squad,
               col(KpiSnapshot.kpi) == bindparam(f"k{i}", type_=String()),
               *([col(KpiSnapshot.at) <= bindparam(f"b{i}", type_=UTCDateTime())] if bound else []))
        for i, bound in enumerate(bounded)
    )).subquery()
    return select(KpiSnapshot).join(
        newest, (col(KpiSnapshot.kpi) == newest.c.kpi) & (col(KpiSnapshot.at) == newest.c.at)
    ).where(col(KpiSnapshot.team_id) == team, col(KpiSnapshot.squad) == squad).order_by(col(KpiSnapshot.id))


def series(
    session: Session, team_id: str, kpi: str, since: datetime, until: datetime | None = None, limit: int | None = None,
    squad: str = DEFAULT_SQUAD,
) -> Sequence[tuple[datetime, float]]:
    """(time, value) pairs in time order, the first `limit` of them; plain tuples, so a year of 5-minute points stays
    cheap. Points of the same time come in the order they were stored: the last one is the one `latest()` gives."""
    query = select(col(KpiSnapshot.at), col(KpiSnapshot.value)).where(
        col(KpiSnapshot.team_id) == team_id, col(KpiSnapshot.squad) == squad, col(KpiSnapshot.kpi) == kpi,
        col(KpiSnapshot.at) >= since,
    )
    if until is not None:
        query = query.where(col(KpiSnapshot.at) <= until)
    rows: Result[datetime, float] = session.execute(
        query.order_by(col(KpiSnapshot.at), col(KpiSnapshot.id)).limit(limit))
    return [(at, value) for at, value in rows]


def chart_series(
    session: Session, team_id: str, kpi: str, since: datetime, until: datetime, limit: int, squad: str = DEFAULT_SQUAD,
) -> list[tuple[datetime, float]]:
    """What a chart of since..until draws: every stored point when there are at most `limit`, else `limit` bucket
    means (series_buckets).

    A sparse KPI (one velocity value per sprint, a weekly count) is drawn point by point, so its chart ends on the
    value its card shows, whatever wrote it: a bucket mean would blend two values stored close together (a sprint
    closed by /sprint end minutes after another, a manual entry beside a collected one) into a value nobody stored.
    """
    points = series(session, team_id, kpi, since, until, limit=limit + 1, squad=squad)
    if len(points) <= limit:
        return list(points)
    return series_buckets(session, team_id, kpi, since, until, limit, squad)


@functools.lru_cache(maxsize=8)
def _bucket_query(buckets: int):
    """Built once per bucket count, so SQLAlchemy compiles it once; each call only binds the edges."""
    edges = values(column("i", Integer), column("lo", UTCDateTime()), column("hi", UTCDateTime()), name="bucket").data(
        [(literal(i), bindparam(f"lo{i}", type_=UTCDateTime()), bindparam(f"hi{i}", type_=UTCDateTime()))
         for i in range(buckets)]).cte("bucket")
    return (
        select(edges.c.i, func.avg(KpiSnapshot.value))
        .select_from(edges.join(KpiSnapshot, and_(
            col(KpiSnapshot.team_id) == bindparam("team"), col(KpiSnapshot.squad) == bindparam("squad"),
            col(KpiSnapshot.kpi) == bindparam("kpi"),
            col(KpiSnapshot.at) >= edges.c.lo, col(KpiSnapshot.at) < edges.c.hi)))
        .group_by(edges.c.i)
        .order_by(edges.c.i)
    )


def series_buckets(
    session: Session, team_id: str, kpi: str, since: datetime, until: datetime, buckets: int,
    squad: str = DEFAULT_SQUAD,
) -> list[tuple[datetime, float]]:
    """The series as at most `buckets` mean values, computed in the database: (time, mean value).

    A chart can show a few hundred points, whatever the period: when a bucket spans an hour or more, the points come
    from the hourly rollups (a year is 8,760 rows, each a whole hour, drawn at the mean time of its points; see
    rollups.series). Shorter buckets are read from the snapshots: the buckets are a VALUES list joined by time range,
    so each one is an index range scan on (team_id, kpi, at, value) with no per-row function, drawn at its middle.
    """
    width = (until - since) / buckets
    if width >= timedelta(seconds=rollups.HOUR.seconds):
        return rollups.series(session, team_id, kpi, since, until, buckets, squad=squad)
    params: dict[str, object] = {"team": team_id, "squad": squad, "kpi": kpi}
    for i in range(buckets):
        params[f"lo{i}"] = since + width * i
        params[f"hi{i}"] = since + width * (i + 1)
    params[f"hi{buckets - 1}"] = until + timedelta(microseconds=1)  # the last bucket includes `until`
    rows: Result[int, Any] = session.execute(_bucket_query(buckets), params)  # the mean: a Decimal on PostgreSQL
    return [(since + width * (int(i) + 0.5), float(mean)) for i, mean in rows]


def _latest_in_window_statement() -> Select:
    ranked = (
        select(col(KpiSnapshot.kpi), col(KpiSnapshot.at), col(KpiSnapshot.value),
               func.row_number().over(partition_by=KpiSnapshot.kpi,
                                      order_by=(col(KpiSnapshot.at).desc(), col(KpiSnapshot.id).desc())).label("rank"))
        .where(col(KpiSnapshot.team_id) == bindparam("team_id"), col(KpiSnapshot.squad) == bindparam("squad"),
               col(KpiSnapshot.kpi).in_(bindparam("kpis", expanding=True)),
               KpiSnapshot.at <= bindparam("now"), KpiSnapshot.at >= bindparam("oldest"))
        .subquery()
    )
    return select(ranked.c.kpi, ranked.c.at, ranked.c.value).where(ranked.c.rank == 1)


# Built once: the alert evaluation runs it on every batch of snapshots (it differs from latest_many in its lower
# bound, a rule's max_age, and in being one cached statement for any set of KPIs).
_LATEST_IN_WINDOW = _latest_in_window_statement()


def latest_in_window(session: Session, team_id: str, keys: Iterable[str], now: datetime,
                     oldest: datetime, squad: str = DEFAULT_SQUAD) -> dict[str, tuple[datetime, float]]:
    """The newest value at or before `now` (and not before `oldest`) of each KPI, in one query."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows: Result[str, datetime, float] = session.execute(
        _LATEST_IN_WINDOW, {"team_id": team_id, "squad": squad, "kpis": wanted, "now": now, "oldest": oldest})
    return {kpi: (at, value) for kpi, at, value in rows}


def any_stored(session: Session, team_id: str) -> bool:
    """Whether the workspace has any snapshot at all."""
    query = select(col(KpiSnapshot.id)).where(col(KpiSnapshot.team_id) == team_id).limit(1)
    return session.scalars(query).first() is not None
