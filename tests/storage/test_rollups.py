"""The hourly and daily rollups: kept in step by every snapshot write (late, out-of-order, re-pushed and concurrent
ones included), and filled from existing snapshots by migrations 0006 (days) and 0008 (hours)."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import column, insert, select, table

from storage import rollups, snapshots
from storage.db import make_engine, session_scope
from storage.migrate import upgrade
from storage.rollups import SnapshotBase
from storage.types import UTCDateTime
from tests import support

START = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)
KPI = "api_response_time_p95"


def _points(count: int = 30, step: timedelta = timedelta(hours=7), kpi: str = KPI) -> list[SnapshotBase]:
    return [SnapshotBase(kpi=kpi, value=200.0 + i, at=START + step * i, source="prometheus") for i in range(count)]


def _expected(points: list[SnapshotBase], rollup: rollups.Rollup = rollups.DAY) -> dict:
    """(kpi, bucket) → (count, total, seconds, low, high), by hand from the points (the last write of a point wins)."""
    latest = {(p.kpi, p.source, p.at): p for p in points}
    found: dict[tuple[str, int], list[SnapshotBase]] = {}
    for p in latest.values():
        found.setdefault((p.kpi, rollup.number(p.at)), []).append(p)
    return {key: (len(ps), pytest.approx(sum(p.value for p in ps)),
                  sum(p.at.timestamp() % rollup.seconds for p in ps), min(p.value for p in ps),
                  max(p.value for p in ps)) for key, ps in found.items()}


def _stored(session, team: str, rollup: rollups.Rollup = rollups.DAY) -> dict:
    rows = session.scalars(select(rollup.model).where(rollup.model.team_id == team)).all()
    return {(r.kpi, getattr(r, rollup.column)): (r.count, r.total, r.seconds, r.low, r.high) for r in rows}


@pytest.mark.parametrize("rollup", rollups.ROLLUPS, ids=lambda r: r.column)
def test_every_write_refreshes_the_buckets_it_touches(ctx, rollup):
    points = _points()
    with ctx.transaction() as session:
        snapshots.add_many(session, "T1", points[:20])
        snapshots.add_many(session, "T1", points[15:])  # overlapping: five points rewritten with the same values
        snapshots.add_many(session, "T2", points[:3])
    with ctx.reading() as session:
        assert _stored(session, "T1", rollup) == _expected(points, rollup)
        assert _stored(session, "T2", rollup) == _expected(points[:3], rollup)


def test_daily_rows_read_back_in_order(ctx):
    points = _points()
    last = rollups.day_number(points[-1].at)
    with ctx.transaction() as session:
        snapshots.add_many(session, "T1", points)
    with ctx.reading() as session:
        assert rollups.rows(session, "T1", KPI, since_day=last) == [(KPI, last, *_expected(points)[(KPI, last)][:3])]


@pytest.mark.parametrize("rollup", rollups.ROLLUPS, ids=lambda r: r.column)
def test_late_out_of_order_and_repushed_snapshots_keep_the_rollups_exact(ctx, rollup):
    step = timedelta(minutes=5)
    points = _points(count=300, step=step)  # a day of 5-minute points, across two UTC days
    late = points[::3]
    rest = [p for i, p in enumerate(points) if i % 3]
    random.Random(7).shuffle(rest)
    repushed = [SnapshotBase(kpi=p.kpi, value=p.value * 2, at=p.at, source=p.source) for p in points[100:140]]
    stray = [SnapshotBase(kpi=KPI, value=1.0, at=START - timedelta(days=30), source="manual")]  # a month late
    with ctx.transaction() as session:
        for start in range(0, len(rest), 25):  # out of order, in batches that each span many buckets
            snapshots.add_many(session, "T1", rest[start:start + 25])
    with ctx.transaction() as session:
        snapshots.add_many(session, "T1", late)  # the missing third, late
        snapshots.add_many(session, "T1", points[:50])  # pushed again unchanged: idempotent
    with ctx.transaction() as session:
        snapshots.add_many(session, "T1", repushed)  # pushed again with corrected values
        snapshots.add_many(session, "T1", stray)
    expected = _expected(points + repushed + stray, rollup)
    with ctx.transaction() as session:
        assert _stored(session, "T1", rollup) == expected
        rollups.rebuild(session, "T1")
        assert _stored(session, "T1", rollup) == expected


def test_concurrent_writers_of_one_kpi_keep_the_rollups_exact(ctx):
    """Writers in threads (their own transactions) push points into the same hours and days at once; on PostgreSQL
    they take turns on the KPI's rollups, on SQLite writes are serialised anyway."""
    writers, rounds = 4, 6
    barrier = threading.Barrier(writers, timeout=30)
    pushed: list[list[SnapshotBase]] = [[] for _ in range(writers)]
    errors: list[BaseException] = []

    def write(w: int) -> None:
        try:
            for r in range(rounds):
                points = [SnapshotBase(kpi=kpi, value=float(w * 100 + r), source=f"w{w}",
                                       at=START + timedelta(minutes=r * 7 + w, seconds=i))
                          for i, kpi in enumerate([KPI, "error_rate_percentage"])]
                barrier.wait()
                with ctx.transaction() as session:
                    snapshots.add_many(session, "T1", points)
                pushed[w].extend(points)
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    everything = [p for points in pushed for p in points]
    assert len(everything) == writers * rounds * 2
    with ctx.reading() as session:
        for rollup in rollups.ROLLUPS:
            assert _stored(session, "T1", rollup) == _expected(everything, rollup)


