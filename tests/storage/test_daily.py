"""The daily rollups: kept in step by every snapshot write, and filled from existing snapshots by migration 0006."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from storage import daily, snapshots
from storage.db import make_engine, session_scope
from storage.migrate import upgrade
from storage.models import KpiDay, KpiSnapshot, SnapshotBase
from tests import support

START = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)


def _points(count: int = 30, step: timedelta = timedelta(hours=7)) -> list[SnapshotBase]:
    return [SnapshotBase(kpi="api_response_time_p95", value=200.0 + i, at=START + step * i, source="prometheus")
            for i in range(count)]


def _expected(points: list[SnapshotBase]) -> dict[int, tuple[int, float, float, float, float]]:
    found: dict[int, list[SnapshotBase]] = {}
    for p in points:
        found.setdefault(daily.day_number(p.at), []).append(p)
    return {day: (len(ps), sum(p.value for p in ps), sum(p.at.timestamp() % 86400 for p in ps),
                  min(p.value for p in ps), max(p.value for p in ps)) for day, ps in found.items()}


def _stored(session, team: str) -> dict[int, tuple[int, float, float, float, float]]:
    rows = session.scalars(select(KpiDay).where(KpiDay.team_id == team)).all()
    return {r.day: (r.count, r.total, r.seconds, r.low, r.high) for r in rows}


def test_every_write_refreshes_the_days_it_touches(ctx):
    points = _points()
    with ctx.transaction() as session:
        snapshots.add_many(session, "T1", points[:20])
        snapshots.add_many(session, "T1", points[15:])  # overlapping: five points rewritten with the same values
        snapshots.add_many(session, "T2", points[:3])
    with ctx.reading() as session:
        assert _stored(session, "T1") == _expected(points)
        assert _stored(session, "T2") == _expected(points[:3])
        assert daily.rows(session, "T1", "api_response_time_p95", since_day=daily.day_number(points[-1].at)) == [
            ("api_response_time_p95", daily.day_number(points[-1].at), *_expected(points)[
                daily.day_number(points[-1].at)][:3])]


def test_rebuild_gives_what_the_writes_kept(ctx):
    with ctx.transaction() as session:
        snapshots.add_many(session, "T1", _points())
        kept = _stored(session, "T1")
        daily.rebuild(session, "T1")
        assert _stored(session, "T1") == kept


def test_migration_fills_the_rollups_from_existing_snapshots(tmp_path):
    engine = make_engine(support.test_database_url(tmp_path))
    upgrade(engine, "0001")
    points = _points(count=40, step=timedelta(hours=5, minutes=3))
    rows = [{"team_id": "T1", "kpi": p.kpi, "value": p.value, "at": p.at, "source": p.source, "created_at": START}
            for p in points]
    with session_scope(engine) as session:
        session.execute(insert(KpiSnapshot), rows)
    upgrade(engine)
    with session_scope(engine) as session:
        assert _stored(session, "T1") == _expected(points)
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