@pytest.mark.parametrize(("revision", "rollup"), [("0002", rollups.DAY), ("0007", rollups.HOUR)],
                         ids=["day", "hour"])
def test_migration_fills_the_rollups_from_existing_snapshots(tmp_path, revision, rollup):
    engine = make_engine(support.test_database_url(tmp_path))
    upgrade(engine, revision)
    points = _points(count=40, step=timedelta(hours=5, minutes=3)) + _points(count=9, kpi="error_rate_percentage")
    rows = [{"team_id": team, "kpi": p.kpi, "value": p.value, "at": p.at, "source": p.source, "created_at": START}
            for team in ("T1", "T2") for p in points]
    # kpi_snapshot as it was at that revision (the model has columns added since)
    old = table("kpi_snapshot", column("team_id"), column("kpi"), column("value"), column("at", UTCDateTime()),
                column("source"), column("created_at", UTCDateTime()))
    with session_scope(engine) as session:
        session.execute(insert(old), rows)
    upgrade(engine)
    with session_scope(engine) as session:
        assert _stored(session, "T1", rollup) == _expected(points, rollup)
        assert _stored(session, "T2", rollup) == _expected(points, rollup)
    engine.dispose()


def test_latest_per_kpi_finds_each_kpis_newest_snapshot(ctx):
    long_ago = START - timedelta(days=300)
    with ctx.transaction() as session:
        snapshots.add_many(session, "T1", _points(count=10))
        snapshots.add_many(session, "T1", [SnapshotBase(kpi="api_response_time_p95", value=1.0, source="manual",
                                                        at=START + timedelta(hours=7 * 9) - timedelta(minutes=1))])
        snapshots.add_many(session, "T1", [SnapshotBase(kpi="test_coverage_percentage", value=81.0, at=long_ago)])
        snapshots.add_many(session, "T2", [SnapshotBase(kpi="test_coverage_percentage", value=99.0, at=START)])
    with ctx.reading() as session:
        newest = snapshots.latest_per_kpi(session, "T1")
        assert snapshots.latest_per_kpi(session, "T3") == {}
    assert {k: (v.value, v.at, v.source) for k, v in newest.items()} == {
        "api_response_time_p95": (209.0, START + timedelta(hours=63), "prometheus"),
        "test_coverage_percentage": (81.0, long_ago, "manual"),
    }


def test_latest_many_answers_like_latest_for_each_kpi_and_bound(ctx):
    tie = START + timedelta(hours=14)
    with ctx.transaction() as session:
        snapshots.add_many(session, "T1", _points(count=10))
        snapshots.add_many(session, "T1", [SnapshotBase(kpi="api_response_time_p95", value=7.0, at=tie, source="z")])
        snapshots.add_many(session, "T1", [SnapshotBase(kpi="test_coverage_percentage", value=81.0, at=START)])
        snapshots.add_many(session, "T2", [SnapshotBase(kpi="ci_success_rate_percentage", value=99.0, at=START)])
    bounds = {"api_response_time_p95": tie, "test_coverage_percentage": None, "ci_success_rate_percentage": None,
              "deployments_per_week": START}
    with ctx.reading() as session:
        many = snapshots.latest_many(session, "T1", bounds)
        one_by_one = {key: snapshots.latest(session, "T1", key, before=before) for key, before in bounds.items()}
        before_any = snapshots.latest_many(session, "T1", {"api_response_time_p95": START - timedelta(seconds=1)})
        assert snapshots.latest_many(session, "T1", {}) == {}
    assert {k: v.id for k, v in many.items()} == {k: v.id for k, v in one_by_one.items() if v is not None}
    assert many["api_response_time_p95"].value == 7.0  # the tie at one time goes to the newest row
    assert many["test_coverage_percentage"].value == 81.0
    assert "ci_success_rate_percentage" not in many and "deployments_per_week" not in many  # other team; no data
    assert before_any == {}
